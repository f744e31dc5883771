"""The security headers of a build, decided at build time from what the theme and we ship.

The Content-Security-Policy allows, besides same-origin files, exactly the inline scripts that
Material's templates print (:data:`THEME_SCRIPTS`, rendered here with this build's
configuration) and those of our overrides (none: ours are files). It never depends on what a
page contains: a ``<script>`` or ``on…=`` handler that reached a page some other way stays
blocked, and :func:`unexpected_scripts` reports such a script at build time (a warning: strict
builds and ``kb check`` fail).

Material's first inline script embeds the page's ``base_url`` (``"."``, ``".."``, …) as the
scope of its browser storage; :func:`fix_scope` sets ``extra.scope`` to the site's own path
(what those relative URLs resolve to anyway), so the script is the same on every page and the
policy does not change when a deeper page is added.

:func:`write` puts the policy where both servers take it from, inside the build but in a dot
folder no server sends (``SITE_DIR/.kb-headers/``):

* ``headers.json`` — ``{"content_security_policy": …, "headers": [[name, value], …]}``, read by
  ``kb serve`` (:class:`search.csp.SitePolicy`) for every file of the site;
* ``nginx.conf`` — the same headers as ``add_header … always;`` lines, included by the nginx
  recipe (``deploy/nginx/``) in every location that serves the site's files.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig

from kb.atomic import write_atomic
from search.csp import BASE_HEADERS, inline_script_hashes, page_sources, site_policy

log = logging.getLogger("mkdocs.plugins.kb.headers")

#: folder of the build's header files (a dot folder: never served)
HEADERS_DIR = ".kb-headers"
#: Material 9.8.2 templates that print an inline ``<script>`` and when a page includes them
THEME_SCRIPTS: dict[str, str] = {
    "partials/javascripts/base.html": "always",
    "partials/javascripts/palette.html": "palette",
    "partials/javascripts/content.html": "always",
    "partials/javascripts/announce.html": "announce.dismiss",
    "partials/javascripts/outdated.html": "version",
    "partials/javascripts/consent.html": "consent",
}


def fix_scope(config: MkDocsConfig) -> None:
    """Give Material's storage scope one value for every page: the site's path."""
    extra = config.extra
    if not extra.get("scope"):
        extra["scope"] = urlsplit(config.site_url or "/").path or "/"


def _wanted(condition: str, config: MkDocsConfig, features: list[str]) -> bool:
    if condition == "always":
        return True
    if condition == "palette":
        return bool(config.theme.get("palette"))
    if condition in ("version", "consent"):
        return bool(config.extra.get(condition))
    return condition in features


def theme_script_hashes(env: Environment, config: MkDocsConfig,
                        base_urls: Iterable[str]) -> list[str]:
    """CSP sources of the inline scripts the theme prints on pages with these ``base_urls``."""
    features = list(config.theme.get("features") or [])
    found: list[str] = []
    for name, condition in THEME_SCRIPTS.items():
        if not _wanted(condition, config, features):
            continue
        template = env.get_template(name)
        for base_url in sorted(set(base_urls)):
            html = template.render(config=config, base_url=base_url, features=features)
            for source in page_sources(html.encode("utf-8")):
                if source not in found:
                    found.append(source)
    return sorted(found)


def base_urls(page_urls: Iterable[str], config: MkDocsConfig) -> set[str]:
    """The ``base_url`` MkDocs gives each page, and the one of theme pages such as 404.html."""
    from mkdocs.utils import get_relative_url

    urls = {get_relative_url(".", url) for url in page_urls}
    urls.add(urlsplit(config.site_url or "/").path)
    return urls


def unexpected_scripts(html: str, allowed: Iterable[str]) -> list[str]:
    """Hashes of the inline scripts of a finished page that the policy does not allow.

    Event handlers are not looked for here: the policy allows none (no ``'unsafe-hashes'``),
    content can carry none (:mod:`kb.content.sanitize`), and finding attributes in a whole page costs
    about ten times what finding its scripts does."""
    allow = set(allowed)
    return [s for s in inline_script_hashes(html.encode("utf-8")) if s not in allow]


def policy(hashes: Iterable[str]) -> str:
    """The site's Content-Security-Policy allowing exactly these inline-script hashes."""
    return site_policy(sorted(hashes))


def header_lines(hashes: Iterable[str]) -> list[tuple[str, str]]:
    """Every header a file of the site is sent with (CSP first)."""
    return [("Content-Security-Policy", policy(hashes)), *BASE_HEADERS]


def nginx_include(headers: list[tuple[str, str]]) -> str:
    """``add_header`` lines for nginx (values never contain a double quote or backslash)."""
    lines = ["# Generated by the build (kb/publish/headers.py): the headers kb serve sends with the",
             "# site's files. Include in every location that serves them; nginx reads it on",
             "# (re)load."]
    for name, value in headers:
        if '"' in value or "\\" in value or "$" in value:
            raise ValueError(f"header {name} cannot be written for nginx: {value!r}")
        lines.append(f'add_header {name} "{value}" always;')
    return "\n".join(lines) + "\n"


def write(site_dir: str | os.PathLike[str], hashes: Iterable[str]) -> Path:
    """Write ``headers.json`` and ``nginx.conf`` into ``SITE_DIR/.kb-headers/``."""
    headers = header_lines(hashes)
    folder = Path(site_dir) / HEADERS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"content_security_policy": headers[0][1],
                            "script_hashes": sorted(hashes),
                            "headers": [list(h) for h in headers]}
    for name, text in (("headers.json", json.dumps(data, indent=2) + "\n"),
                       ("nginx.conf", nginx_include(headers))):
        write_atomic(folder / name, text)
    return folder
