"""Index writing (issue 11): our segment writer writes what Whoosh writes, staged indexes written
during the build (two processes, segments merged as files) equal a plain index of the same
site, and everything that could go stale in a stage is caught by ``build_index``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from kb.search_prewarm import Prewarmer
from search import SearchEngine, build_index, index_dir_for
from search.documents import analyze_sliced, forget_prepared, prepare_content
from search.extract import ARTICLE_OPEN, slice_page
from search.indexer import analysis_salt, html_pages, page_key, stage_dir_for
from search.schema import make_schema
from search.writer import IndexBuilder, merge_stages, read_manifest

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
    stock_files, our_files = _segment_files(stock_dir), _segment_files(tmp_path / "ours")
    assert {".pst", ".trm", "._stored.col"} <= {name[name.find("."):] for name in stock_files}
    assert our_files == stock_files


def _segment_files(folder: Path) -> dict[str, bytes]:
    """The files packed in the one segment of the index in ``folder`` (segment id left out)."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    storage = FileStorage(str(folder))
    (segment,) = TOC.read(storage, whoosh_index._DEF_INDEX_NAME).segments
    packed = segment.open_compound_file(storage)
    return {name.replace(segment.segid, ""): packed.open_file(name).read()
            for name in packed.list()}


def test_merge_stages_joins_segments_and_manifests(demo_site: Path, tmp_path: Path) -> None:
    """Two stages of disjoint pages become one index: all segments, all pages, searchable."""
    pages = _analysed(demo_site)
    half = len(pages) // 2
    salt = analysis_salt()
    folders = []
    for name, part in (("a", pages[:half]), ("b", pages[half:])):
        builder = IndexBuilder(tmp_path / name, salt)
        for i, (rel, key, (docs, words)) in enumerate(part):
            builder.add(rel, key, docs, words)
            if i % 10 == 9:
                builder.commit(merge=False)
        builder.finish({}, 0.0, lexicon=False, merge=False)
        folders.append(tmp_path / name)
    assert merge_stages(folders[0], [folders[1]])
    manifest = read_manifest(folders[0], salt)
    assert manifest is not None and set(manifest["pages"]) == {rel for rel, _, _ in pages}
    merged = _snapshot(folders[0])

    whole = IndexBuilder(tmp_path / "whole", salt)
    for rel, key, (docs, words) in pages:
        whole.add(rel, key, docs, words)
    whole.commit()
    assert merged == _snapshot(tmp_path / "whole")
    assert not merge_stages(tmp_path / "missing", [folders[1]])


