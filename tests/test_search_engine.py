"""Search engine end to end: a small Material site built once (with the search hook), indexed,
queried through the Python API and the ``kb`` CLI: ranking, query forms, filters, archived
versions, sections, snippets, facets, paging, hostile input, reload, caching."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, build_site

from search import SearchEngine, build_index, index_dir_for, read_build_info

KB = [sys.executable, "-m", "kb.cli"]

MAIN_HTML = """{% extends "base.html" %}
{% block extrahead %}
{%- for k in ["type", "doc_id", "version", "status", "tags", "archived", "updated"] %}
{%- if page and page.meta and page.meta[k] is defined %}
<meta name="kb:{{ k }}" content="{{ page.meta[k] | join(',') if page.meta[k] is sequence and page.meta[k] is not string else page.meta[k] }}">
{%- endif %}{% endfor %}
{%- if page and page.kb_slots %}{{ page.kb_slots.head | join("\n") }}{% endif %}
{% endblock %}
"""

PAGES = {
    "index.md": "# 信息中心知识库\n\n欢迎使用。\n",
    "policies/password.md": """---
type: policy
doc_id: XXZX-ZD-003
version: "2.1"
status: effective
tags: [账号, 安全]
---
# 密码管理制度

本制度规定信息系统账号口令的设置与保管要求。

## 密码复杂度要求

密码长度不少于 12 位，包含大小写字母、数字和符号。

## 密码有效期

用户密码每 90 天必须更换一次，到期前 7 天系统提醒。

## Windows 11 设置

在 Windows 11 中按 Ctrl+Alt+Del 选择更改密码。
""",
    "policies/password-v1.md": """---
type: policy
doc_id: XXZX-ZD-003
version: "1.0"
status: superseded
archived: "true"
tags: [账号]
---
# 密码管理制度（旧版）

旧版规定密码每 180 天更换一次有效期。
""",
    "manuals/vpn.md": """---
type: manual
tags: [网络]
---
# VPN 使用手册

在外网访问内部系统需要先连接虚拟专用网络。

## 安装客户端

从软件中心下载客户端并安装。

## 802.1X 认证

有线网络接入使用 802.1X 认证，用户名为工号。
""",
    "manuals/firewall.md": """---
type: manual
tags: [网络, 安全]
---
# 防火墙端口开放申请

业务系统需要开放端口时，提交工单说明源地址、目标地址和端口号。
""",
    "manuals/computer.md": """---
type: manual
tags: [终端]
---
# 计算机入网登记

新购计算机接入办公网络前，须登记资产编号和 MAC 地址。
""",
    "training/git.md": """---
type: training
tags: [开发]
---
# Git 入门培训

学习版本控制的基本操作。

## 撤销提交

```
git reset --hard HEAD~1
```

Use git reset to undo a commit; the password is never stored in the repository.
""",
    "notices/xss.md": """---
type: announcement
status: published
---
# 关于网页安全的通知

请勿在表单中粘贴 &lt;script&gt;alert(1)&lt;/script&gt; 之类的代码，系统会记录。
""",
    "listing.md": """---
search:
  exclude: true
---
# 通知列表

防火墙端口开放申请 · 计算机入网登记 · 汇总清单页
""",
    "notices/draft.md": """---
type: announcement
status: draft
---
# 打印机维护通知

