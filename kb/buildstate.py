"""The state of one build, on one object that the hooks fetch from the build's config.

MkDocs loads the configuration again for every build (``mkdocs serve`` too, on each rebuild),
and our hooks keep nothing between builds: what a build learns (the catalog, this build's PDFs,
the link rewriters' current page, the background index worker…) lives on the
:class:`BuildState` of that build's config, created by the first hook's ``on_config``
(:func:`start`) and found by the others with :func:`of`. So an in-process second build sees
its own catalog, never the previous one's, and nothing stays at module level.

The state is registered in ``config.plugins`` (as :data:`NAME`), like a plugin: events that get
no config (``on_build_error``, ``on_shutdown``) reach it there, and close what the build
started (:meth:`BuildState.when_done`). Code that ran a build (``kb check``, ``kb pdf``) reads the
state from the config it built with (:func:`of`).

Feature state that only one hook uses is a *part*: ``of(config).part(LinkState)`` makes one
``LinkState()`` per build on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

    from kb.content.catalog import Catalog
    from kb.config import KBSettings, Level
    from kb.print.buttons import PrintBuild

#: the key of the state in ``config.plugins``
NAME = "kb/build-state"

T = TypeVar("T")


class BuildState:
    """What one build knows; see the module docstring."""

    def __init__(self, config: MkDocsConfig) -> None:
        from kb.config import audience, kb_settings
        from kb.content.roots import ContentRoots

        self.settings: KBSettings = kb_settings(config)
        self.roots: ContentRoots = ContentRoots.from_config(config, self.settings)
        self.audience: Level = audience()
        self._catalog: Catalog | None = None
        #: this build's PDFs (hooks/print.py), read by ``kb pdf`` after the build
        self.print: PrintBuild | None = None
        self._parts: dict[type, Any] = {}
        self._closers: list[Callable[[], None]] = []

    # ----------------------------------------------------------------------------- catalog

    @property
    def catalog(self) -> Catalog:
        """The catalog of this build (``hooks/documents.py`` builds it in ``on_files``)."""
        if self._catalog is None:
            raise RuntimeError("no catalog yet: hooks/documents.py builds it in on_files and "
                               "must be listed before this hook in mkdocs.yml")
        return self._catalog

    @catalog.setter
    def catalog(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def has_catalog(self) -> bool:
        return self._catalog is not None

    def catalog_for(self, files) -> Catalog:
        """This build's catalog, or one read from ``files`` now when ``hooks/documents.py`` is
        not listed (the hooks that only read the catalog also work alone)."""
        if self._catalog is None:
            from kb.content.catalog import build_catalog

            self._catalog = build_catalog(files, self.settings, self.roots)
        return self._catalog

    # ------------------------------------------------------------------------------- parts

    def part(self, cls: type[T], make: Callable[[], T] | None = None) -> T:
        """This build's ``cls`` object (made by ``make``, or ``cls()``, on first use)."""
        value = self._parts.get(cls)
        if value is None:
            value = self._parts[cls] = (make or cls)()
        return value

    # ------------------------------------------------------------------ end of the build

    def when_done(self, close: Callable[[], None]) -> None:
        """Call ``close`` when the build fails or the server stops (first registered, last)."""
        self._closers.append(close)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    # the two MkDocs events that get no config, received as a registered plugin
    def on_build_error(self, *, error: Exception) -> None:
        self.close()

    def on_shutdown(self) -> None:
        self.close()


def start(config: MkDocsConfig) -> BuildState:
    """A fresh state for the build of ``config`` (replacing one an earlier build left)."""
    old = config.plugins.get(NAME)
    if isinstance(old, BuildState):
        old.close()
    state = BuildState(config)
    config.plugins[NAME] = state  # type: ignore[assignment]  # an event receiver, not a plugin
    return state


def of(config: MkDocsConfig) -> BuildState:
    """The state of the build of ``config`` (started now when no hook has started it)."""
    state = config.plugins.get(NAME)
    return state if isinstance(state, BuildState) else start(config)