def _site_copy(demo_site: Path, tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(demo_site, site, ignore=shutil.ignore_patterns(".search-index*"))
    return site


def _results(site: Path) -> dict[str, list[str]]:
    engine = SearchEngine(site)
    return {q: [h["url"] for h in engine.search(q).to_dict()["hits"]] for q in QUERIES}


@pytest.mark.parametrize("workers", [1, 2])
def test_staged_index_equals_a_plain_index(demo_site: Path, tmp_path: Path,
                                           workers: int) -> None:
    """Pages staged during the build (one process, or two each with its share of the pages)
    give the index a plain build_index gives: same sections and postings, same answers;
    nothing re-analysed."""
    site = _site_copy(demo_site, tmp_path)
    stage = stage_dir_for(site)
    pre = Prewarmer(tmp_path / "cache", stage=stage, segment_pages=7, workers=workers)
    rels = html_pages(site)
    for rel in rels:
        pre.submit(rel, (site / rel).read_text("utf-8"))
    pre.stop(60, drain=True)
    pre.close()
    assert not any(stage.parent.glob(f"{stage.name}-*")), "other stages are merged away"
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
    stage = stage_dir_for(site)
    pre = Prewarmer(tmp_path / "cache", stage=stage, segment_pages=5, workers=1)
    for rel in html_pages(site):
        pre.submit(rel, (site / rel).read_text("utf-8"))
    pre.stop(60, drain=True)
    pre.close()
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
    """Stopping without draining abandons the stage: no half-written folder stays behind."""
    site = _site_copy(demo_site, tmp_path)
    stage = stage_dir_for(site)
    pre = Prewarmer(tmp_path / "cache", stage=stage, segment_pages=5, workers=2)
    for rel in html_pages(site):
        pre.submit(rel, (site / rel).read_text("utf-8"))
    pre.stop(60)
    pre.close()
    assert not stage.exists() and not any(stage.parent.glob(f"{stage.name}-*"))


def test_prepared_sections_give_the_same_analysis(demo_site: Path) -> None:
    """Section texts analysed from the converted Markdown before the page is built are used
    as they are: the page's documents are exactly those of a fresh analysis."""
    rel = "manuals/vpn/02-windows/index.html"
    html = (demo_site / rel).read_text("utf-8")
    sliced = slice_page(html)
    fresh = analyze_sliced(rel, sliced)
    start = html.find(ARTICLE_OPEN)
    content = html[html.find(">", start) + 1: html.find("</article>", start)]
    forget_prepared()
    assert prepare_content(content) >= 3
    from search import documents

    before = len(documents._prepared)
    assert analyze_sliced(rel, sliced) == fresh
    assert len(documents._prepared) < before  # prepared texts were used (and let go)
    forget_prepared()


def test_staged_fallback_segments_equal_what_the_index_gives(demo_site: Path,
                                                             tmp_path: Path) -> None:
    """What a staging process segments for the theme's fallback index from a page's documents
    is what the fallback writer makes of the same page read back from our index."""
    from kb import search_fallback

    index_dir = index_dir_for(demo_site)
    compared = 0
    for rel, _, (docs, _) in _analysed(demo_site):
        url = docs[0]["page"]
        from_index, _ = search_fallback._segment_pages(
            search_fallback.sections(index_dir, {url}), None, procs=1)
        assert search_fallback.page_segments(docs) == from_index[url], rel
        compared += 1
    assert compared > 40


def test_fallback_writer_takes_staged_segments(demo_site: Path, tmp_path: Path) -> None:
    """A build that staged its index writes the same search_index.json, segmenting nothing."""
    import json
    from types import SimpleNamespace

    from kb import search_fallback

    site = _site_copy(demo_site, tmp_path)
    (site / search_fallback.STATE_FILE).unlink()
    stage = stage_dir_for(site)
    pre = Prewarmer(tmp_path / "cache", stage=stage, segment_pages=9, workers=2, fallback=True)
    for rel in html_pages(site):
        pre.submit(rel, (site / rel).read_text("utf-8"))
    pre.stop(60, drain=True)
    pre.close()
    assert list(site.glob(f".search-index.stage*{search_fallback.STAGED_SUFFIX}"))
    build_index(site, cache_dir=tmp_path / "cache", stage=stage)
    plugin = SimpleNamespace(config=SimpleNamespace(enabled=True), search_index=None)
    config = SimpleNamespace(plugins={search_fallback.PLUGIN: plugin}, site_dir=str(site))
    plugin.search_index = search_fallback.DeferredIndex({"lang": ["zh"]})
    segmented: list[int] = []
    real = search_fallback._segment_pages
    search_fallback._segment_pages = lambda secs, *a, **k: (segmented.append(len(secs)),
                                                            real(secs, *a, **k))[1]
    try:
        search_fallback.write(config, index_dir_for(site), cache_dir=tmp_path / "seg")
    finally:
        search_fallback._segment_pages = real
    assert segmented == [0] and not list(site.glob(".search-index.stage*"))
    staged = json.loads((site / "search" / "search_index.json").read_text("utf-8"))["docs"]
    (site / search_fallback.STATE_FILE).unlink()
    search_fallback.write(config, index_dir_for(site), cache_dir=tmp_path / "seg2")
    plain = json.loads((site / "search" / "search_index.json").read_text("utf-8"))["docs"]
    assert staged == plain and len(plain) > 200
