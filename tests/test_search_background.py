"""The background index of a cold build: one spawned worker analyses pages while MkDocs renders
them; a closed, failing or stalled worker only costs time; no worker for a warm build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search.indexer import stage_dir_for


def _article_page(demo_site: Path) -> str:
    return (demo_site / "about" / "index.html").read_text("utf-8")


def test_background_index_analyses_changed_pages_only_and_fills_the_cache(demo_site: Path,
                                                                          tmp_path: Path) -> None:
    """Pages indexed in the background are cache hits for a later build_index; an unchanged
    page is not analysed again, a changed one is."""
    from search.mkdocs.background import BackgroundIndex
    from search import build_index, read_build_info

    cache, site = tmp_path / "cache", tmp_path / "site"
    html = _article_page(demo_site)
    (site / "about").mkdir(parents=True)
    (site / "about" / "index.html").write_text(html, "utf-8")

    def staged(page: str) -> tuple[int, int]:
        with BackgroundIndex(tmp_path / "stage", pages=1, cache_dir=cache) as background:
            background.submit("about/index.html", page)
            assert background.finish()
        info = read_build_info(tmp_path / "stage")
        assert info is not None and info.pages == 1
        return info.analysed, info.cached

    assert staged(html) == (1, 0)
    info = build_index(site, cache_dir=cache, procs=1)
    assert (info.analysed, info.cached) == (0, 1)
    assert staged(html) == (0, 1)  # unchanged: not analysed again
    changed = html.replace("</h1>", "</h1><p>新增的段落：后台分析。</p>", 1)
    assert changed != html and staged(changed) == (1, 0)


def test_closed_background_index_leaves_every_page_to_build_index(demo_site: Path,
                                                                  tmp_path: Path) -> None:
    """Closing the background worker before it finished (a failed build) stops it at once
    and removes its stage; build_index then indexes every page itself."""
    from search.mkdocs.background import BackgroundIndex
    from search import build_index

    cache, site, stage = tmp_path / "cache", tmp_path / "site", tmp_path / "site" / ".stage"
    html = _article_page(demo_site)
    background = BackgroundIndex(stage, pages=40, cache_dir=cache).start()
    for i in range(40):
        rel = f"p{i}/index.html"
        (site / f"p{i}").mkdir(parents=True)
        (site / rel).write_text(html, "utf-8")
        background.submit(rel, html)
    worker = background.worker
    background.close()
    assert not worker.is_alive() and not stage.exists()
    info = build_index(site, cache_dir=cache, procs=1)
    assert info.pages == 40 and info.analysed + info.cached == 40


def test_failing_background_worker_only_costs_time(demo_site: Path, tmp_path: Path) -> None:
    """A worker that fails (here: handed something that is not a page) ends the background
    indexing: finish says so, the stage is removed, and build_index indexes every page."""
    from search.mkdocs.background import BackgroundIndex
    from search import build_index

    site = tmp_path / "site"
    shutil.copytree(demo_site, site, ignore=shutil.ignore_patterns(".search-index*"))
    background = BackgroundIndex(stage_dir_for(site), pages=3, cache_dir=tmp_path / "c").start()
    background.submit("about/index.html", (site / "about" / "index.html").read_text("utf-8"))
    background.submit("broken/index.html", None)  # type: ignore[arg-type]
    assert background.finish() is False
    assert not stage_dir_for(site).exists()
    info = build_index(site, cache_dir=tmp_path / "c", stage=None)
    assert info.unchanged == 0 and info.pages > 40


def test_stalled_background_worker_is_given_up(demo_site: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that makes no progress (here: stopped with SIGSTOP) is given up after STALL
    seconds without progress: finish says so, the worker is killed, its stage removed."""
    import os
    import signal

    from search.mkdocs import background as search_background
    from search.mkdocs.background import BackgroundIndex

    monkeypatch.setattr(search_background, "STALL", 2.0)
    site = tmp_path / "site"
    background = BackgroundIndex(site / ".stage", pages=1, cache_dir=tmp_path / "c").start()
    os.kill(background.worker.pid, signal.SIGSTOP)
    background.submit("about/index.html", _article_page(demo_site))
    assert background.finish() is False
    assert not background.worker.is_alive() and not (site / ".stage").exists()


def test_background_index_only_for_a_cold_build(demo_site: Path, tmp_path: Path) -> None:
    """The background worker is for a site folder without an index of the current analysis
    (first, clean and publish builds); a rebuild over an index (``mkdocs serve``, ``--dirty``)
    updates that index after the build instead."""
    import json

    from search.indexer import needs_stage

    assert not needs_stage(demo_site)
    assert needs_stage(tmp_path)
    index = tmp_path / ".search-index"
    shutil.copytree(demo_site / ".search-index", index)
    assert not needs_stage(tmp_path)
    info = json.loads((index / "build.json").read_text("utf-8"))
    (index / "build.json").write_text(json.dumps({**info, "analysis": "older"}), "utf-8")
    assert needs_stage(tmp_path)
