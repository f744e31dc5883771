"""Controlled documents on the built site: control block, review banners under KB_TODAY, drafts,
``kb:`` meta tags, registers (also sorted and filtered in a browser), tags index, ``kb report``.

One small project is built twice for the module: as staff see it on TEST_TODAY, and as a preview
(KB_PREVIEW=1) two weeks later. The demo site (session fixture) is checked for complete metadata.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from conftest import ROOT, TEST_TODAY, build_env, build_site
from documents_project import make_project, policy

LATER = "2026-12-11"  # the day after XXZX-ZD-001's review is due

FILES: dict[str, str] = {
    "policies/index.md": "# 制度\n\n制度目录如下。\n\n<!-- kb:policy-register -->\n",
    # review due 2026-12-10: within 30 days of TEST_TODAY (2026-11-27), overdue on LATER
    "policies/due.md": policy("XXZX-ZD-001", "账号管理制度", effective="2025-12-10",
                              extra='tags: [账号, 安全]\nhistory:\n  - version: "1.0"\n'
                                    "    date: 2025-12-10\n    summary: 首次发布\n"
                                    "    approver: 王建国"),
    # review was due 2025-06-01
    "policies/overdue.md": policy("XXZX-ZD-002", "机房管理制度", effective="2024-06-01",
                                  owner="网络运维部", extra="tags: [机房]"),
    # review 2027-06-01: fine; supersedes 004
    "policies/current.md": policy("XXZX-ZD-003", "数据备份管理制度", version="2.0",
                                  effective="2026-06-01", review="next_review: 2027-06-01",
                                  owner="安全管理部", extra="supersedes: XXZX-ZD-004"),
    "policies/old.md": policy("XXZX-ZD-004", "数据备份管理办法", status="superseded",
                              effective="2020-01-01", owner="安全管理部",
                              extra="superseded_by: XXZX-ZD-003"),
    "policies/retired.md": policy("XXZX-ZD-005", "传真机使用规定", status="retired",
                                  effective="2015-03-01"),
    "policies/draft.md": policy("XXZX-ZD-006", "草稿制度XYZ", status="draft",
                                extra="tags: [草稿专用标签]"),
    "policies/under-review.md": policy("XXZX-ZD-008", "审核中制度QRS", status="review"),
    "policies/no-owner.md": policy("XXZX-ZD-007", "打印机管理制度", effective="2026-09-01", owner=""),
    "manuals/index.md": "# 手册\n\n<!-- kb:manual-register -->\n",
    # review was due 2026-01-01: the manual and its chapters are overdue
    "manuals/vpn/index.md": policy("XXZX-SC-001", "VPN 使用手册", effective="2025-01-01",
                                   extra="tags: [VPN]"),
    "manuals/vpn/01-install.md": "---\nchapter: 1\ntitle: 安装客户端\n---\n# 安装客户端\n",
    "manuals/vpn/02-connect.md": ("---\nchapter: 2\ntitle: 连接与断开\ntags: [远程办公]\n---\n"
                                  "# 连接与断开\n"),
    "manuals/new/index.md": policy("XXZX-SC-002", "新系统手册ABC", status="draft"),
    "manuals/new/01-intro.md": "---\nchapter: 1\ntitle: 新系统简介DEF\n---\n# 简介\n",
    "docs/tags.md": (ROOT / "docs" / "tags.md").read_text(encoding="utf-8"),
    "docs/about.md": "---\ntitle: 关于本站\ntags: [说明]\n---\n# 关于本站\n",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project's folder."""
    return make_project(tmp_path_factory.mktemp("documents") / "project", FILES)


@pytest.fixture(scope="module")
def site(project: Path) -> Path:
    """The staff build on TEST_TODAY (strict)."""
    out = project.parent / "site"
    build_site(project, out)
    return out


@pytest.fixture(scope="module")
def preview_site(project: Path) -> Path:
    """The preview build (KB_PREVIEW=1) on LATER (strict)."""
    out = project.parent / "preview"
    build_site(project, out, {"KB_PREVIEW": "1", "KB_TODAY": LATER})
    return out