三楼打印机周五停机维护，请使用二楼打印机。
""",
}


#: pages the index holds (listing.md says `search: exclude: true`)
INDEXED = len(PAGES) - 1


def make_project(folder: Path) -> Path:
    """A plain Material project with a kb: meta override and the search hook."""
    docs = folder / "docs"
    for rel, text in PAGES.items():
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    (folder / "overrides").mkdir(exist_ok=True)
    (folder / "overrides" / "main.html").write_text(MAIN_HTML, encoding="utf-8")
    (folder / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: 搜索测试
        theme:
          name: material
          language: zh
          font: false
          custom_dir: overrides
        hooks:
          - {ROOT / 'hooks' / 'search_index.py'}
        """), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def search_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small site built once with mkdocs (the hook writes its index)."""
    project = make_project(tmp_path_factory.mktemp("search-project"))
    out = project / "site"
    build_site(project, out, env={"KB_SEARCH_CACHE": str(project / ".cache")})
    return out


@pytest.fixture(scope="session")
def engine(search_site: Path) -> SearchEngine:
    """One engine over the small site, shared by the tests."""
    return SearchEngine(search_site)


def pages(resp) -> list[str]:
    return [h["page"] for h in resp.hits]


# ------------------------------------------------------------------------- index & hook


def test_hook_writes_index_with_build_info(search_site: Path):
    """mkdocs build leaves SITE_DIR/.search-index with build id and counts, no temp folders."""
    idx = index_dir_for(search_site)
    info = read_build_info(idx)
    assert idx == search_site / ".search-index" and info is not None
    assert info.pages == INDEXED and info.documents > info.pages
    assert info.build_id
    assert not [p for p in search_site.iterdir() if ".tmp-" in p.name]


def test_rebuild_writes_only_changed_pages_and_uses_the_cache(search_site: Path,
                                                               tmp_path: Path):
    """Unchanged pages cost nothing, changed/removed pages are updated, the analysis cache
    serves a full rebuild; every build gets a new id and keeps the previous index as .old."""
    site = tmp_path / "site"
    shutil.copytree(search_site, site)
    shutil.rmtree(index_dir_for(site))
    cache = tmp_path / "cache"
    first = build_index(site, cache_dir=cache)
    assert (first.analysed, first.unchanged) == (INDEXED, 0)
    proc = subprocess.run([*KB, "index", str(site), "--cache-dir", str(cache)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    assert f"{INDEXED} unchanged" in proc.stdout
    second = read_build_info(index_dir_for(site))
    assert second.build_id != first.build_id
    assert (site / ".search-index.old" / "build.json").exists()
    page = site / "manuals" / "computer" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("入网登记", "入网登记 量子纠缠"),
                    encoding="utf-8")
    shutil.rmtree(site / "notices" / "draft")
    third = build_index(site, cache_dir=cache)
    assert (third.analysed, third.unchanged, third.pages) == (1, INDEXED - 2, INDEXED - 1)
    eng = SearchEngine(site)
    assert pages(eng.search("量子纠缠")) == ["manuals/computer/"]
    assert pages(eng.search("入网登记"))[0] == "manuals/computer/"
    assert eng.search("打印机 停机").hits == []
    shutil.rmtree(index_dir_for(site))
    fourth = build_index(site, cache_dir=cache)
    assert (fourth.analysed, fourth.cached) == (0, INDEXED - 1)


def test_engine_close_and_reopen(search_site: Path):
    """close() releases the index; the next search opens it again."""
    eng = SearchEngine(search_site)
    assert eng.doc_count == read_build_info(index_dir_for(search_site)).documents
    eng.close()
    assert pages(eng.search("防火墙"))[0] == "manuals/firewall/"


def test_kb_index_of_missing_site_fails_clearly(tmp_path: Path):
    """`kb index` of a folder that does not exist exits 2 with a message."""
    proc = subprocess.run([*KB, "index", str(tmp_path / "nope")], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_engine_answers_from_its_build_until_closed(search_site: Path, tmp_path: Path):
    """A new index moved into place is not picked up behind the engine's back (the service's
    IndexHolder is the one reloader); after close() the engine opens the new build."""
    site = tmp_path / "site"
    shutil.copytree(search_site, site)
    eng = SearchEngine(site)
    old = eng.search("密码").build_id
    page = site / "manuals" / "computer" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("入网登记", "入网登记 量子纠缠"),
                    encoding="utf-8")
    new = build_index(site, cache_dir=tmp_path / "cache").build_id
    assert new != old
    assert eng.info().build_id == old
    eng.close()
    resp = eng.search("量子纠缠")
    assert resp.build_id == new and pages(resp) == ["manuals/computer/"]


# ------------------------------------------------------------------------------ ranking


def test_pages_excluded_from_search_are_not_indexed(engine: SearchEngine):
    """A page with `search: exclude: true` front matter (a listing of other pages) is left out."""
    assert engine.search("汇总清单页").hits == []
    assert "listing/" not in pages(engine.search("防火墙端口开放申请"))


def test_chinese_words_find_the_page(engine: SearchEngine):
    """A plain Chinese query ranks the page about it first."""
    assert pages(engine.search("防火墙端口"))[0] == "manuals/firewall/"


def test_home_page_is_searchable(engine: SearchEngine):
    """The site's home page (URL "") is indexed and found like any page."""
    hit = engine.search("欢迎使用").hits[0]
    assert hit["page"] == "" and hit["url"] == ""


