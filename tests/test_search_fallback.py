"""The theme's fallback search index (Material's search box) written from our index: Chinese
segmentation, its cache, every section, updates that re-read only changed pages."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from search.mkdocs import fallback as search_fallback
from search.mkdocs.fallback import ZWSP, SegmentCache, segment


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
