"""Index writing (issues 11, 18): our segment writer writes what Whoosh writes, the index staged
during the build by the background worker equals a plain index of the same site, and everything
that could go stale in a stage is caught by ``build_index``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import loaded_config
from whoosh import index as whoosh_index

from search.mkdocs.background import BackgroundIndex
from search import SearchEngine, build_index, index_dir_for
from search.documents import analyze_sliced
from search.extract import slice_page
from search.indexer import analysis_salt, html_pages, page_key, stage_dir_for
from search.schema import make_schema
from search.whoosh_compat import segment_files
from search.writer import IndexBuilder

QUERIES = ("VPN", "口令", "数据备份", "机房", "OA 请假")


def _analysed(site: Path, limit: int | None = None) -> list[tuple[str, str, tuple]]:
    out = []
    salt = analysis_salt()
    for rel in html_pages(site)[:limit]:
        sliced = slice_page((site / rel).read_text("utf-8"))
        if sliced:
            out.append((rel, page_key(salt, rel, sliced), analyze_sliced(rel, sliced)))
    return out


def _postings(matcher) -> list:
    out = []
    while matcher.is_active():
        out.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return out


def _snapshot(folder: Path) -> dict:
    ix = whoosh_index.open_dir(str(folder))
    with ix.reader() as r:
        ids = {d: f["id"] for d, f in r.iter_docs()}
        terms = {key: sorted((ids[d], w, v) for d, w, v in _postings(r.postings(*key)))
                 for key in r.all_terms()}
        lengths = {(ids[d], f): r.doc_field_length(d, f) or 0 for d in ids
                   for f in r.schema.names() if r.schema[f].scorable}
        stored = {ids[d]: f for d, f in r.iter_docs()}
    return {"terms": terms, "lengths": lengths, "stored": stored}


def test_segment_writer_writes_what_whoosh_writes(demo_site: Path, tmp_path: Path) -> None:
    """Same documents through Whoosh's own writer and ours: identical terms, postings (doc,
    weight, encoded positions), field lengths and stored fields."""
    pages = _analysed(demo_site)
    stock_dir = tmp_path / "stock"
    stock_dir.mkdir()
    ix = whoosh_index.create_in(str(stock_dir), make_schema())
    writer = ix.writer()
    for _, _, (docs, _) in pages:
        for doc in docs:
            writer.add_document(**doc)
    writer.commit()

    ours = IndexBuilder(tmp_path / "ours", analysis_salt())
    for rel, key, (docs, words) in pages:
        ours.add(rel, key, docs, words)
    ours.commit()

    stock, mine = _snapshot(stock_dir), _snapshot(tmp_path / "ours")
    assert len(stock["stored"]) > 200 and len(stock["terms"]) > 1000
    assert mine == stock
    # byte for byte: postings with their block statistics, term infos, length columns
    stock_files, our_files = segment_files(stock_dir), segment_files(tmp_path / "ours")
    assert {".pst", ".trm", "._stored.col"} <= {name[name.find("."):] for name in stock_files}
    assert our_files == stock_files


def _site_copy(demo_site: Path, tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(demo_site, site, ignore=shutil.ignore_patterns(".search-index*"))
    return site


def _results(site: Path) -> dict[str, list[str]]:
    engine = SearchEngine(site)
    return {q: [h["url"] for h in engine.search(q).to_dict()["hits"]] for q in QUERIES}


def _stage(site: Path, cache: Path, pages: int, fallback: bool = False) -> Path:
    """Hand every page of ``site`` to a background worker sized for a build of ``pages``
    pages (its segment size), as a build would; return the complete stage."""
    stage = stage_dir_for(site)
    with BackgroundIndex(stage, pages=pages, cache_dir=cache,
                         fallback=fallback) as background:
        for rel in html_pages(site):
            background.submit(rel, (site / rel).read_text("utf-8"))
        assert background.finish()
    return stage


def test_staged_index_equals_a_plain_index(demo_site: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages staged during the build (in several segments) give the index a plain
    build_index gives: same sections and postings, same answers; nothing re-analysed."""
    from search.mkdocs import background as search_background

    monkeypatch.setattr(search_background, "MIN_SEGMENT_PAGES", 7)
    site = _site_copy(demo_site, tmp_path)
    stage = _stage(site, tmp_path / "cache", 7)
    assert len(list(stage.glob("*.seg"))) > 3  # committed along the way, not at the end
    staged = build_index(site, cache_dir=tmp_path / "cache", stage=stage)
    assert not stage.exists() and staged.analysed == 0 and staged.unchanged == staged.pages
    snapshot, answers = _snapshot(index_dir_for(site)), _results(site)
    lexicon = (index_dir_for(site) / "lexicon.json").read_text("utf-8")
    manifest = json.loads((index_dir_for(site) / "pages.json").read_text("utf-8"))

    shutil.rmtree(index_dir_for(site))
    plain = build_index(site, cache_dir=tmp_path / "plain-cache")
    assert (plain.pages, plain.documents) == (staged.pages, staged.documents)
    assert _snapshot(index_dir_for(site)) == snapshot
    assert (index_dir_for(site) / "lexicon.json").read_text("utf-8") == lexicon
    # the same keys and file digests, the same pages left out: the next build skips the same
    assert json.loads((index_dir_for(site) / "pages.json").read_text("utf-8")) == manifest
    assert _results(site) == answers and any(answers.values())


