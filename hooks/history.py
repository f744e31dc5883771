"""Hook: versioned documents from git — last updated / authors, 修订记录, archived versions,
comparisons. Thin glue from MkDocs events to :mod:`kb.versions.site`; runs after
``hooks/documents.py`` (it reads the catalog) and before the search indexer.
"""

from __future__ import annotations

from importlib.resources import files as package_files

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from kb import buildstate
from kb.versions.site import HistorySite

CSS_URI = "assets/stylesheets/kb-history.css"


def _site(config: MkDocsConfig) -> HistorySite:
    build = buildstate.of(config)
    return build.part(HistorySite, lambda: HistorySite(build.roots, build.settings))


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Start this build's history state; link the feature's stylesheet."""
    _site(config)
    if CSS_URI not in config.extra_css:
        config.extra_css.append(CSS_URI)
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Gather git data (one pass); add archived versions and comparisons to the site."""
    css = package_files("kb").joinpath("assets/history.css").read_text("utf-8")
    if files.get_file_from_path(CSS_URI) is None:
        files.append(File.generated(config, CSS_URI, content=css))
    return _site(config).on_files(files, config)


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Banner, comparison, 修订记录, last updated line and meta tags."""
    return _site(config).on_page_content(html, page)


def on_page_context(context: dict, *, page: Page, config: MkDocsConfig, nav: object) -> dict:
    """The home page's recently updated list (every page's title is known by now)."""
    _site(config).on_page_context(page)
    return context
