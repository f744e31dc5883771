"""What staff see (issue 20), on the session's demo site: tables, comparisons, history, home,
authors, 404, badges, tags, registers on a phone, English leaks, the search page, keyboard
order, breadcrumbs and permalinks, backlinks, pagers and course sessions. Browser checks run
in Debian chromium at 1366×900 and 390×844 against a static server of the built site."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def tree(site: Path, path: str) -> lxml.html.HtmlElement:
    return lxml.html.parse(str(site / path / "index.html")).getroot()


def article(site: Path, path: str) -> lxml.html.HtmlElement:
    return tree(site, path).cssselect("article")[0]


@pytest.fixture(scope="module")
def base(demo_site: Path, static_server) -> str:
    return static_server(demo_site)


@pytest.fixture
def desktop(browser):
    page = browser.new_page(viewport=DESKTOP)
    yield page
    page.close()


@pytest.fixture
def phone(browser):
    page = browser.new_page(viewport=PHONE)
    yield page
    page.close()


#: the number of lines the text of each matched element occupies (1: no wrapping)
LINES_JS = """sel => Array.from(document.querySelectorAll(sel)).map(el => {
  const range = document.createRange(); range.selectNodeContents(el);
  const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0)
                       .map(r => Math.round(r.top)));
  return [el.textContent.trim(), tops.size];
})"""


# --------------------------------------------------------------------------- tables, history


@pytest.mark.browser
def test_revision_and_file_info_tables_do_not_wrap_short_cells(desktop, base: str) -> None:
    """修订记录 and 文件信息的变化: headers, versions, dates, names and links on one line each."""
    desktop.goto(base + "policies/network/")
    cells = desktop.evaluate(LINES_JS, ".kb-revision-table th, .kb-revision-table td:not(:nth-child(3))")
    assert [c[0] for c in cells[:6]] == ["版本", "日期", "修订说明", "批准人", "存档", "对比"]
    assert all(lines == 1 for text, lines in cells if text), [c for c in cells if c[1] != 1]
    assert "2026-03-01" in [c[0] for c in cells]
    desktop.goto(base + "policies/XXZX-ZD-005/diff/v1.1-v2.0/")
    cells = desktop.evaluate(LINES_JS, ".kb-diff-meta th, .kb-diff-meta td")
    assert cells and all(lines == 1 for text, lines in cells if text), cells
    border = desktop.evaluate("getComputedStyle(document.querySelector('.kb-diff-meta')).borderTopStyle")
    assert border == "solid"


def test_comparison_shows_field_values_in_chinese(demo_site: Path) -> None:
    """Outside report item 16: 阅知确认 was "— → required"; values come from the content
    model's labels (状态, 密级, 阅知确认), not the front matter's English words."""
    rows = {tr.cssselect("th")[0].text_content(): [td.text_content() for td in tr.cssselect("td")]
            for tr in tree(demo_site, "policies/XXZX-ZD-004/diff/v3.0-v3.1")
            .cssselect(".kb-diff-meta tbody tr")}
    assert rows["阅知确认"] == ["—", "必须确认"], rows
    values = " ".join(v for pair in rows.values() for v in pair)
    assert not re.search(r"\b(required|effective|internal|public|superseded)\b", values), rows


def test_comparisons_follow_real_versions_and_compare_rendered_text(demo_site: Path) -> None:
    """网络管理制度 has real v1.0 and v1.1 in git: 修订记录 links each to its predecessor by name,
    and the comparison shows text (tables, emphasis, images) as readers see it."""
    record = tree(demo_site, "policies/network").cssselect(".kb-revision-table")[0]
    links = {a.text_content(): a.get("href") for a in record.cssselect("a")}
    assert links["与 v1.1 比较"] == "../XXZX-ZD-005/diff/v1.1-v2.0/"
    assert links["与 v1.0 比较"] == "../XXZX-ZD-005/diff/v1.0-v1.1/"
    diff = article(demo_site, "policies/XXZX-ZD-005/diff/v1.1-v2.0")
    text = diff.text_content()
    assert "**" not in text and "|---" not in text and "![" not in text
    assert "［图：单位网络安全区域划分示意图］" in "".join(i.text_content() for i in diff.cssselect("ins"))
    assert "运维管理区 ｜ 堡垒机、网管平台、日志审计" in text  # a table row, cells joined
    assert any("802.1X" in i.text_content() for i in diff.cssselect("ins"))
    old = article(demo_site, "policies/XXZX-ZD-005/v1.0").text_content()
    assert "本单位暂不提供访客无线网络" in old and "自 2022 年 8 月 15 日起施行" in old
    v30 = article(demo_site, "policies/XXZX-ZD-004/v3.0").text_content()
    assert "发现后 1 小时内报领导小组" in v30 and "生成式人工智能" not in v30


def test_home_links_the_notice_list_once_below_the_notices(demo_site: Path) -> None:
    """Outside report item 19: below 最新通知 one link to the notice list (the overview card
    of the grid above keeps its own)."""
    home = article(demo_site, "")
    links = [a.text_content() for a in home.cssselect("a")
             if (a.get("href") or "").lstrip("./") in ("announcements/", "announcements/index.html")
             and not a.xpath("ancestor::*[contains(concat(' ', @class, ' '), ' cards ')]")]
    assert links == ["全部通知"], links


def test_home_lists_recently_changed_documents_not_generated_pages(demo_site: Path) -> None:
    items = tree(demo_site, "").cssselect(".kb-recently-updated li")
    hrefs = [li.cssselect("a")[0].get("href") for li in items]
    assert len(items) == 10
    assert not [h for h in hrefs if "/archive/" in h or "/category/" in h or "XXZX-" in h
                or h.endswith(("search/", "tags/"))]
    dates = [li.cssselect("time")[0].get("datetime") for li in items]
    assert dates == sorted(dates, reverse=True) and len(set(dates)) > 1


def test_no_git_author_controlled_documents_show_approval(demo_site: Path) -> None:
    for path in ("policies/network", "manuals/oa/01-login", "", "about"):
        page = tree(demo_site, path)
        assert not page.cssselect(".kb-authors"), path
        assert "作者" not in page.cssselect(".kb-updated")[0].text_content()
    control = tree(demo_site, "policies/network").cssselect(".kb-control")[0].text_content()
    assert "张伟 / 李娜 / 王建国" in control


def test_search_snippet_text_leaves_out_control_block_and_footer(demo_site: Path) -> None:
    from search.extract import parse_page, slice_page

    html = (demo_site / "manuals/vpn/05-mfa/index.html").read_text("utf-8")
    page = parse_page("manuals/vpn/05-mfa/index.html", slice_page(html))
    assert page is not None
    text = page.lead + " ".join(s.prose() for s in page.sections)
    assert "文件编号" not in text and "最后更新" not in text and "本页有帮助吗" not in text
    assert "编制/审核/批准" not in text


# --------------------------------------------------------------------------- 404, badges, tags


@pytest.mark.browser
def test_404_page_is_chinese_with_search_home_and_helpdesk(desktop, base: str, demo_site: Path) -> None:
    desktop.goto(base + "404.html")
    body = desktop.locator("article").inner_text()
    assert "找不到这个页面" in body and "Not found" not in desktop.content()
    assert "服务台：电话 8000" in body
    assert desktop.get_by_role("link", name="返回首页").get_attribute("href") == "/"
    desktop.fill("#kb-404-q", "VPN")
    desktop.get_by_role("button", name="搜索", exact=True).click()
    desktop.wait_for_url("**/search/?q=VPN")


def test_our_status_is_not_materials_page_status(demo_site: Path) -> None:
    """No unexplained ⓘ beside pages in the navigation (Material's status feature)."""
    for path in ("manuals/oa/01-login", "manuals/vpn", "policies/network"):
        page = tree(demo_site, path)
        assert not page.cssselect(".md-status"), path


@pytest.mark.browser
def test_expired_badge_does_not_look_pinned(desktop, base: str) -> None:
    desktop.goto(base + "announcements/category/an-quan-tong-gao/")
    style = """sel => { const s = getComputedStyle(document.querySelector(sel));
                        return [s.backgroundColor, s.borderTopStyle]; }"""
    pinned = desktop.evaluate(style, ".kb-badge--pinned")
    expired = desktop.evaluate(style, ".kb-badge--expired")
    assert pinned[0] != expired[0] and expired[1] == "dashed"


@pytest.mark.browser
def test_tags_page_grouped_by_pinyin_initial(desktop, base: str) -> None:
    desktop.goto(base + "tags/")
    groups = desktop.locator(".kb-tag-group > h2").all_inner_texts()
    assert groups[0] == "A" and groups[-1] == "数字与符号"
    assert desktop.locator("#tag\\:vpn").is_visible()
    height = desktop.evaluate("document.documentElement.scrollHeight")
    assert height < 6500  # was 8,600 px as one list


# --------------------------------------------------------------------------- phone, leaks


@pytest.mark.browser
def test_register_status_and_review_in_sight_on_a_phone(phone, base: str) -> None:
    phone.goto(base + "policies/")
    for key in ("status", "next_review"):
        box = phone.locator(f'#kb-register-policies td[data-key="{key}"]').first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    label = phone.evaluate("""getComputedStyle(document.querySelector(
        '#kb-register-policies td[data-key="next_review"]'), '::before').content""")
    assert label == '"下次复审"'


#: each visible header cell of a register: [text, right edge]; the content area's right edge
REGISTER_EDGES_JS = """() => {
  const content = document.querySelector('.md-content__inner').getBoundingClientRect();
  const cells = [...document.querySelectorAll('table.kb-register thead th')]
    .filter(th => getComputedStyle(th).display !== 'none')
    .map(th => [th.textContent.trim(), th.getBoundingClientRect().right]);
  return {cells, right: content.right, width: innerWidth};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("width", [1366, 1024], ids=["1366", "1024"])
def test_registers_fit_the_content_on_a_desktop(browser, base: str, width: int) -> None:
    """Outside report item 4: 制度目录 was 802 px in a 690 px column at 1366×900, 下次复审 cut
    off. Every column of every register ends inside the content area, review column included."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        for path in ("policies/", "manuals/"):
            page.goto(base + path)
            found = page.evaluate(REGISTER_EDGES_JS)
            keys = [text for text, _ in found["cells"]]
            assert "下次复审" in "".join(keys) and len(keys) >= 6, (path, keys)
            outside = [(t, r) for t, r in found["cells"]
                       if r > found["right"] + 1 or r > found["width"]]
            assert outside == [], (path, width, found["right"], outside)
    finally:
        page.close()


@pytest.mark.browser
def test_static_copy_probes_once_and_logs_no_errors(browser, base: str) -> None:
    """Outside report item 17: on a static copy (no kb serve) a page with 阅知确认, feedback
    and the search box asks api/health once (the build's static answer) and nothing else of
    /api/, logs no console error and leaves no request pending; the widgets stay hidden."""
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    api: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: api.append(r.url) if "/api/" in r.url else None)
    try:
        page.goto(base + "policies/information-security/", wait_until="networkidle")
        assert page.locator("form[data-kb-ack]").count() == 1
        assert page.locator("form[data-kb-ack]").is_hidden()
        assert page.locator(".kb-feedback").is_hidden()
        assert [u.split("/api/")[1] for u in api] == ["health"], api
        assert errors == []
    finally:
        page.close()