def test_page_changed_after_staging_is_indexed_again(demo_site: Path, tmp_path: Path) -> None:
    """A page whose written HTML differs from what was staged (a later hook rewrote it) is
    analysed again; a staged page that is gone from the site is dropped."""
    site = _site_copy(demo_site, tmp_path)
    stage = _stage(site, tmp_path / "cache", 5)
    page = site / "about" / "index.html"
    page.write_text(page.read_text("utf-8").replace("</h1>", "</h1><p>写入后改动的段落。</p>", 1),
                    "utf-8")
    gone = next(p for p in html_pages(site) if p.startswith("training/") and p.count("/") > 1)
    (site / gone).unlink()
    info = build_index(site, cache_dir=tmp_path / "cache", stage=stage)
    assert info.analysed == 1 and info.unchanged == info.pages - 1
    engine = SearchEngine(site)
    assert engine.search("写入后改动").to_dict()["hits"][0]["url"] == "about/"
    urls = {h["url"] for q in ("培训",) for h in engine.search(q, size=50).to_dict()["hits"]}
    assert gone.removesuffix("index.html") not in urls


def test_incomplete_stage_is_discarded(demo_site: Path, tmp_path: Path) -> None:
    """A stage without its build record (a process stopped half-way) is removed and ignored."""
    site = _site_copy(demo_site, tmp_path)
    stage = stage_dir_for(site)
    builder = IndexBuilder(stage, analysis_salt())
    rel, key, (docs, words) = _analysed(site, 3)[-1]
    builder.add(rel, key, docs, words)
    builder.commit()  # segments but no pages.json/build.json
    info = build_index(site, cache_dir=tmp_path / "cache", stage=stage)
    assert not stage.exists() and info.unchanged == 0 and info.pages > 40


def test_stopped_stage_leaves_no_folder(demo_site: Path, tmp_path: Path) -> None:
    """Closing the worker before the end of the build abandons the stage: no half-written
    folder (nor fallback segments) stays behind, and no worker."""
    site = _site_copy(demo_site, tmp_path)
    stage = stage_dir_for(site)
    background = BackgroundIndex(stage, pages=5, cache_dir=tmp_path / "cache",
                                 fallback=True).start()
    for rel in html_pages(site):
        background.submit(rel, (site / rel).read_text("utf-8"))
    background.close()
    assert not background.worker.is_alive()
    assert not list(site.glob(".search-index.stage*"))


def test_staged_fallback_segments_equal_what_the_index_gives(demo_site: Path,
                                                             tmp_path: Path) -> None:
    """What a staging process segments for the theme's fallback index from a page's documents
    is what the fallback writer makes of the same page read back from our index."""
    from search.mkdocs import fallback as search_fallback

    index_dir = index_dir_for(demo_site)
    compared = 0
    for rel, _, (docs, _) in _analysed(demo_site):
        url = docs[0]["page"]
        from_index, _ = search_fallback._segment_pages(
            search_fallback.sections(index_dir, {url}), None, procs=1)
        assert search_fallback.page_segments(docs) == from_index[url], rel
        compared += 1
    assert compared > 40


def test_fallback_writer_takes_staged_segments(demo_site: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that staged its index writes the same search_index.json, segmenting nothing."""
    import json

    from search.mkdocs import fallback as search_fallback

    site = _site_copy(demo_site, tmp_path)
    (site / search_fallback.STATE_FILE).unlink()
    stage = _stage(site, tmp_path / "cache", 9, fallback=True)
    assert list(site.glob(f".search-index.stage*{search_fallback.STAGED_SUFFIX}"))
    build_index(site, cache_dir=tmp_path / "cache", stage=stage)
    config = loaded_config(site)  # Material's search plugin given our deferred index
    assert isinstance(config.plugins[search_fallback.PLUGIN].search_index,
                      search_fallback.DeferredIndex)
    segmented: list[int] = []
    real = search_fallback._segment_pages
    monkeypatch.setattr(search_fallback, "_segment_pages", lambda secs, *a, **k: (
        segmented.append(len(secs)), real(secs, *a, **k))[1])
    search_fallback.write(config, index_dir_for(site), cache_dir=tmp_path / "seg")
    monkeypatch.undo()
    assert segmented == [0] and not list(site.glob(".search-index.stage*"))
    staged = json.loads((site / "search" / "search_index.json").read_text("utf-8"))["docs"]
    (site / search_fallback.STATE_FILE).unlink()
    search_fallback.write(config, index_dir_for(site), cache_dir=tmp_path / "seg2")
    plain = json.loads((site / "search" / "search_index.json").read_text("utf-8"))["docs"]
    assert staged == plain and len(plain) > 200