def html(site: Path, url: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((site / url / "index.html").read_text(encoding="utf-8"))


def control(site: Path, url: str) -> dict[str, str]:
    """The document-control block of a page: field key → text."""
    tree = html(site, url)
    return {item.get("data-kb-field"): item.find("dd").text_content().strip()
            for item in tree.cssselect(".kb-control__item")}


def banner_kinds(site: Path, url: str) -> set[str]:
    tree = html(site, url)
    return {cls.removeprefix("kb-banner--") for el in tree.cssselect(".kb-banner")
            for cls in el.get("class").split() if cls.startswith("kb-banner--")}


def kb_meta(site: Path, url: str) -> dict[str, str]:
    tree = html(site, url)
    return {m.get("name"): m.get("content") for m in tree.cssselect('meta[name^="kb:"]')}


def register_rows(site: Path, url: str, name: str) -> list[dict[str, str]]:
    tree = html(site, url)
    table = tree.get_element_by_id(f"kb-register-{name}")
    return [{td.get("data-key"): td.text_content().strip() for td in tr.cssselect("td")}
            for tr in table.cssselect("tbody tr")]


# --------------------------------------------------------------------------- control block


def test_control_block_shows_identification_approval_and_review(site: Path) -> None:
    """A policy's block lists number, version, status, dates, owner, 编制/审核/批准, level."""
    assert control(site, "policies/due") == {
        "doc_id": "XXZX-ZD-001", "version": "1.0", "status": "现行有效",
        "effective_date": "2025-12-10", "next_review": "2026-12-10（即将到期）", "owner": "信息中心",
        "approval": "张伟 / 李娜 / 王建国", "confidentiality": "内部",
    }
    tree = html(site, "policies/due")
    # the due icon is drawn (an inline SVG), not U+23F0, which no installed font has
    assert tree.cssselect('.kb-control [data-kb-field="next_review"] .kb-due__icon svg')
    assert "\u23f0" not in (site / "policies/due/index.html").read_text("utf-8")
    assert "\u23f0" not in (site / "policies/index.html").read_text("utf-8")
    assert tree.cssselect(".kb-control .kb-status--effective")
    assert tree.cssselect(".kb-control .kb-level--internal")


def test_chapter_block_inherits_the_manual(site: Path) -> None:
    """A chapter shows its manual (linked), the manual's number and version, and its chapter."""
    block = control(site, "manuals/vpn/02-connect")
    assert block["manual"] == "VPN 使用手册"
    assert (block["doc_id"], block["version"], block["chapter"]) == ("XXZX-SC-001", "1.0", "第 2 章")
    link = html(site, "manuals/vpn/02-connect").cssselect('[data-kb-field="manual"] a')[0]
    assert link.get("href") == "../"


def test_supersession_is_linked_both_ways(site: Path) -> None:
    """The superseded document links its successor in a banner; the successor links back."""
    old = html(site, "policies/old")
    assert [a.get("href") for a in old.cssselect(".kb-banner--superseded a")] == ["../current/"]
    assert control(site, "policies/current")["supersedes"] == "XXZX-ZD-004 数据备份管理办法"
    assert control(site, "policies/old")["next_review"] == "—"  # no review for superseded ones


# --------------------------------------------------------------------------- review banners


def test_review_banners_on_the_right_documents(site: Path) -> None:
    """On TEST_TODAY: due within 30 days → 复审即将到期; past due → 已超期未复审 (manual and its
    chapters too); superseded/retired documents get their notice, never a review banner."""
    assert {url: banner_kinds(site, url) for url in (
        "policies/due", "policies/overdue", "policies/current", "policies/old",
        "policies/retired", "manuals/vpn", "manuals/vpn/01-install", "manuals/vpn/02-connect",
    )} == {
        "policies/due": {"due"}, "policies/overdue": {"overdue"}, "policies/current": set(),
        "policies/old": {"superseded"}, "policies/retired": {"retired"},
        "manuals/vpn": {"overdue"}, "manuals/vpn/01-install": {"overdue"},
        "manuals/vpn/02-connect": {"overdue"},
    }
    due = html(site, "policies/due").cssselect(".kb-banner--due")[0].text_content()
    assert "复审即将到期" in due and "2026-12-10" in due and "还有 13 天" in due
    overdue = html(site, "policies/overdue").cssselect(".kb-banner--overdue")[0].text_content()
    assert "已超期未复审" in overdue and "2025-06-01" in overdue and "已超期 544 天" in overdue


def test_banners_follow_kb_today(preview_site: Path) -> None:
    """On LATER the due document has become overdue; the fine one stays fine."""
    assert banner_kinds(preview_site, "policies/due") == {"overdue"}
    assert "已超期 1 天" in html(preview_site, "policies/due").text_content()
    assert banner_kinds(preview_site, "policies/current") == set()


# --------------------------------------------------------------------------- drafts


def test_drafts_and_reviews_leave_no_trace_on_the_staff_site(site: Path) -> None:
    """Drafts/reviews (and a draft manual's chapters) are not built, listed, tagged or indexed."""
    for url in ("policies/draft", "policies/under-review", "manuals/new", "manuals/new/01-intro"):
        assert not (site / url).exists()
    markers = ("草稿制度XYZ", "审核中制度QRS", "新系统手册ABC", "新系统简介DEF", "草稿专用标签",
               "XXZX-ZD-006", "XXZX-ZD-008", "XXZX-SC-002")
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".js"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [m for m in markers if m in text], path


def test_drafts_are_found_by_search_only_in_preview(site: Path, preview_site: Path,
                                                   tmp_path: Path) -> None:
    """Search never shows a draft outside preview: an index of the staff site has no trace of
    it; one of the preview site finds it, marked draft (copies indexed here: this project has
    no search hook)."""
    import shutil

    from search import SearchEngine, build_index

    engines = {}
    for name, built in (("staff", site), ("preview", preview_site)):
        copy = tmp_path / name
        shutil.copytree(built, copy)
        build_index(copy, cache_dir=tmp_path / "cache", procs=1)
        engines[name] = SearchEngine(copy)
    staff = engines["staff"].search("草稿制度XYZ", size=100)
    assert staff.total > 0 and staff.partial is not None and "xyz" in staff.partial["missing"]
    assert not [h for h in staff.hits if h["doc_id"] == "XXZX-ZD-006" or h["status"] == "draft"]
    assert "XXZX-ZD-006" not in [h["doc_id"] for h in engines["staff"].search("XXZX-ZD-006").hits]
    hits = engines["preview"].search("草稿制度XYZ").hits
    assert hits and hits[0]["doc_id"] == "XXZX-ZD-006" and hits[0]["status"] == "draft"


def test_preview_shows_drafts_with_a_banner(preview_site: Path) -> None:
    """With KB_PREVIEW=1 drafts are built, marked as preview and listed in the register."""
    assert banner_kinds(preview_site, "policies/draft") == {"preview"}
    assert banner_kinds(preview_site, "manuals/new/01-intro") == {"preview"}
    ids = [r["doc_id"] for r in register_rows(preview_site, "policies", "policies")]
    assert "XXZX-ZD-006" in ids and "XXZX-ZD-008" in ids


# --------------------------------------------------------------------------- meta tags


def test_meta_tags_of_a_policy(site: Path) -> None:
    """A policy's head carries type, doc_id, version, status, level, tags and updated."""
    assert kb_meta(site, "policies/due") == {
        "kb:type": "policy", "kb:doc_id": "XXZX-ZD-001", "kb:version": "1.0",
        "kb:status": "effective", "kb:confidentiality": "internal", "kb:tags": "账号,安全",
        "kb:updated": "2025-12-10", "kb:owner": "信息中心",
    }


def test_meta_tags_of_a_chapter_and_a_plain_page(site: Path) -> None:
    """A chapter is type manual with its chapter number; a plain page has type and level."""
    chapter = kb_meta(site, "manuals/vpn/02-connect")
    assert (chapter["kb:type"], chapter["kb:doc_id"], chapter["kb:chapter"], chapter["kb:tags"]) == (
        "manual", "XXZX-SC-001", "2", "远程办公")
    assert kb_meta(site, "about") == {"kb:type": "page", "kb:confidentiality": "public",
                                      "kb:tags": "说明"}


# --------------------------------------------------------------------------- registers


def test_policy_register_lists_every_published_policy(site: Path) -> None:
    """制度目录: one row per published policy, by number, with the register's columns."""
    rows = register_rows(site, "policies", "policies")
    assert [r["doc_id"] for r in rows] == ["XXZX-ZD-001", "XXZX-ZD-002", "XXZX-ZD-003",
                                           "XXZX-ZD-004", "XXZX-ZD-005", "XXZX-ZD-007"]
    assert rows[2] == {"doc_id": "XXZX-ZD-003", "title": "数据备份管理制度", "version": "2.0",
                       "status": "现行有效", "effective_date": "2026-06-01",
                       "owner": "安全管理部", "next_review": "2027-06-01"}
    tree = html(site, "policies")
    for link in tree.cssselect("#kb-register-policies a"):
        assert (site / "policies" / link.get("href") / "index.html").is_file()
    assert tree.cssselect('#kb-register-policies td[data-key="next_review"] .kb-due--overdue')


def test_manual_register_lists_manuals_and_chapters(site: Path) -> None:
    """手册目录: each published manual with its chapters in order, linked."""
    rows = register_rows(site, "manuals", "manuals")
    assert [(r["doc_id"], r["version"], r["next_review"]) for r in rows] == [
        ("XXZX-SC-001", "1.0", "⚠2026-01-01（已超期）")]
    links = html(site, "manuals").cssselect('#kb-register-manuals td[data-key="title"] a')
    assert [(a.text_content(), a.get("href")) for a in links] == [
        ("VPN 使用手册", "vpn/"), ("安装客户端", "vpn/01-install/"),
        ("连接与断开", "vpn/02-connect/")]
    assert [li.get("value") for li in html(site, "manuals").cssselect(".kb-register-chapters li")
            ] == ["1", "2"]


def test_tags_index_lists_our_tags(site: Path) -> None:
    """The tags page lists validated tags with links to their pages (drafts' tags absent)."""
    tree = html(site, "tags")
    text = tree.text_content()
    for tag in ("账号", "机房", "VPN", "远程办公", "说明"):
        assert tag in text
    hrefs = {a.get("href") for a in tree.cssselect("article a")}
    assert "../policies/due/" in hrefs and "../manuals/vpn/02-connect/" in hrefs
    # sorted by pinyin (远程办公 yuan… before 账号 zhang…, though 账 < 远 by code point),
    # grouped by initial with a jump bar, each tag with its page count, its anchor kept
    names = [h.text_content().replace("¶", "").strip() for h in tree.cssselect("h3.kb-tag__name")]
    assert names.index(next(n for n in names if n.startswith("远程办公"))) < \
        names.index(next(n for n in names if n.startswith("账号")))
    groups = [h.text_content().replace("¶", "") for h in tree.cssselect(".kb-tag-group > h2")]
    assert groups == sorted(groups, key=lambda g: (g == "数字与符号", g)) and "Y" in groups
    assert [a.get("href") for a in tree.cssselect(".kb-tag-initials a")] == [
        "#kb-tags-" + ("other" if g == "数字与符号" else g) for g in groups]
    vpn = tree.get_element_by_id("tag:vpn")
    count = len(vpn.getparent().cssselect("li"))
    assert vpn.cssselect(".kb-tag__count")[0].text_content() == f"{count} 篇" and count >= 1


# --------------------------------------------------------------------------- kb report


def test_kb_report_groups_due_reviews_by_owner(project: Path) -> None:
    """`kb report` lists overdue/due documents by owner and documents without owner; exit 0."""
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "report", "-f",
                           str(project / "mkdocs.yml")], capture_output=True, text=True,
                          env=build_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == f"复审到期（今天 {TEST_TODAY}，提前 30 天预警）："
    assert out[1:5] == [
        "  信息中心（2）",
        "    已超期未复审  下次复审 2026-01-01（已超期 330 天）  XXZX-SC-001  VPN 使用手册  v1.0  "
        "manuals/vpn/index.md",
        "    复审即将到期  下次复审 2026-12-10（还有 13 天）  XXZX-ZD-001  账号管理制度  v1.0  "
        "policies/due.md",
        "  网络运维部（1）",
    ]
    assert "未填写归口部门（owner）的文件（1）：" in out
    assert "  XXZX-ZD-007  打印机管理制度  v1.0  policies/no-owner.md" in out