def test_no_english_theme_strings_and_footer_matches_badge(demo_site: Path) -> None:
    for file in demo_site.rglob("*.html"):
        text = file.read_text("utf-8")
        assert "Made with" not in text, file
        assert "Jump back to footnote" not in text, file
    page = tree(demo_site, "manuals/vpn/02-windows")
    backref = page.cssselect("a.footnote-backref")[0]
    assert backref.get("title") == "返回正文第 1 处脚注引用"
    home = tree(demo_site, "")
    assert home.cssselect(".kb-level--public")
    assert "内部资料，未经许可" not in home.cssselect(".md-copyright")[0].text_content()


def test_search_page_has_no_badge_pencil_author_or_feedback(demo_site: Path) -> None:
    page = article(demo_site, "search")
    assert not page.cssselect(".kb-level, .md-content__button, .kb-updated, .kb-feedback")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_tab_reaches_only_visible_elements(browser, base: str, viewport: dict) -> None:
    """From the top, the first 20 Tab stops are all on screen (Material's palette radio, drawn
    by its label, excepted); the closed drawer and the empty search results are skipped."""
    page = browser.new_page(viewport=viewport)
    try:
        page.goto(base + "policies/network/")
        page.focus("body")
        for _ in range(20):
            page.keyboard.press("Tab")
            info = page.evaluate("""() => { const e = document.activeElement;
                const r = e.getBoundingClientRect();
                return [e.className.toString(), r.right > 0 && r.left < innerWidth && r.width > 0,
                        !!e.closest('.md-search__output')]; }""")
            if "md-option" in info[0] or "md-skip" in info[0]:
                continue
            assert info[1] and not info[2], info
        if viewport is PHONE:  # the drawer, once opened, is reachable
            page.click("label.md-header__button[for=__drawer]")
            assert page.evaluate("document.querySelector('.md-sidebar--primary').inert") is False
    finally:
        page.close()


