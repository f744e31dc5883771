"""Breadcrumbs for pages kept out of the navigation (policies, courses, notices, archived
versions): each such page gets the nearest navigation page of its folders as ``parent``.

Material's breadcrumbs (``navigation.path``) and the active tab follow ``page.parent``; MkDocs
leaves it ``None`` for a page that is not in ``nav``, so a policy showed no 首页 › 制度 and no tab
lit up. ``policies/network.md`` gets ``policies/index.md`` (制度), a notice
``announcements/index.md`` (通知公告), a course ``training/index.md`` (培训), an archived
version ``policies/XXZX-ZD-005/v1.0.md`` the policies index too.
"""

from __future__ import annotations

import posixpath

from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation


def adopt_orphans(nav: Navigation, files: Files) -> int:
    """Set ``parent`` of every page outside ``nav``; the number of pages adopted."""
    in_nav = {page.file.src_uri: page for page in nav.pages}
    adopted = 0
    for file in files.documentation_pages():
        page = file.page
        if page is None or file.src_uri in in_nav or page.parent is not None or page.is_homepage:
            continue
        folder = posixpath.dirname(file.src_uri)
        if posixpath.basename(file.src_uri) == "index.md":
            folder = posixpath.dirname(folder)
        while folder:
            index = in_nav.get(f"{folder}/index.md")
            if index is not None:
                page.parent = index  # type: ignore[assignment]  # a Page as parent: its link
                adopted += 1
                break
            folder = posixpath.dirname(folder)
    return adopted
