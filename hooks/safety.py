"""Hook: what writers type reaches readers as text or documentation markup, never as script.

Thin glue to :mod:`kb.content.sanitize` (sanitiser, escaped front matter) and :mod:`kb.publish.headers` (the
build's Content-Security-Policy for ``kb serve`` and nginx). Event priorities place each step:
front matter is escaped after every hook has set ``page.meta`` (documents hands the tags over)
and before Material's tags plugin reads it; content is sanitised before any hook adds its own
fragments (registers, notice lists, control block).
"""

from __future__ import annotations

import logging

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from kb import buildstate
from kb.publish import headers
from kb.content.sanitize import UNSAFE_MARKUP, Removal, clean_html, escape_meta, removals
from kb.content.sitelinks import body_start

log = logging.getLogger("mkdocs.plugins.kb.safety")


class AllowedScripts(list):
    """Hashes of the inline scripts the theme prints on this build's pages."""


def _allowed(config: MkDocsConfig) -> AllowedScripts:
    return buildstate.of(config).part(AllowedScripts)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """One storage scope for Material's head script on every page (one hash for the CSP)."""
    headers.fix_scope(config)
    return config


@event_priority(-10)  # after our hooks set page.meta, before Material's tags plugin (-50)
def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Front-matter text becomes escaped Markup before the theme prints any of it."""
    escape_meta(page.meta)
    return markdown


@event_priority(100)  # first: the writer's HTML, before our hooks add theirs
def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Sanitise the converted Markdown (raw HTML, attr_list attributes, link URLs); tell the
    writer what was removed (a warning naming file, line and what: ``kb check`` and a strict
    build fail, nothing runs either way)."""
    found = removals(html)
    if found:
        _report(found, page, config)
    return clean_html(html)


def _report(found: list[Removal], page: Page, config: MkDocsConfig) -> None:
    """One warning per removal: ``policies/x.md:12: unsafe markup ...: <script> element ...``."""
    repo_path = buildstate.of(config).roots.repo_path(page.file)
    try:
        lines = page.file.content_string.splitlines()
    except (OSError, UnicodeDecodeError, TypeError):
        lines = []
    first = body_start(lines)
    for removal in found:
        needle = removal.needle.lower()
        line = next((n for n, text in enumerate(lines[first:], first + 1)
                     if needle in text.lower()), None)
        where = f"{repo_path}:{line}" if line else repo_path
        log.warning("%s: %s %s", where, UNSAFE_MARKUP, removal.what)


def on_env(env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
    """The inline scripts the theme prints on this build's pages: the CSP's allow-list."""
    urls = [f.url for f in files.documentation_pages()]
    _allowed(config)[:] = headers.theme_script_hashes(env, config,
                                                      headers.base_urls(urls, config))
    return env


def _check(output: str, where: str, config: MkDocsConfig) -> None:
    extra = headers.unexpected_scripts(output, _allowed(config))
    if extra:
        log.warning("%s: inline script that neither the theme nor kb ships (blocked by the "
                    "site's Content-Security-Policy): %s", where,
                    ", ".join(extra[:5]))


def on_post_page(output: str, *, page: Page, config: MkDocsConfig) -> str:
    """Report a page that carries an inline script the policy does not allow."""
    _check(output, page.file.src_uri, config)
    return output


def on_post_template(output_content: str, *, template_name: str, config: MkDocsConfig) -> str:
    """The same for theme pages such as ``404.html``."""
    _check(output_content, template_name, config)
    return output_content


def on_post_build(*, config: MkDocsConfig) -> None:
    """Write the site's headers for ``kb serve`` and nginx (``SITE_DIR/.kb-headers/``)."""
    headers.write(config.site_dir, _allowed(config))
