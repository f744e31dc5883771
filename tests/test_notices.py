"""Notices (issue 7): lifecycle by KB_TODAY, home list, archive pages, feeds, bad input.

A small fixture project (own notices and one announced policy) is built for three situations:
2026-11-27 (internal), 2026-12-05 (confidential audience) and 2026-11-27 with the preview switch.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
from lxml import html as lxml_html

from conftest import build_site, copy_project

SITE_URL = "https://kb.infocenter.example/"

NOTICES = {
    "2026/2026-11-20-mail-upgrade.md": ("邮件系统升级维护", "2026-11-20", "系统维护", "expires: 2026-11-30"),
    "2026/2026-10-08-phishing-alert.md": ("防范钓鱼邮件的紧急提醒", "2026-10-08", "安全通告", "pinned: true"),
    "2026/2026-12-01-oa-training.md": ("新版办公系统培训安排", "2026-12-01", "培训通知", "expires: 2026-12-20"),
    "2026/2026-09-02-holiday-duty.md": ("国庆假期值班安排", "2026-09-02", "其他", "expires: 2026-09-30"),
    "2026/2026-11-25-secret-drill.md": ("应急演练ZXQ9内部部署", "2026-11-25", "其他", "confidentiality: confidential"),
    "2026/2026-06-15-room-patrol.md": ("服务器机房例行巡检安排", "2026-06-15", "系统维护", ""),
    "2026/2026-11-02-vpn-client.md": ("VPN 客户端更新", "2026-11-02", "系统维护", "expires: 2026-12-31"),
}
RELEASE_V2 = "关于发布《公告测试管理制度》2.0 版的通知"
RELEASE_V1 = "关于发布《公告测试管理制度》1.0 版的通知"

POLICY = """\
---
doc_id: XXZX-ZD-901
title: 公告测试管理制度
version: "2.0"
status: effective
owner: 信息中心
author: 张伟
reviewer: 李娜
approver: 王建国
effective_date: 2026-11-10
review_months: 12
announce: true
history:
  - version: "1.0"
    date: 2025-03-01
    summary: 首次发布
  - version: "2.0"
    date: 2026-11-10
    summary: 增加值班交接要求
---
# 公告测试管理制度

