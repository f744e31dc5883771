"""One build's notices, from ``on_files`` to ``on_post_build`` (``hooks/notices.py`` calls this).

* ``on_files``: read and validate notices (errors stop the build), add generated 制度发布 notices,
  decide what this build publishes (today, preview, audience), remove the files of withheld notices
  (scheduled, above the audience) so they leave no page, add the generated archive pages.
* ``on_page_markdown``: fill the home and archive markers.
* ``on_page_context``: banners (已过期 / 待发布) and facts above notice pages; feed ``<link>`` tags.
* ``on_page_content``: remember each notice's first paragraph (feed item descriptions).
* ``on_post_build``: write the RSS 2.0 and Atom feeds.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from kb import clock
from kb.notices.catalog import (Notices, build_catalog, category_slug, folder_of,
                              notices_of)
from kb.config import KBSettings, audience, kb_settings, preview
from kb.content.slots import slots
from kb.errors import raise_collected
from kb.notices.feeds import Channel, first_paragraph, write_feeds
from kb.notices.pages import (ARCHIVE_MARKER, HOME_MARKER, archive_files, archive_index_markdown,
                             banners, category_uri, feed_head_links, feed_uris, home_block,
                             page_url)
from kb.notices.releases import release_files

log = logging.getLogger("mkdocs.plugins.kb.announcements")


class NoticeBuild:
    """State of the notices of the build in progress."""

    def __init__(self) -> None:
        self.settings: KBSettings | None = None
        self.anns: Notices | None = None
        self.descriptions: dict[str, str] = {}
        self.feed_pages: set[str] = set()  # src_uris that get feed <link> tags

    @property
    def folder(self) -> str:
        assert self.settings is not None
        return folder_of(self.settings)

    # -- on_files --------------------------------------------------------------------------

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        settings = self.settings = kb_settings(config)
        self.descriptions, self.feed_pages = {}, set()
        catalog, errors = build_catalog(files, config, settings)
        raise_collected(errors)
        notices = notices_of(catalog)
        generated = release_files(catalog, config, settings)
        taken = {n.src_uri for n in notices}
        notices += [n for _, n in generated if n.src_uri not in taken]
        anns = self.anns = Notices.build(
            notices, today=clock.today(), preview=preview(), audience=audience(),
            categories=settings.announcement_categories)
        for file, notice in generated:
            if notice.src_uri not in taken and notice.src_uri in anns.by_uri:
                files.append(file)
        for notice in anns.withheld:
            if (file := files.get_file_from_path(notice.src_uri)) is not None:
                files.remove(file)
        for file in archive_files(anns, self.folder, settings.announcement_page_size, config):
            files.append(file)
        index_uri = f"{self.folder}/index.md"
        if anns.notices and files.get_file_from_path(index_uri) is None:
            # archive and category pages link up to the notices' landing page: provide one
            files.append(File.generated(config, index_uri, content=(
                f"---\nsearch:\n  exclude: true\n---\n\n# 通知公告\n\n{ARCHIVE_MARKER}\n")))
        return files

    # -- pages -----------------------------------------------------------------------------

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig) -> str:
        if self.anns is None or (HOME_MARKER not in markdown and ARCHIVE_MARKER not in markdown):
            return markdown
        assert self.settings is not None
        here = page.file.url
        self.feed_pages.add(page.file.src_uri)
        if HOME_MARKER in markdown:
            block = home_block(self.anns, self.settings.home_announcements, self.folder, here, config)
            markdown = markdown.replace(HOME_MARKER, f"\n\n{block}\n\n")
        if ARCHIVE_MARKER in markdown:
            block = archive_index_markdown(self.anns, self.settings.announcement_page_size,
                                           self.folder, here, config)
            markdown = markdown.replace(ARCHIVE_MARKER, block)
        return markdown

    def on_page_content(self, html: str, page: Page) -> str:
        if self.anns is not None and page.file.src_uri in self.anns.by_uri:
            self.descriptions[page.file.src_uri] = first_paragraph(html)
        return html

    def on_page_context(self, context: dict[str, Any], page: Page, config: MkDocsConfig) -> dict[str, Any]:
        if self.anns is None:
            return context
        here, src = page.file.url, page.file.src_uri
        notice = self.anns.by_uri.get(src)
        top = slots(page).top
        head = slots(page).head
        if notice is not None:
            top.extend(banners(notice, self.anns, self.folder, here, config))
        category = _category_of_page(src, self.folder, self.anns)
        if src in self.feed_pages or notice is not None or category is not None:
            head.extend(feed_head_links(self.folder, here, config.site_name, category))
        return context

    # -- feeds -----------------------------------------------------------------------------

    def on_post_build(self, config: MkDocsConfig) -> None:
        if self.anns is None:
            return
        if not config.site_url:
            log.warning("mkdocs.yml: site_url: expected the site's address (feeds need absolute "
                        "links), found nothing; no notice feeds written")
            return
        write_feeds(self.anns, self.channels(config), self.descriptions, config.site_dir)

    def channels(self, config: MkDocsConfig) -> dict[str | None, Channel]:
        """The feed of all current notices (key None) and one per category."""
        assert self.settings is not None and self.anns is not None
        tz = ZoneInfo(self.settings.timezone)
        site_url = config.site_url.rstrip("/") + "/"  # type: ignore[union-attr]
        author = config.site_author or config.site_name
        out: dict[str | None, Channel] = {}
        for category in [None, *self.anns.categories]:
            rss_path, atom_path = feed_uris(self.folder, category)
            page = (f"{self.folder}/index.md" if category is None
                    else category_uri(self.folder, category))
            page_path = page_url(page, config)
            title = f"{config.site_name} · 通知公告" + (f" · {category}" if category else "")
            description = (f"{config.site_name}当前有效的通知公告"
                           + (f"（{category}）" if category else ""))
            out[category] = Channel(title, description, site_url, page_path, rss_path, atom_path,
                                    author, tz)
        return out


def _category_of_page(src_uri: str, folder: str, anns: Notices) -> str | None:
    """The category whose generated archive page ``src_uri`` is, if any."""
    prefix = f"{folder}/category/"
    if not src_uri.startswith(prefix):
        return None
    slug = src_uri[len(prefix):].split("/", 1)[0]
    return next((c for c in anns.categories if category_slug(c) == slug), None)