def test_synonyms_from_the_writers_file(engine: SearchEngine):
    """口令 finds 密码 pages, 电脑 finds 计算机, VPN and 虚拟专用网络 find each other."""
    assert pages(engine.search("口令有效期"))[0] == "policies/password/"
    assert pages(engine.search("电脑入网"))[0] == "manuals/computer/"
    assert "manuals/vpn/" in pages(engine.search("虚拟专用网"))


def test_pinyin_finds_chinese_titles(engine: SearchEngine):
    """Full pinyin and initials of title words find the page."""
    assert pages(engine.search("mima"))[0] == "policies/password/"
    assert "manuals/firewall/" in pages(engine.search("fhq"))


def test_homophone_typo_is_repaired(engine: SearchEngine):
    """防火强 (typed with a pinyin keyboard) finds 防火墙."""
    assert pages(engine.search("防火强"))[0] == "manuals/firewall/"


def test_codes_and_product_names(engine: SearchEngine):
    """Document codes, ``802.1X`` and ``Windows 11`` are findable; doc_id matches first."""
    resp = engine.search("XXZX-ZD-003")
    assert resp.hits[0]["doc_id"] == "XXZX-ZD-003" and resp.hits[0]["version"] == "2.1"
    hit = engine.search("802.1X").hits[0]
    assert hit["url"] == "manuals/vpn/#8021x-认证" or hit["url"].startswith("manuals/vpn/#")
    assert engine.search("windows 11").hits[0]["url"].startswith("policies/password/#windows-11")


def test_exact_title_comes_first(engine: SearchEngine):
    """A query equal to a page title puts that page first."""
    assert pages(engine.search("Git 入门培训"))[0] == "training/git/"


def test_all_terms_before_some(engine: SearchEngine):
    """A section matching every query word ranks above one matching only some."""
    resp = engine.search("打印机 停机")
    assert pages(resp)[0] == "notices/draft/"


def test_one_hit_per_page_with_its_best_section(engine: SearchEngine):
    """Sections are grouped per page; the best one gives the URL with its anchor."""
    resp = engine.search("密码 有效期")
    assert pages(resp).count("policies/password/") == 1
    top = resp.hits[0]
    assert top["section"] == "密码有效期" and "#" in top["url"]
    assert all(s["url"].startswith("policies/password/") for s in top["sections"])


def test_hit_fields(engine: SearchEngine):
    """Hits carry url, title, section, type, doc_id, version, score and snippet."""
    hit = engine.search("密码复杂度").hits[0]
    for key in ("url", "title", "section", "type", "doc_id", "version", "score", "snippet"):
        assert key in hit
    assert hit["title"] == "密码管理制度" and hit["type"] == "policy"
    assert "<mark>" in hit["snippet"]


def test_code_is_indexed(engine: SearchEngine):
    """Commands in code blocks are searchable."""
    assert pages(engine.search("git reset"))[0] == "training/git/"


# ------------------------------------------------------------------------------ query forms


def test_phrase_must_match_exactly(engine: SearchEngine):
    """A quoted phrase only matches pages with those characters in that order."""
    assert pages(engine.search('"到期前 7 天"')) == ["policies/password/"]
    assert pages(engine.search('"天 7 到期前"')) == []


def test_exclusion_removes_pages(engine: SearchEngine):
    """-word drops every page containing it."""
    assert "manuals/firewall/" in pages(engine.search("端口"))
    assert "manuals/firewall/" not in pages(engine.search("端口 -工单"))


def test_filters_type_tag_status(engine: SearchEngine):
    """type:, tag: and status: in the query or as arguments restrict the hits."""
    assert set(pages(engine.search("网络 type:manual"))) <= {
        "manuals/vpn/", "manuals/computer/", "manuals/firewall/"}
    assert pages(engine.search("网络", tag="安全")) == ["manuals/firewall/"]
    assert pages(engine.search("通知 status:draft")) == ["notices/draft/"]
    assert pages(engine.search("密码", type="announcement")) == []