本制度用于测试制度发布通知的生成。
"""


def notice_text(title: str, day: str, category: str, extra: str) -> str:
    lines = ["---", f"title: {title}", f"date: {day}", f"category: {category}"]
    lines += [extra] if extra else []
    lines += ["---", f"# {title}", "", f"{title}的正文第一段。", ""]
    return "\n".join(lines)


def make_project(dest: Path, notices: dict[str, str], policies: dict[str, str] | None = None) -> Path:
    """A copy of the demo's config, hooks and theme with only our pages and notices."""
    copy_project(dest, ("mkdocs.yml", "hooks", "docs"))
    for child in (dest / "docs").iterdir():
        if child.name not in ("overrides", "assets"):
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (dest / "docs/index.md").write_text("# 首页\n\n## 通知公告\n\n<!-- kb:current-announcements -->\n",
                                        encoding="utf-8")
    (dest / "docs/about.md").write_text("# 关于\n\n测试站点。\n", encoding="utf-8")
    ann = dest / "docs/announcements"
    ann.mkdir()
    (ann / "index.md").write_text("# 通知公告\n\n<!-- kb:announcement-archive -->\n", encoding="utf-8")
    for rel, text in notices.items():
        (ann / rel).parent.mkdir(parents=True, exist_ok=True)
        (ann / rel).write_text(text, encoding="utf-8")
    for root in ("policies", "manuals"):
        (dest / root).mkdir()
    for name, text in (policies or {}).items():
        (dest / "policies" / name).write_text(text, encoding="utf-8")
    config = (dest / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"\nnav:\n(?:  .*\n)+", "\nnav:\n  - 首页: index.md\n  - 通知公告: announcements/index.md\n"
                    "  - 关于: about.md\n", config)
    # the Whoosh index is issue 9's leak test's business; skipping it keeps these builds fast
    config = re.sub(r"\n  - hooks/search_index\.py.*", "", config)
    config = re.sub(r"home_announcements: \d+", "home_announcements: 3\n    announcement_page_size: 2",
                    config)
    (dest / "mkdocs.yml").write_text(config, encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    notices = {rel: notice_text(*spec) for rel, spec in NOTICES.items()}
    return make_project(tmp_path_factory.mktemp("ann") / "kb", notices, {"fixture-release.md": POLICY})


@pytest.fixture(scope="module")
def site_1127(project: Path) -> Path:
    out = project.parent / "site-1127"
    build_site(project, out, {"KB_TODAY": "2026-11-27"})
    return out


@pytest.fixture(scope="module")
def site_1205(project: Path) -> Path:
    out = project.parent / "site-1205"
    build_site(project, out, {"KB_TODAY": "2026-12-05", "KB_AUDIENCE": "confidential"})
    return out


@pytest.fixture(scope="module")
def site_preview(project: Path) -> Path:
    out = project.parent / "site-preview"
    build_site(project, out, {"KB_TODAY": "2026-11-27", "KB_PREVIEW": "1"})
    return out


# --------------------------------------------------------------------------- helpers


def page(site: Path, url: str):
    return lxml_html.fromstring((site / url / "index.html").read_text(encoding="utf-8"))


def titles(tree, xpath: str) -> list[str]:
    return [a.text_content().strip() for a in tree.xpath(xpath)]


def home_titles(site: Path) -> list[str]:
    return titles(page(site, ""), '//div[@class="kb-home-notices"]//a[@class="kb-notice__title"]')


def feed(site: Path, path: str):
    parsed = feedparser.parse((site / path).read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def local_target(site: Path, link: str) -> Path:
    assert link.startswith(SITE_URL), link
    path = unquote(urlsplit(link).path)[1:]
    return site / path / "index.html" if path == "" or path.endswith("/") else site / path


def all_site_text(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in site.rglob("*")
                     if p.is_file() and p.suffix in (".html", ".xml", ".json", ".txt"))


# --------------------------------------------------------------------------- home page


def test_home_lists_pinned_first_then_newest_up_to_limit(site_1127: Path) -> None:
    """Home on 11-27: pinned notice first, then the newest current ones, three at most."""
    assert home_titles(site_1127) == ["防范钓鱼邮件的紧急提醒", "邮件系统升级维护", RELEASE_V2]


def test_home_after_expiry_and_publication(site_1205: Path) -> None:
    """Home on 12-05: the expired notice is gone, the scheduled one has appeared."""
    assert home_titles(site_1205) == ["防范钓鱼邮件的紧急提醒", "新版办公系统培训安排",
                                      "应急演练ZXQ9内部部署"]


def test_preview_shows_scheduled_notice_marked(site_preview: Path) -> None:
    """KB_PREVIEW=1 lists the scheduled notice with a 待发布 badge and builds its page."""
    tree = page(site_preview, "")
    assert home_titles(site_preview)[:2] == ["防范钓鱼邮件的紧急提醒", "新版办公系统培训安排"]
    item = tree.xpath('//li[contains(@class,"kb-notice--scheduled")]')[0]
    assert "待发布" in item.text_content()
    notice = page(site_preview, "announcements/2026/2026-12-01-oa-training/")
    assert "待发布（预览）" in notice.text_content()


def test_preview_keeps_scheduled_notice_out_of_feeds(site_preview: Path) -> None:
    """Even in preview, feeds only carry notices that are current."""
    assert "新版办公系统培训安排" not in [e.title for e in feed(site_preview, "announcements/feed.xml").entries]


# --------------------------------------------------------------------------- lifecycle


def test_scheduled_notice_has_no_page_and_no_trace(site_1127: Path) -> None:
    """Before its date a notice has no page, list entry or feed item anywhere."""
    assert not (site_1127 / "announcements/2026/2026-12-01-oa-training").exists()
    text = all_site_text(site_1127)
    assert "新版办公系统培训安排" not in text and "2026-12-01-oa-training" not in text


def test_confidential_notice_leaves_no_trace_in_internal_build(site_1127: Path, site_1205: Path) -> None:
    """A notice above the audience leaves no page, archive row or feed item; a higher audience sees it."""
    assert "ZXQ9" not in all_site_text(site_1127)
    assert not (site_1127 / "announcements/2026/2026-11-25-secret-drill").exists()
    assert "应急演练ZXQ9内部部署" in [e.title for e in feed(site_1205, "announcements/feed.xml").entries]


def test_expired_notice_keeps_page_with_banner(site_1127: Path, site_1205: Path) -> None:
    """An expired notice stays reachable with a 已过期 banner; a current one has none."""
    expired = page(site_1127, "announcements/2026/2026-09-02-holiday-duty/")
    banner = expired.xpath('//div[contains(@class,"kb-notice-banner--expired")]')
    assert banner and "已过期" in banner[0].text_content() and "2026-09-30" in banner[0].text_content()
    current = page(site_1127, "announcements/2026/2026-11-20-mail-upgrade/")
    assert not current.xpath('//div[contains(@class,"kb-notice-banner")]')
    later = page(site_1205, "announcements/2026/2026-11-20-mail-upgrade/")
    assert later.xpath('//div[contains(@class,"kb-notice-banner--expired")]')


def test_notices_stay_out_of_navigation(site_1127: Path) -> None:
    """Notice and archive pages are not in the site navigation."""
    nav = " ".join(lxml_html.tostring(n, encoding="unicode")
                   for n in page(site_1127, "about/").xpath('//nav[contains(@class,"md-nav")]'))
    assert "announcements/" in nav  # the archive index is in the navigation
    assert "announcements/2026" not in nav and "announcements/archive" not in nav


# --------------------------------------------------------------------------- archive


def test_archive_index_lists_published_notices_with_expired_marked(site_1127: Path) -> None:
    """The archive lists expired notices (marked) and every category with its count."""
    tree = page(site_1127, "announcements/")
    listed = titles(tree, '//ul[@class="kb-notices"]//a[@class="kb-notice__title"]')
    assert listed[:2] == ["邮件系统升级维护", RELEASE_V2]  # newest first, page size 2
    categories = tree.xpath('//ul[@class="kb-archive-categories"]/li')
    assert [c.text_content() for c in categories] == [
        "系统维护 (3)", "安全通告 (1)", "培训通知 (0)", "制度发布 (2)", "其他 (1)"]
    months = tree.xpath('//ul[@class="kb-archive-months"]')[0].text_content()
    assert "2026 年" in months and "11 月 (3)" in months and "2025 年" in months


def test_category_archive_is_paginated(site_1127: Path) -> None:
    """A category with more notices than the page size gets a second page linked from the first."""
    first = page(site_1127, "announcements/category/xi-tong-wei-hu/")
    second = page(site_1127, "announcements/category/xi-tong-wei-hu/page/2/")
    assert titles(first, '//ul[@class="kb-notices"]//a') == ["邮件系统升级维护", "VPN 客户端更新"]
    assert titles(second, '//ul[@class="kb-notices"]//a') == ["服务器机房例行巡检安排"]
    assert first.xpath('//nav[@class="kb-pager"]//a[@rel="next"]/@href') == ["page/2/"]


def test_month_archive_marks_expired_and_hides_scheduled(site_1127: Path) -> None:
    """Month pages list that month's published notices; expired ones carry the badge."""
    september = page(site_1127, "announcements/archive/2026/09/")
    item = september.xpath('//li[contains(@class,"kb-notice--expired")]')[0]
    assert "国庆假期值班安排" in item.text_content() and "已过期" in item.text_content()
    assert not (site_1127 / "announcements/archive/2026/12").exists()
    assert (site_1127 / "announcements/archive/2026/11/page/2/index.html").exists()


def test_archive_links_resolve(site_1127: Path) -> None:
    """Every link on the generated archive pages points at a file of the site."""
    assert len(list((site_1127 / "announcements").rglob("index.html"))) > 10
    assert_archive_links_resolve(site_1127)


def assert_archive_links_resolve(site_1127: Path) -> None:
    pages = [p for p in (site_1127 / "announcements").rglob("index.html")]
    assert pages
    for html_file in pages:
        for href in lxml_html.fromstring(html_file.read_text(encoding="utf-8")).xpath(
                '//article//a/@href'):
            if href.startswith(("#", "http")):
                continue
            target = (html_file.parent / unquote(href.split("#")[0])).resolve()
            assert (target / "index.html").exists() or target.is_file(), (html_file, href)


# --------------------------------------------------------------------------- release notices


def test_release_notices_generated_per_version(site_1127: Path) -> None:
    """An announced policy gets a 制度发布 notice per effective version, linking to it."""
    v2 = page(site_1127, "announcements/2026/2026-11-10-release-fixture-release-v2-0/")
    assert RELEASE_V2 in v2.text_content() and "增加值班交接要求" in v2.text_content()
    links = [h for h in v2.xpath("//article//a/@href") if "policies" in h]
    assert links and (site_1127 / "announcements/2026/2026-11-10-release-fixture-release-v2-0"
                      / links[0]).resolve().joinpath("index.html").exists()
    v1 = page(site_1127, "announcements/2025/2025-03-01-release-fixture-release-v1-0/")
    assert v1.xpath('//div[contains(@class,"kb-notice-banner--expired")]')
    category = page(site_1127, "announcements/category/zhi-du-fa-bu/")
    assert titles(category, '//ul[@class="kb-notices"]//a') == [RELEASE_V2, RELEASE_V1]


# --------------------------------------------------------------------------- feeds


@pytest.mark.parametrize("path,version", [("announcements/feed.xml", "rss20"),
                                          ("announcements/atom.xml", "atom10")])
def test_feeds_carry_exactly_the_current_notices(site_1127: Path, site_1205: Path,
                                                 path: str, version: str) -> None:
    """RSS and Atom list the current notices, newest first, on both days."""
    parsed = feed(site_1127, path)
    assert parsed.version == version
    assert [e.title for e in parsed.entries] == [
        "邮件系统升级维护", RELEASE_V2, "VPN 客户端更新", "防范钓鱼邮件的紧急提醒", "服务器机房例行巡检安排"]
    later = [e.title for e in feed(site_1205, path).entries]
    assert later == ["新版办公系统培训安排", "应急演练ZXQ9内部部署", RELEASE_V2, "VPN 客户端更新",
                     "防范钓鱼邮件的紧急提醒", "服务器机房例行巡检安排"]


def test_category_feeds_exist_for_every_category(site_1127: Path) -> None:
    """Each category has RSS and Atom feeds, empty ones included, with only its notices."""
    maint = feed(site_1127, "announcements/category/xi-tong-wei-hu/feed.xml")
    assert [e.title for e in maint.entries] == ["邮件系统升级维护", "VPN 客户端更新", "服务器机房例行巡检安排"]
    assert all(e.tags[0].term == "系统维护" for e in maint.entries)
    training = feed(site_1127, "announcements/category/pei-xun-tong-zhi/atom.xml")
    assert training.version == "atom10" and training.entries == []


def test_feed_links_are_absolute_and_resolve(site_1127: Path) -> None:
    """Every feed item links (absolute, from site_url) to a page that exists."""
    paths = list(site_1127.glob("announcements/**/feed.xml")) + list(site_1127.glob("announcements/**/atom.xml"))
    assert len(paths) == 12  # all + 5 categories, RSS and Atom each
    for path in paths:
        parsed = feed(site_1127, str(path.relative_to(site_1127)))
        assert parsed.feed.link.startswith(SITE_URL)
        for entry in parsed.entries:
            assert local_target(site_1127, entry.link).is_file(), entry.link


def test_feed_dates_in_site_time_zone(site_1127: Path) -> None:
    """Dates are midnight in Asia/Shanghai: +0800 in RSS, +08:00 in Atom."""
    rss = (site_1127 / "announcements/feed.xml").read_text(encoding="utf-8")
    atom = (site_1127 / "announcements/atom.xml").read_text(encoding="utf-8")
    assert "<pubDate>Fri, 20 Nov 2026 00:00:00 +0800</pubDate>" in rss
    assert "<published>2026-11-20T00:00:00+08:00</published>" in atom
    entry = feed(site_1127, "announcements/feed.xml").entries[0]
    assert entry.description == "邮件系统升级维护的正文第一段。"


def test_feeds_discoverable_from_pages(site_1127: Path) -> None:
    """Home, archive and notice pages announce the feeds with <link rel="alternate feed">."""
    for url in ("", "announcements/", "announcements/2026/2026-11-20-mail-upgrade/"):
        types = page(site_1127, url).xpath('//head/link[@rel="alternate feed"]/@type')
        assert "application/rss+xml" in types and "application/atom+xml" in types, url


# --------------------------------------------------------------------------- bad input

BAD = {
    "2026/2026-11-01-bad-category.md": notice_text("类别错误", "2026-11-01", "系统通知", ""),
    "2026/2026-11-02-no-date.md": "---\ntitle: 缺少日期\ncategory: 其他\n---\n# 缺少日期\n",
    "2026/2026-11-03-bad-date.md": notice_text("日期错误", "2026-02-30", "其他", ""),
    "2026/2026-11-04-expires-early.md": notice_text("过期早于发布", "2026-11-04", "其他",
                                                    "expires: 2026-10-01"),
}


@pytest.fixture(scope="module")
def bad_build(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ann-bad")
    project = make_project(root / "kb", BAD)
    proc = build_site(project, root / "site", check=False)
    return proc, root / "site"


def _error_line(proc, file: str) -> str:
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if f"docs/announcements/2026/{file}" in line]
    assert lines, proc.stdout + proc.stderr
    return "\n".join(lines)


def test_bad_input_fails_build_and_publishes_nothing(bad_build) -> None:
    """Any bad notice fails the build before a page is written."""
    proc, site = bad_build
    assert proc.returncode != 0
    assert not (site / "index.html").exists()


def test_unknown_category_lists_allowed(bad_build) -> None:
    """Unknown category: the error names the file and lists the allowed categories."""
    line = _error_line(bad_build[0], "2026-11-01-bad-category.md")
    assert "category" in line and "系统通知" in line
    assert all(c in line for c in ("系统维护", "安全通告", "培训通知", "制度发布", "其他"))


def test_missing_date_is_an_error(bad_build) -> None:
    """Missing date: the error names the file and the field."""
    line = _error_line(bad_build[0], "2026-11-02-no-date.md")
    assert "date" in line and "required" in line


def test_unparsable_date_is_an_error(bad_build) -> None:
    """Impossible date: the error names the file, the field and the value found."""
    line = _error_line(bad_build[0], "2026-11-03-bad-date.md")
    assert "date" in line and "2026-02-30" in line and "YYYY-MM-DD" in line


def test_expires_before_date_is_an_error(bad_build) -> None:
    """expires before date: the error names the file and both dates."""
    line = _error_line(bad_build[0], "2026-11-04-expires-early.md")
    assert "expires" in line and "2026-10-01" in line and "2026-11-04" in line


# --------------------------------------------------------------------------- the demo


def test_demo_feeds_parse_and_link_to_pages(demo_site: Path) -> None:
    """The demo's feeds are valid and every item links to one of its pages."""
    for name in ("feed.xml", "atom.xml"):
        parsed = feed(demo_site, f"announcements/{name}")
        for entry in parsed.entries:
            assert local_target(demo_site, entry.link).is_file(), entry.link


def test_demo_home_lists_only_existing_notices(demo_site: Path) -> None:
    """The demo home page's notice list (if any) links to pages that exist."""
    tree = page(demo_site, "")
    for url in tree.xpath('//li[contains(@class,"kb-notice")]/@data-kb-notice'):
        assert (demo_site / url / "index.html").exists(), url
        assert "kb-notice--expired" not in " ".join(
            tree.xpath(f'//li[@data-kb-notice="{url}"]/@class'))


def demo_notices() -> list[dict]:
    """Front matter of the demo's notice files, read straight from the sources."""
    import yaml

    from conftest import ROOT

    out = []
    for path in sorted((ROOT / "docs/announcements").glob("*/*.md")):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        out.append({**meta, "path": path.name})
    return out


def demo_expected(day: str) -> tuple[list[str], list[str]]:
    """(home titles, feed titles) the demo should show on ``day`` (internal audience)."""
    import datetime as dt

    today = dt.date.fromisoformat(day)
    current = [m for m in demo_notices()
               if m["date"] <= today and (m.get("expires") is None or today <= m["expires"])
               and m.get("confidentiality", "internal") in ("public", "internal")]
    current.sort(key=lambda m: (m["date"], m["path"]), reverse=True)  # same day: by file name
    home = sorted(current, key=lambda m: bool(m.get("pinned")), reverse=True)[:6]
    return [m["title"] for m in home], [m["title"] for m in current]


@pytest.fixture(scope="module")
def demo_later(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built on 2026-12-15, after its scheduled notice's date."""
    from conftest import ROOT

    out = tmp_path_factory.mktemp("demo-later") / "site"
    build_site(ROOT, out, {"KB_TODAY": "2026-12-15"})
    return out


@pytest.mark.parametrize("day", ["2026-11-27", "2026-12-15"])
def test_demo_home_and_feed_follow_the_dates(day: str, demo_site: Path, demo_later: Path) -> None:
    """The demo's home list and feed match its notices' dates, expiry and pinning on each day."""
    site = demo_site if day == "2026-11-27" else demo_later
    home, current = demo_expected(day)
    assert home_titles(site) == home
    assert [e.title for e in feed(site, "announcements/feed.xml").entries] == current


def test_demo_scheduled_notice_appears_on_its_date(demo_site: Path, demo_later: Path) -> None:
    """A demo notice dated after 2026-11-27 is absent from that build and present later."""
    import datetime as dt

    scheduled = [m["title"] for m in demo_notices()
                 if dt.date(2026, 11, 27) < m["date"] <= dt.date(2026, 12, 15)]
    assert scheduled, "the demo should have a notice scheduled after 2026-11-27"
    archive_early = page(demo_site, "announcements/").text_content()
    archive_late = page(demo_later, "announcements/").text_content()
    for title in scheduled:
        assert title not in archive_early and title in archive_late


def test_hook_reports_notice_errors_without_documents_hook(tmp_path: Path) -> None:
    """Without hooks/documents.py the notices hook builds the catalog and fails on bad notices itself."""
    project = make_project(tmp_path / "kb", {k: v for k, v in BAD.items() if "category" in k})
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    (project / "mkdocs.yml").write_text(re.sub(r"\n  - hooks/documents\.py.*", "", config),
                                        encoding="utf-8")
    proc = build_site(project, tmp_path / "site", check=False)
    assert proc.returncode != 0
    assert "2026-11-01-bad-category.md:4: category" in proc.stdout + proc.stderr


def test_missing_landing_page_is_generated(tmp_path: Path) -> None:
    """Without docs/announcements/index.md the archive's up-links still land on a generated page."""
    notices = {rel: notice_text(*spec) for rel, spec in list(NOTICES.items())[:3]}
    project = make_project(tmp_path / "kb", notices)
    (project / "docs/announcements/index.md").unlink()
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    (project / "mkdocs.yml").write_text(config.replace("  - 通知公告: announcements/index.md\n", ""),
                                        encoding="utf-8")
    site = tmp_path / "site"
    build_site(project, site, {"KB_TODAY": "2026-11-27"})
    landing = page(site, "announcements/")
    assert [t.rstrip("¶") for t in titles(landing, "//article//h1")] == ["通知公告"]
    assert_archive_links_resolve(site)
