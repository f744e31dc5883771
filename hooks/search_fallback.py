"""Hook: the theme's fallback search index from our search index (:mod:`search.mkdocs.fallback`).

Listed right after ``hooks/search_index.py`` (it reads the index that hook writes). Material's
search plugin stays configured (search box, worker) but no longer analyses pages itself.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig

from kb import buildstate
from search.mkdocs import fallback as search_fallback


class FallbackActive:
    """Whether this build writes the theme's index from ours (set in on_config)."""

    active = False


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Take over Material's indexing when our search index hook is configured too."""
    ours = any(Path(str(h)).name == "search_index.py" for h in config.hooks)
    buildstate.of(config).part(FallbackActive).active = ours and search_fallback.install(config)
    return config


def on_post_build(*, config: MkDocsConfig) -> None:
    """Write ``search/search_index.json`` from ``SITE_DIR/.search-index``; ``api/health``, a
    static copy's answer to the pages' probe of the service."""
    search_fallback.write_static_health(config.site_dir)
    if buildstate.of(config).part(FallbackActive).active:
        from search import index_dir_for

        search_fallback.write(config, index_dir_for(config.site_dir))