def test_archived_versions_left_out_unless_asked(engine: SearchEngine):
    """Archived versions appear only with archived=True (or archived:true)."""
    assert "policies/password-v1/" not in pages(engine.search("密码 有效期", size=20))
    assert "policies/password-v1/" in pages(engine.search("密码 有效期", archived=True, size=20))
    assert "policies/password-v1/" in pages(engine.search("密码 有效期 archived:true", size=20))


def test_facets_total_paging_and_timing(engine: SearchEngine):
    """Facets count pages per type/tag/status; total counts pages; pages do not overlap."""
    resp = engine.search("网络", size=1)
    assert resp.total >= 2 and len(resp.hits) == 1
    assert resp.facets["type"]["manual"] >= 2
    assert resp.facets["tags"]["网络"] >= 2
    second = engine.search("网络", size=1, page=2)
    assert second.hits and second.hits[0]["url"] != resp.hits[0]["url"]
    assert resp.build_id == engine.info().build_id


def test_did_you_mean_for_english(engine: SearchEngine):
    """A misspelled English word gets a suggestion and still finds the page."""
    resp = engine.search("pasword")
    assert resp.suggestion == "password"
    assert "training/git/" in pages(resp)


def test_prefix_search(engine: SearchEngine):
    """A trailing * after two letters searches a bounded set of words."""
    assert pages(engine.search("passw*"))[0] == "training/git/"


def test_snippet_shows_page_markup_as_text(engine: SearchEngine):
    """Page text like <script> is escaped in snippets; only <mark> is markup."""
    snippet = engine.search("表单 粘贴").hits[0]["snippet"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in snippet and "<script>" not in snippet


@pytest.mark.parametrize("query, found", [
    ("密码" * 5000, "first"),
    ("！！！……###$$$%%%", None),
    ('"密码 有效期', "first"),
    ("*码 ?码 **", "among"),
    ("pass~99 密码~~~~~~~~~", "first"),
    ("a" * 10000, None),
    ("((((密码)))) OR AND NOT", "first"),
    ("\x00\x01 密码 \u202e", "first"),
])
def test_hostile_queries_answer_sensibly(engine: SearchEngine, query: str, found: str | None):
    """Long, punctuation-only, unbalanced, wildcard and fuzzy queries: the words in them still
    find the password policy (first, or among the hits for a lone 码); nothing to search for
    finds nothing."""
    resp = engine.search(query)
    if found is None:
        assert resp.total == 0 and resp.hits == []
        return
    assert resp.total == len(pages(resp)) >= 1
    if found == "first":
        assert pages(resp)[0] == "policies/password/"
    else:
        assert "policies/password/" in pages(resp)


def test_empty_query_has_no_hits(engine: SearchEngine):
    """An empty query answers with nothing (the API turns it into a 400)."""
    assert engine.search("   ").hits == []


# ------------------------------------------------------------------------------ CLI


def test_cli_search_readable_and_json(search_site: Path):
    """`kb search` prints readable results; --json a list of hits."""
    proc = subprocess.run([*KB, "search", "--site", str(search_site), "防火墙"],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    assert "防火墙端口开放申请" in proc.stdout and "manuals/firewall/" in proc.stdout
    proc = subprocess.run([*KB, "search", "--site", str(search_site), "--json", "--limit", "2",
                           "--type", "policy", "密码"],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    hits = json.loads(proc.stdout)
    assert 1 <= len(hits) <= 2 and all(h["type"] == "policy" for h in hits)


def test_cli_batch_one_json_line_per_query(search_site: Path, tmp_path: Path):
    """`kb search --json --batch FILE` prints one JSON list per input line."""
    batch = tmp_path / "q.txt"
    batch.write_text("防火墙\n\n口令\n", encoding="utf-8")
    proc = subprocess.run([*KB, "search", "--site", str(search_site), "--json", "--batch",
                           str(batch)], capture_output=True, text=True, cwd=ROOT, check=True)
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(lines) == 3 and lines[1] == []
    assert lines[0][0]["page"] == "manuals/firewall/"


def test_cli_search_without_index_fails_clearly(tmp_path: Path):
    """`kb search` on a site without an index exits 2 and says to run kb index."""
    proc = subprocess.run([*KB, "search", "--site", str(tmp_path), "密码"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "kb index" in proc.stderr