def test_superseded_said_once_and_logo_drawn_white(demo_site: Path) -> None:
    text = article(demo_site, "policies/backup-legacy").text_content()
    assert text.count("本文件已被替代") == 1
    logo = (demo_site / "assets/images/logo.svg").read_text("utf-8")
    assert "currentColor" not in logo and "#ffffff" in logo


# --------------------------------------------------------------------------- reader features


def test_breadcrumbs_and_article_permalinks(demo_site: Path) -> None:
    crumbs = [a.text_content().strip() for a in
              tree(demo_site, "manuals/oa/01-login").cssselect("nav.md-path a")]
    assert crumbs[:2] == ["首页", "用户手册"]
    # pages outside the navigation: the nearest index page of their folder, tab lit
    for path, expected in (("policies/network", "制度"), ("policies/XXZX-ZD-005/v1.0", "制度"),
                           ("announcements/2026/2026-11-18-backup-drill", "通知公告"),
                           ("training/security-awareness", "培训")):
        page = tree(demo_site, path)
        assert [a.text_content().strip() for a in page.cssselect("nav.md-path a")] == \
            ["首页", expected], path
        assert page.cssselect(".md-tabs__item--active a")[0].text_content().strip() == expected
    policy = tree(demo_site, "policies/network")
    article5 = policy.get_element_by_id("第五条")
    assert article5.tag == "p" and article5.cssselect("a.headerlink")[0].get("href") == "#第五条"
    assert article5.text_content().startswith("第五条¶ IP 地址")


