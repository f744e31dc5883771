"""Index updates: changed pages replaced without duplicates, pages not rewritten (or rewritten
with the same bytes) not read again, an unchanged site keeps its index and lexicon."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.mkdocs import fallback as search_fallback


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
