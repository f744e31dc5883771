"""Scale work (issues 11, 18): the theme's fallback search index written from our index, its cache;
the background index of a cold build; index updates."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

from search.mkdocs import fallback as search_fallback
from search.mkdocs.fallback import ZWSP, SegmentCache, segment
from search.indexer import stage_dir_for


def test_segment_joins_chinese_words_with_zero_width_spaces() -> None:
    """Chinese runs are cut into words joined by U+200B; other text is left alone."""
    out = segment("修改密码 VPN 客户端")
    assert out.replace(ZWSP, "") == "修改密码 VPN 客户端"
    assert f"{ZWSP}客户端" in out and not out.startswith(ZWSP)


def test_segment_cache_skips_unchanged_and_redoes_changed_sections(tmp_path: Path) -> None:
    """A second build segments nothing that is unchanged and only the section that changed."""
    path = tmp_path / "segments.pickle"
    items = [("口令管理", "口令长度不少于十二位。"), ("备份", "每周备份一次数据库。")]
    first = SegmentCache(path)
    done = first.resolve(items, procs=1)
    assert first.misses == 2 and ZWSP in done[0][1]
    first.save()

    again = SegmentCache(path)
    assert again.resolve(items, procs=1) == done and again.misses == 0

    changed = [items[0], ("备份", "每天备份一次数据库。")]
    third = SegmentCache(path)
    out = third.resolve(changed, procs=1)
    assert third.misses == 1
    assert out[0] == done[0] and out[1] != done[1] and "每天" in out[1][1]


def test_segment_cache_escapes_text_and_survives_a_corrupt_file(tmp_path: Path) -> None:
    """Section text is HTML-escaped (the theme shows it as HTML); a broken cache is ignored."""
    path = tmp_path / "segments.pickle"
    path.write_bytes(b"not a pickle")
    cache = SegmentCache(path)
    (title, text), = cache.resolve([("脚本", "<script>alert(1)</script> 注入")], procs=1)
    assert "<script>" not in text and "&lt;script&gt;" in text and cache.misses == 1


def _whoosh_sections(site: Path) -> list[dict]:
    return search_fallback.sections(site / ".search-index")


def test_fallback_index_has_every_section_of_our_index(demo_site: Path) -> None:
    """search/search_index.json lists our sections, minus pages marked ``search: exclude``."""
    data = json.loads((demo_site / "search" / "search_index.json").read_text("utf-8"))
    assert data["config"]["lang"] == ["zh"] and "\\u200b" in data["config"]["separator"]
    with open(demo_site / search_fallback.STATE_FILE, "rb") as fh:
        flags = pickle.load(fh)["flags"]
    excluded = {url for url, f in flags.items() if f.get("exclude")}
    assert excluded, "the demo has generated pages that Material search leaves out"
    secs = _whoosh_sections(demo_site)
    expected = {s["id"] for s in secs if s["page"] not in excluded}
    locations = [d["location"] for d in data["docs"]]
    assert set(locations) == expected and len(locations) == len(expected)
    assert not any(loc.split("#")[0] in excluded for loc in locations)
    assert any(ZWSP in d["text"] for d in data["docs"])  # Chinese segmented for the worker


def test_material_search_box_and_worker_still_in_pages(demo_site: Path) -> None:
    """The theme still renders its search dialog and its worker configuration."""
    page = (demo_site / "about" / "index.html").read_text("utf-8")
    assert 'data-md-component="search"' in page and "workers/search." in page


@pytest.mark.browser
def test_material_search_answers_from_our_fallback(browser, demo_site: Path,
                                                           static_server) -> None:
    """Without the search API, Material's search answers from our segmented JSON."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(static_server(demo_site) + "about/")
        page.wait_for_selector("html[data-kb-search=down]", state="attached")
        page.click("[data-md-component=search-query]")
        page.keyboard.type("VPN", delay=30)
        page.wait_for_selector(".md-search-result__item")
        found = page.locator(".md-search-result__item").all_inner_texts()
        assert any("VPN" in t and ZWSP in t for t in found), found  # our segmented entries
    finally:
        context.close()


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