def test_backlinks_list_pages_that_link_here(demo_site: Path) -> None:
    block = tree(demo_site, "policies/information-security").cssselect(".kb-backlinks")[0]
    titles = [a.text_content() for a in block.cssselect("a")]
    assert "网络管理制度" in titles and "账号与口令管理制度" in titles
    assert "制度" not in titles and "信息中心知识库" not in titles  # registers and home not counted
    assert not tree(demo_site, "search").cssselect(".kb-backlinks")


def test_previous_next_among_notices_and_courses(demo_site: Path) -> None:
    def footer(path: str) -> tuple[str | None, str | None]:
        page = tree(demo_site, path)
        prev = page.cssselect(".md-footer__link--prev")
        nxt = page.cssselect(".md-footer__link--next")
        return (prev[0].get("aria-label") if prev else None, nxt[0].get("aria-label") if nxt else None)

    prev, nxt = footer("announcements/2026/2026-11-18-backup-drill")
    assert prev == "上一页: 关于 Windows 10 终端停止接入办公网的通知"
    assert nxt == "下一页: 冬季信息安全意识培训报名"
    assert footer("training/security-awareness") == (None, "下一页: OA 系统新员工培训")


def test_course_shows_upcoming_sessions(demo_site: Path) -> None:
    """On the tests' today (2026-11-27) the June session is past, December's two are shown."""
    block = tree(demo_site, "training/security-awareness").cssselect(
        '.kb-course [data-kb-field="sessions"]')[0].text_content()
    assert "2026-12-09（周三） 14:00-16:00 · 行政楼三楼培训室" in block
    assert "2026-12-11（周五）" in block and "2026-06-24" not in block


def test_kb_pdf_environment_switches_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    """make build sets KB_PDF=1: the demo shows 下载 PDF without editing mkdocs.yml."""
    from mkdocs.exceptions import PluginError

    from kb.config import kb_settings

    config = {"extra": {"kb": {"pdf": False}}}
    monkeypatch.setenv("KB_PDF", "1")
    assert kb_settings(config).pdf is True
    monkeypatch.setenv("KB_PDF", "0")
    assert kb_settings({"extra": {"kb": {"pdf": True}}}).pdf is False
    monkeypatch.setenv("KB_PDF", "maybe")
    with pytest.raises(PluginError, match="KB_PDF"):
        kb_settings(config)
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text("utf-8")
    assert re.search(r"KB_PDF=\$\(PDF\) \$\(BIN\)/mkdocs build", makefile)
