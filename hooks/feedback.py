"""Hook: the "本页有帮助吗？" widget below every content page (:mod:`kb.feedback`).

The widget is placed hidden; ``kb-feedback.js`` shows it only when ``kb serve`` answers
``GET /api/feedback`` (a static deployment has no such endpoint, so readers never see a button
that cannot work). Pages kept out of search (the search page, archived versions, comparisons)
get no widget; ``extra.kb.feedback: false`` turns it off for the whole site.
"""

from __future__ import annotations

from importlib.resources import files as package_files

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from kb import buildstate
from kb.feedback.widget import WIDGET, wants_widget

JS_URI = "assets/javascripts/kb-feedback.js"
CSS_URI = "assets/stylesheets/kb-feedback.css"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    if buildstate.of(config).settings.feedback:
        if JS_URI not in [str(s) for s in config.extra_javascript]:
            config.extra_javascript.append(JS_URI)
        if CSS_URI not in config.extra_css:
            config.extra_css.append(CSS_URI)
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    if buildstate.of(config).settings.feedback:
        assets = package_files("kb").joinpath("assets")
        for uri, name in ((JS_URI, "feedback.js"), (CSS_URI, "feedback.css")):
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri,
                                            content=assets.joinpath(name).read_text("utf-8")))
    return files


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    if buildstate.of(config).settings.feedback and wants_widget(page.meta):
        return html + WIDGET
    return html
