"""Hook: write the search index of the built site (``SITE_DIR/.search-index``) after the build.

Thin glue to :func:`search.build_index`; listed last in mkdocs.yml so it reads the final HTML.
"""

from __future__ import annotations

import logging

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.plugins.kb.search")


def on_page_context(context, *, page, config, nav):
    """Mark pages whose front matter says ``search: exclude: true`` (results page, notice
    archive listings, tag index) with ``<meta name="kb:noindex">`` so the indexer skips them."""
    from search.extract import noindex_tag

    head = getattr(page, "kb_head", None) or []
    tag = noindex_tag(page.meta, head)
    if tag:
        head.append(tag)
        page.kb_head = head  # type: ignore[attr-defined]
    return context


def on_post_build(*, config: MkDocsConfig) -> None:
    """Index every page of the built site; a failure stops the build (the old index stays)."""
    from search import build_index
    from search.indexer import stage_dir_for

    stage = stage_dir_for(config.site_dir)
    try:
        info = build_index(config.site_dir, stage=stage if stage.is_dir() else None)
    except (OSError, ValueError) as exc:
        raise PluginError(f"search index of {config.site_dir} could not be written: {exc}") from exc
    log.info("search: %d pages, %d sections indexed (build %s)", info.pages, info.documents,
             info.build_id)