def test_incremental_index_replaces_changed_pages_without_duplicates(demo_site: Path,
                                                                     tmp_path: Path) -> None:
    """Changed pages (the home page, URL '', too) are replaced, not added twice."""
    import shutil

    from search import build_index, index_dir_for

    site, cache = tmp_path / "site", tmp_path / "cache"
    shutil.copytree(demo_site, site)
    shutil.rmtree(index_dir_for(site))
    build_index(site, cache_dir=cache)
    for rel in ("index.html", "about/index.html"):
        page = site / rel
        page.write_text(page.read_text("utf-8").replace("</h1>", "</h1><p>增量更新测试。</p>", 1),
                        "utf-8")
    update = build_index(site, cache_dir=cache)
    assert update.analysed == 2 and update.unchanged == update.pages - 2
    from collections import Counter

    ids = Counter(s["id"] for s in search_fallback.sections(index_dir_for(site)))
    assert sum(ids.values()) == update.documents and ids[""] == 1 and ids["about/"] == 1
    shutil.rmtree(index_dir_for(site))
    assert build_index(site, cache_dir=cache).documents == update.documents
    assert Counter(s["id"] for s in search_fallback.sections(index_dir_for(site))) == ids


def test_fallback_update_reads_only_changed_pages(demo_site: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild re-reads and re-segments only pages whose index key changed."""
    import shutil

    from conftest import loaded_config
    from search import build_index, index_dir_for

    site, cache = tmp_path / "site", tmp_path / "cache"
    shutil.copytree(demo_site, site)
    (site / search_fallback.STATE_FILE).unlink()
    config = loaded_config(site)  # Material's search plugin given our deferred index
    build_index(site, cache_dir=cache)
    total = search_fallback.write(config, index_dir_for(site), cache_dir=cache)
    before = json.loads((site / "search" / "search_index.json").read_text("utf-8"))["docs"]
    assert total == len(before) > 0

    page = site / "about" / "index.html"
    page.write_text(page.read_text("utf-8").replace("</h1>", "</h1><p>回退索引增量。</p>", 1),
                    "utf-8")
    build_index(site, cache_dir=cache)
    read: list[set[str] | None] = []
    real = search_fallback.sections
    monkeypatch.setattr(search_fallback, "sections",
                        lambda d, urls=None: (read.append(urls), real(d, urls))[1])
    search_fallback.write(config, index_dir_for(site), cache_dir=cache)
    monkeypatch.undo()
    after = json.loads((site / "search" / "search_index.json").read_text("utf-8"))["docs"]
    assert read == [{"about/"}]
    assert [d["location"] for d in after] == [d["location"] for d in before]
    changed = [d for d in after if d["location"] == "about/"][0]
    assert "回退" in changed["text"].replace(ZWSP, "")
    assert [d for d in after if not d["location"].startswith("about/")] == \
        [d for d in before if not d["location"].startswith("about/")]


def test_index_update_skips_pages_not_rewritten(demo_site: Path, tmp_path: Path) -> None:
    """A page file with the size and mtime of the last index is not read again (dirty rebuilds
    leave unchanged pages alone); once rewritten it is read, hashed and analysed."""
    import os
    import shutil

    from search import build_index, index_dir_for

    site, cache = tmp_path / "site", tmp_path / "cache"
    shutil.copytree(demo_site, site)
    shutil.rmtree(index_dir_for(site))
    build_index(site, cache_dir=cache)
    page = site / "about" / "index.html"
    st = page.stat()
    text = page.read_text("utf-8")
    assert "关于" in text
    page.write_text(text.replace("关于", "相关", 1), "utf-8")  # same size in UTF-8
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert page.stat().st_size == st.st_size
    same = build_index(site, cache_dir=cache)
    assert same.analysed == 0 and same.unchanged == same.pages
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    changed = build_index(site, cache_dir=cache)
    assert changed.analysed == 1 and changed.unchanged == changed.pages - 1


def test_generated_page_takes_level_of_longest_owning_url() -> None:
    """page_level (O(URL length) lookup): a generated page takes the level of the entry with the
    longest URL that starts its own, raised to its declared level; no owner: the default."""
    from kb.audience.filter import page_level
    from kb.content.catalog import Catalog, Entry
    from kb.config import KBSettings

    def entry(url: str, level: str) -> Entry:
        return Entry(repo_path=url + "x.md", src_uri=url + "x.md", url=url, type="policy",
                     meta=None, front=None, level=level)  # type: ignore[arg-type]

    catalog = Catalog(entries=[entry("policies/", "public"), entry("policies/a/", "confidential"),
                               entry("policies/ab/", "internal"), entry("", "public")])
    settings = KBSettings()
    assert page_level("gen.md", "policies/a/v1.0/", "gen.md", catalog, settings) == "confidential"
    assert page_level("gen.md", "policies/ab/diff/", "gen.md", catalog, settings) == "internal"
    assert page_level("gen.md", "policies/other/", "gen.md", catalog, settings) == "public"
    assert page_level("gen.md", "policies/other/", "gen.md", catalog, settings,
                      "internal") == "internal"
    catalog.entries.append(entry("policies/other/", "confidential"))
    assert page_level("gen.md", "policies/other/", "gen.md", catalog, settings) == "confidential"
    assert page_level("gen.md", "elsewhere/", "docs/gen.md", catalog, settings) == \
        settings.docs_confidentiality


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


def test_index_update_knows_rewritten_identical_pages_by_their_bytes(
        demo_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean rebuild rewrites every page: pages whose bytes are those the manifest recorded
    (indexed or left out) are known without being parsed again; a changed page is parsed and
    analysed."""
    import json
    import os
    import shutil

    from search import build_index, index_dir_for, indexer

    site, cache = tmp_path / "site", tmp_path / "cache"
    shutil.copytree(demo_site, site)
    shutil.rmtree(index_dir_for(site))
    first = build_index(site, cache_dir=cache)
    data = json.loads((index_dir_for(site) / "pages.json").read_text("utf-8"))
    manifest, skipped = data["pages"], data["skipped"]
    assert len(manifest) == first.pages and skipped  # archive lists are not indexed
    assert set(manifest) | set(skipped) == set(indexer.html_pages(site))
    for rel, entry in manifest.items():
        assert entry["raw"] == indexer.raw_digest((site / rel).read_bytes()), rel
    for rel in skipped:
        assert skipped[rel] == indexer.raw_digest((site / rel).read_bytes()), rel
    for rel in indexer.html_pages(site):  # rewritten, same bytes: new mtimes
        st = (site / rel).stat()
        os.utime(site / rel, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    page = site / "about" / "index.html"
    page.write_text(page.read_text("utf-8").replace("关于", "有关", 1), "utf-8")
    parsed: list[str] = []
    real_slice = indexer.slice_page
    monkeypatch.setattr(indexer, "slice_page", lambda text: parsed.append(text) or
                        real_slice(text))
    again = build_index(site, cache_dir=cache, procs=1)
    assert (again.analysed, again.unchanged) == (1, again.pages - 1)
    assert len(parsed) == 1 and "有关" in parsed[0]


def test_index_update_keeps_the_old_index_whole_and_the_lexicon_when_nothing_changed(
        demo_site: Path, tmp_path: Path) -> None:
    """An update shares the previous index's segment files instead of copying them; the
    previous index (kept as ``.old`` for servers still reading it) is left as it was. With no
    page added or removed the lexicon is kept; one changed page makes it again, as does a
    lexicon of another version."""
    import os
    import shutil

    from search import build_index, index_dir_for
    from search.engine import SearchEngine

    site, cache = tmp_path / "site", tmp_path / "cache"
    shutil.copytree(demo_site, site)
    shutil.rmtree(index_dir_for(site))
    build_index(site, cache_dir=cache)
    index, old = index_dir_for(site), site / ".search-index.old"
    before = SearchEngine(site).search("机房").hits
    assert before
    lexicon = index / "lexicon.json"
    made = lexicon.stat().st_mtime_ns
    assert lexicon.read_bytes().startswith(b'{"version": 1,')

    same = build_index(site, cache_dir=cache)
    assert same.unchanged == same.pages and lexicon.stat().st_mtime_ns == made

    page = site / "about" / "index.html"
    page.write_text(page.read_text("utf-8").replace("关于", "机房 关于", 1), "utf-8")
    changed = build_index(site, cache_dir=cache)
    assert changed.analysed == 1 and lexicon.stat().st_mtime_ns != made
    shutil.rmtree(index_dir_for(site))  # the previous index is a complete index on its own
    os.replace(old, index_dir_for(site))
    assert SearchEngine(site).search("机房").hits == before

    build_index(site, cache_dir=cache)
    lexicon.write_text('{"homophones": {}, "spell": {}}', "utf-8")  # an older lexicon
    build_index(site, cache_dir=cache)
    assert lexicon.read_bytes().startswith(b'{"version": 1,') and len(lexicon.read_bytes()) > 100
