"""Hook: 阅知确认 — the confirmation button on policies with ``acknowledge: required`` and the
build's manifest of what staff must confirm (``SITE/.kb-acks.json``, read by ``kb serve``).

Thin glue from MkDocs events to :mod:`kb.acks` (runs after ``hooks/documents.py``, whose catalog
it reads, and before ``hooks/search_index.py``). This build's requirements live on the build
state (:mod:`kb.buildstate`), nothing at module level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from importlib.resources import files as package_files

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb import buildstate
from kb.acks.declare import requirements
from kb.acks.manifest import Requirement, write_manifest
from kb.acks.page import block
from kb.clock import today
from kb.content.slots import slots

ASSETS = {"assets/javascripts/kb-ack.js": "kb-ack.js", "assets/stylesheets/kb-ack.css": "kb-ack.css"}


@dataclass
class AckBuild:
    """This build's requirements, by doc_id."""

    reqs: dict[str, Requirement] = field(default_factory=dict)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Link the feature's script and stylesheet."""
    for uri in ASSETS:
        target = config.extra_javascript if uri.endswith(".js") else config.extra_css
        if uri not in [str(item) for item in target]:
            target.append(uri)
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add the script and stylesheet; decide this build's requirements from the catalog."""
    state = buildstate.of(config)
    source = package_files("kb.acks").joinpath("assets")
    for uri, name in ASSETS.items():
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri,
                                        content=source.joinpath(name).read_text("utf-8")))
    state.part(AckBuild).reqs = {r.doc_id: r for r in
                                 requirements(state.catalog_for(files), state.settings)}
    return files


def on_page_context(context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                    nav: Navigation) -> dict[str, Any]:
    """Put the (hidden) confirmation form of a required policy in the page's top slot: below
    the control block (hooks/documents.py, earlier in the list), not after the page's end."""
    state = buildstate.of(config)
    reqs = state.part(AckBuild).reqs
    entry = state.catalog.by_src_uri(page.file.src_uri)
    if entry is not None and entry.type == "policy" and entry.doc_id in reqs:
        slots(page).top.append(str(block(reqs[entry.doc_id], page.url, today())))
    return context


def on_post_build(*, config: MkDocsConfig) -> None:
    """Write ``.kb-acks.json`` for ``kb serve``."""
    state = buildstate.of(config)
    write_manifest(config.site_dir, list(state.part(AckBuild).reqs.values()),
                   state.settings.timezone)