# --------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_browser_sorts_and_filters_the_policy_register(site: Path, browser, static_server) -> None:
    """In chromium the 制度目录 sorts by a column both ways and filters by text, status, owner."""
    page = browser.new_page()
    try:
        page.goto(static_server(site) + "policies/")
        table = "#kb-register-policies"

        def ids() -> list[str]:
            return page.eval_on_selector_all(
                f"{table} tbody tr:not([hidden]) td[data-key=doc_id]",
                "cells => cells.map(c => c.textContent.trim())")

        assert page.is_visible(".kb-register-tools")
        page.click(f'{table} th[data-key="effective_date"] button')
        assert ids() == ["XXZX-ZD-005", "XXZX-ZD-004", "XXZX-ZD-002", "XXZX-ZD-001",
                         "XXZX-ZD-003", "XXZX-ZD-007"]
        page.click(f'{table} th[data-key="effective_date"] button')
        assert ids()[0] == "XXZX-ZD-007"
        assert page.get_attribute(f'{table} th[data-key="effective_date"]',
                                  "aria-sort") == "descending"
        page.fill('[data-filter="text"]', "备份")
        assert sorted(ids()) == ["XXZX-ZD-003", "XXZX-ZD-004"]
        page.select_option('[data-filter="status"]', "effective")
        assert ids() == ["XXZX-ZD-003"]
        assert page.text_content(".kb-register-count") == "显示 1 / 6 项"
        page.fill('[data-filter="text"]', "")
        page.select_option('[data-filter="status"]', "")
        page.select_option('[data-filter="owner"]', "网络运维部")
        assert ids() == ["XXZX-ZD-002"]
        page.fill('[data-filter="text"]', "不存在的制度")
        assert ids() == [] and page.is_visible(".kb-register-empty")
    finally:
        page.close()


