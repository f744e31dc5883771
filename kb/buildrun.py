"""Run one MkDocs build in-process and record what happened, for ``kb check`` and ``kb publish``.

:func:`run_build` loads ``mkdocs.yml`` (with the hooks it lists), builds into a given folder and
returns a :class:`BuildRun`: every page built (repository path of its source, output file,
Markdown source), the warnings and errors MkDocs and our hooks logged, and the
:class:`kb.errors.ContentError` rows of a failed build. Nothing is printed; the caller decides how
to report. A small recorder plugin is added to the loaded configuration for this; it changes
nothing in the output.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import Abort, ConfigurationError, MkDocsException
from mkdocs.plugins import BasePlugin
from mkdocs.structure.pages import Page

from kb.content.sanitize import page_title_text
from kb.errors import ContentError, ContentErrors
from kb.content.yamlguard import ExpandingConfig, check_config_file

#: name under which the recorder is added to ``config.plugins``
RECORDER_NAME = "kb-build-recorder"


@dataclass
class BuiltPage:
    """One Markdown page of the build."""

    repo_path: str  # source, relative to the project folder (``policies/network.md``)
    src_uri: str  # MkDocs' source URI (``policies/network.md``, ``index.md``)
    dest_path: str  # output file, relative to the site folder (``policies/network/index.html``)
    url: str  # site URL relative to the root (``policies/network/``)
    markdown: str  # the source text as read (front matter removed by MkDocs)
    source: str  # the whole source file as on disk ("" when it has none)
    title: str | None = None  # the page title MkDocs settled on


@dataclass
class LogRecord:
    """A warning or error logged during the build."""

    level: str  # WARNING, ERROR, CRITICAL
    logger: str
    message: str


@dataclass
class BuildRun:
    """What one build did."""

    project_dir: Path
    site_dir: Path
    config: MkDocsConfig | None = None
    pages: list[BuiltPage] = field(default_factory=list)
    records: list[LogRecord] = field(default_factory=list)
    content_errors: list[ContentError] = field(default_factory=list)
    failure: str | None = None  # why the build stopped (None when it finished)
    finished: bool = False  # on_post_build ran: every page was written

    @property
    def ok(self) -> bool:
        """Finished with no warning, error or content error (what ``--strict`` demands)."""
        return self.finished and not self.records and not self.content_errors and not self.failure

    def page_by_dest(self) -> dict[str, BuiltPage]:
        return {p.dest_path: p for p in self.pages}


class _Recorder(BasePlugin):  # type: ignore[type-arg]
    """Plugin events that note the pages built and the error a build stopped with."""

    def __init__(self, run: BuildRun) -> None:
        super().__init__()
        self.run = run
        self.project_dir = run.project_dir

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        file = page.file
        source = ""
        repo_path = file.src_uri
        if file.abs_src_path:
            repo_path = Path(os.path.relpath(file.abs_src_path, self.project_dir)).as_posix()
            try:
                source = Path(file.abs_src_path).read_text(encoding="utf-8")
            except OSError:
                source = ""
        self.run.pages.append(BuiltPage(repo_path, file.src_uri, file.dest_uri, file.url,
                                        page.markdown or "", source,
                                        page_title_text(page.title) or None))
        return output

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self.run.finished = True

    def on_build_error(self, *, error: Exception) -> None:
        if isinstance(error, ContentErrors):
            self.run.content_errors.extend(error.errors)
        elif self.run.failure is None and not isinstance(error, Abort):
            self.run.failure = f"{type(error).__name__}: {error}"


class _Capture(logging.Handler):
    def __init__(self, run: BuildRun) -> None:
        super().__init__(logging.WARNING)
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        self.run.records.append(LogRecord(record.levelname, record.name, record.getMessage()))


def find_config(path: str, command: str) -> Path | None:
    """``path`` (a ``-f`` option) when it is a file; else say so on stderr and return None."""
    if Path(path).is_file():
        return Path(path)
    print(f"kb {command}: {path}: no such file (run in the repository or use -f)",
          file=sys.stderr)
    return None


def load(config_file: str | os.PathLike[str], **overrides: Any) -> MkDocsConfig:
    """Load ``mkdocs.yml`` as MkDocs does (hooks imported, plugins set up), once
    :func:`kb.content.yamlguard.check_config_file` has found it does not expand beyond reason."""
    check_config_file(config_file)
    return load_config(config_file=str(config_file), **overrides)


def run_build(config_file: str | os.PathLike[str], site_dir: str | os.PathLike[str], *,
              strict: bool = True, env: Mapping[str, str] | None = None,
              kb_overrides: Mapping[str, Any] | None = None) -> BuildRun:
    """Build ``config_file`` into ``site_dir`` and return what happened; never raises for
    content or configuration problems (they are in the result)."""
    config_path = Path(config_file).resolve()
    run = BuildRun(project_dir=config_path.parent, site_dir=Path(site_dir).resolve())
    capture = _Capture(run)
    mkdocs_log = logging.getLogger("mkdocs")
    saved = (mkdocs_log.propagate, mkdocs_log.level)
    mkdocs_log.addHandler(capture)
    mkdocs_log.propagate = False
    if mkdocs_log.level == logging.NOTSET or mkdocs_log.level > logging.WARNING:
        mkdocs_log.setLevel(logging.WARNING)
    old_env = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    old_cwd = os.getcwd()
    os.chdir(run.project_dir)  # hooks and git calls expect the project folder
    try:
        try:
            config = load(config_path, site_dir=str(run.site_dir), strict=strict)
        except ExpandingConfig as exc:
            run.content_errors.append(exc.error)
            return run
        except (ConfigurationError, MkDocsException) as exc:
            run.failure = f"mkdocs.yml: {exc}"
            return run
        if kb_overrides:
            extra_kb = dict((config["extra"] or {}).get("kb") or {})
            extra_kb.update(kb_overrides)
            config["extra"]["kb"] = extra_kb
        config.plugins[RECORDER_NAME] = _Recorder(run)
        run.config = config
        from mkdocs.commands.build import build

        try:
            build(config)
        except Abort as exc:
            if not run.content_errors and run.failure is None and not run.records:
                run.failure = str(exc)
        except Exception as exc:  # a hook crashed: report it, do not hide it
            if run.failure is None:
                run.failure = f"{type(exc).__name__}: {exc}"
    finally:
        os.chdir(old_cwd)
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        mkdocs_log.removeHandler(capture)
        mkdocs_log.propagate, _ = saved
        mkdocs_log.setLevel(saved[1])
    # a ContentError is logged once by raise_collected and raised: keep the structured copy only
    logged = {str(e) for e in run.content_errors}
    run.records = [r for r in run.records if r.message not in logged
                   and not r.message.startswith("Aborted with")
                   and not (logged and all(text in r.message for text in logged))]
    return run

