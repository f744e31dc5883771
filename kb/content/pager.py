"""上一页 / 下一页 among siblings that are not in the navigation: notices (oldest to newest) and
training courses (in the 培训目录's order). Material's footer shows ``page.previous_page`` and
``page.next_page``; MkDocs sets them from the navigation only, so pages listed on an index page
instead would have none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page


@dataclass
class SiteFiles:
    """This build's files (a build-state part, set in ``on_files`` by the hooks that page)."""

    files: Files | None = None


def link_neighbours(page: Page, order: Sequence[str], files: Files | None) -> None:
    """Set ``page``'s previous/next page to its neighbours in ``order`` (site source URIs);
    pages missing from this build are skipped. Nothing changes for a page not in ``order``."""
    if files is None:
        return
    pages = [f.page for uri in order if (f := files.get_file_from_path(uri)) is not None
             and f.page is not None]
    if page not in pages:
        return
    i = pages.index(page)
    page.previous_page = pages[i - 1] if i > 0 else None
    page.next_page = pages[i + 1] if i + 1 < len(pages) else None