# --------------------------------------------------------------------------- the demo


def test_demo_registers_list_every_policy_and_manual(demo_site: Path) -> None:
    """The demo's 制度目录/手册目录 list every policy and manual of the staff (internal) build:
    all but drafts, documents under review and confidential ones."""
    code = ("import json, sys; from kb.content.catalog import load; c, _ = load(sys.argv[1]); "
            "print(json.dumps({'errors': [str(e) for e in c.errors], 'docs': [[e.type, e.doc_id, "
            "e.published and e.level != 'confidential'] for e in c.of_type('policy', 'manual')]}))")
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT / "mkdocs.yml")],
                          capture_output=True, text=True, env=build_env(), check=True)
    import json

    data = json.loads(proc.stdout)
    assert data["errors"] == []
    published = {(t, i) for t, i, ok in data["docs"] if ok}
    assert len([d for d in published if d[0] == "policy"]) >= 10
    listed = {("policy", r["doc_id"]) for r in register_rows(demo_site, "policies", "policies")}
    listed |= {("manual", r["doc_id"]) for r in register_rows(demo_site, "manuals", "manuals")}
    assert listed == published


def test_demo_controlled_documents_carry_complete_metadata(demo_site: Path) -> None:
    """Every demo policy/manual page shows owner, approval chain and dates; each has a history."""
    for path in [*demo_site.glob("policies/*/index.html"), *demo_site.glob("manuals/*/index.html")]:
        url = path.parent.relative_to(demo_site).as_posix()
        block = control(demo_site, url)
        assert block, url
        assert "—" not in (block["owner"] + block["approval"] + block["effective_date"]), url
    code = ("import sys; from kb.content.catalog import load; c, _ = load(sys.argv[1]); "
            "print('\\n'.join(e.repo_path for e in c.of_type('policy', 'manual') "
            "if not e.meta.history or e.meta.newest_history().version != e.meta.version))")
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT / "mkdocs.yml")],
                          capture_output=True, text=True, env=build_env(), check=True)
    assert proc.stdout.split() == []


@pytest.mark.browser
@pytest.mark.parametrize("url", ["policies/", "policies/due/", "manuals/vpn/02-connect/"])
def test_axe_finds_no_serious_violation_in_our_elements(preview_site: Path, browser, static_server,
                                                       url: str) -> None:
    """Badges, banners, control block and register pass axe (contrast, names) in chromium."""
    from conftest import serious_axe_violations

    page = browser.new_page()
    try:
        page.goto(static_server(preview_site) + url)
        ours = [(v["id"], n["target"]) for v in serious_axe_violations(page) for n in v["nodes"]
                if "kb-" in n.get("html", "") or "kb-" in str(n["target"])]
        colours = page.eval_on_selector_all(
            ".kb-badge.kb-status", "els => els.map(e => getComputedStyle(e).backgroundColor)")
    finally:
        page.close()
    assert ours == []
    assert "rgb(46, 125, 50)" in colours  # 现行有效 is green: no other stylesheet recolours it
