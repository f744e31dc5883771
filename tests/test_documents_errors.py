"""Malformed controlled documents: each breaks one rule; one build reports them all and fails.

ONE project holds every malformed file (plus valid ones they refer to) and is built once for the
module; each test asserts the exact error (file, line, field, expected, found) of one file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import build_env, build_site
from documents_project import make_project, policy

# --------------------------------------------------------------------------- fixture files

HEAD = """\
---
doc_id: {doc_id}
title: {title}
version: "1.0"
status: effective
owner: 信息中心
author: 张伟
reviewer: 李娜
approver: 王建国
effective_date: 2026-01-01
review_months: 12
"""


def doc(doc_id: str, title: str, extra: str = "", head: str = HEAD) -> str:
    """A policy: the standard head (lines 2-11), then ``extra`` lines from line 12 on."""
    return head.format(doc_id=doc_id, title=title) + extra + "---\n# " + title + "\n\n正文。\n"


def without(key: str) -> str:
    """The standard head without the line of ``key``."""
    return "".join(line + "\n" for line in HEAD.splitlines() if not line.startswith(key + ":"))


FILES: dict[str, str] = {
    "policies/index.md": "# 制度\n\n<!-- kb:policy-register -->\n",
    # 1. a key the model does not know (line 12)
    "policies/unknown-key.md": doc("XXZX-ZD-101", "未知字段", "keyword: [网络]\n"),
    # 2. status outside the allowed set (line 5)
    "policies/bad-status.md": doc("XXZX-ZD-102", "错误状态").replace(
        "status: effective", "status: active"),
    # 3. version not MAJOR.MINOR (line 4)
    "policies/bad-version.md": doc("XXZX-ZD-103", "错误版本").replace(
        'version: "1.0"', "version: v2"),
    # 4. a date that does not exist (line 10)
    "policies/bad-date.md": doc("XXZX-ZD-104", "错误日期").replace(
        "effective_date: 2026-01-01", "effective_date: 2026-02-30"),
    # 5. effective without approver (reported on the status line, 5)
    "policies/no-approver.md": doc("XXZX-ZD-105", "缺少批准人", head=without("approver")),
    # 6. effective without review data (status line, 5)
    "policies/no-review.md": doc("XXZX-ZD-106", "缺少复审周期", head=without("review_months")),
    # 7. the same doc_id in two files (error on the second, naming the first)
    "policies/dup-a.md": doc("XXZX-ZD-107", "编号重复甲"),
    "policies/dup-b.md": doc("XXZX-ZD-107", "编号重复乙"),
    # 8. doc_id not matching the policy pattern of mkdocs.yml (line 2)
    "policies/bad-id.md": doc("ZD-108", "编号格式错误"),
    # 9. supersedes a document that does not exist (line 12)
    "policies/supersedes-nothing.md": doc("XXZX-ZD-109", "替代不存在的文件",
                                          "supersedes: XXZX-ZD-999\n"),
    # 10. supersedes/superseded_by disagree: old names 112 as successor, 110 claims it too
    "policies/claims-old.md": doc("XXZX-ZD-110", "声称替代", "supersedes: XXZX-ZD-111\n"),
    "policies/old.md": doc("XXZX-ZD-111", "旧制度", "superseded_by: XXZX-ZD-112\n").replace(
        "status: effective", "status: superseded"),
    "policies/real-successor.md": doc("XXZX-ZD-112", "新制度", "supersedes: XXZX-ZD-111\n"),
    # 11. newest history entry is not the current version (entry at line 15)
    "policies/history-mismatch.md": doc("XXZX-ZD-113", "修订记录不符", (
        "history:\n"
        "  - version: \"0.9\"\n"
        "    date: 2025-06-01\n"
        "    summary: 试行\n"
        "  - version: \"1.1\"\n"
        "    date: 2025-12-01\n"
        "    summary: 修订\n")),
    # 12. YAML that does not parse (line 3)
    "policies/broken-yaml.md": doc("XXZX-ZD-114", "[未闭合的标题"),
    # 12b. a tab indenting a key (line 6): the hint is about tabs, not the content model
    "policies/tab-indent.md": doc("XXZX-ZD-120", "制表符缩进").replace(
        "owner: 信息中心", "\towner: 信息中心"),
    # 13. tags must be a list (line 12)
    "policies/tags-not-list.md": doc("XXZX-ZD-115", "标签类型错误", "tags: 网络\n"),
    # 14. review interval out of range (line 11)
    "policies/zero-review.md": doc("XXZX-ZD-116", "复审周期为零").replace(
        "review_months: 12", "review_months: 0"),
    # 15. a notice that expires before it is published (line 5)
    "docs/announcements/2026/2026-03-01-expired.md": """\
        ---
        title: 机房停电通知
        date: 2026-03-01
        category: 系统维护
        expires: 2026-02-01
        ---
        # 机房停电通知
        """,
    # 16. a notice category not in extra.kb.announcement_categories (line 4)
    "docs/announcements/2026/2026-03-02-category.md": """\
        ---
        title: 食堂菜单
        date: 2026-03-02
        category: 生活服务
        ---
        # 食堂菜单
        """,
    # 17. a manual chapter whose number is not a number (line 2)
    "manuals/vpn/index.md": doc("XXZX-SC-101", "VPN 使用手册"),
    "manuals/vpn/01-install.md": "---\nchapter: 1\ntitle: 安装\n---\n# 安装\n",
    "manuals/vpn/02-bad.md": "---\nchapter: 二\ntitle: 连接\n---\n# 连接\n",
    # 18. a manual with the policy number pattern (line 2)
    "manuals/oa/index.md": doc("XXZX-ZD-117", "OA 使用手册"),
    # 19. next review not after the effective date (line 11)
    "policies/review-before-effective.md": doc("XXZX-ZD-118", "复审早于生效").replace(
        "review_months: 12", "next_review: 2025-12-31"),
    # 20. a plain page with a key plain pages do not have (line 2)
    "docs/about.md": "---\nstatus: effective\n---\n# 关于\n",
    # 21. (EXPECTED_MANY) an impossible date does not hide an unknown category
    "docs/announcements/2026/2026-03-03-two.md": """\
        ---
        title: 两处错误
        date: 2026-13-45
        category: 八卦
        ---
        # 两处错误
        """,
    # 22. (EXPECTED_MANY) a file's missing approver does not hide its duplicate doc_id
    "policies/hardware.md": doc("XXZX-ZD-107", "硬件管理", head=without("approver")),
    # 23. (EXPECTED_MANY) a bad version does not hide the rule that needs an approver
    "policies/version-and-approver.md": doc("XXZX-ZD-119", "版本与批准", head=without(
        "approver")).replace('version: "1.0"', "version: v2"),
}

#: the one error each malformed file must produce, exactly as printed
EXPECTED: dict[str, str] = {
    "policies/unknown-key.md":
        "policies/unknown-key.md:12: keyword: expected one of the known keys: acknowledge, "
        "acknowledge_days, acknowledge_groups, announce, approver, author, confidentiality, "
        "doc_id, effective_date, history, keywords, next_review, owner, review_months, reviewer, "
        "status, superseded_by, supersedes, tags, title, version, "
        "found unknown key 'keyword' (check the spelling)",
    "policies/bad-status.md":
        "policies/bad-status.md:5: status (状态): expected one of draft, review, effective, "
        "superseded or retired, found 'active'",
    "policies/bad-version.md":
        "policies/bad-version.md:4: version (版本): expected a version MAJOR.MINOR such as 1.0 "
        "or 2.3, found 'v2'",
    "policies/bad-date.md":
        "policies/bad-date.md:10: effective_date (生效日期): expected a date YYYY-MM-DD, "
        "found '2026-02-30'",
    "policies/no-approver.md":
        "policies/no-approver.md:5: approver (批准): expected a value: required when status is "
        "effective, found nothing",
    "policies/no-review.md":
        "policies/no-review.md:5: review_months (复审周期（月）): expected review_months or "
        "next_review: required when status is effective, found nothing",
    "policies/dup-b.md":
        "policies/dup-b.md:2: doc_id (文件编号): expected a doc_id no other document uses, "
        "found 'XXZX-ZD-107', already used by policies/dup-a.md:2",
    "policies/bad-id.md":
        "policies/bad-id.md:2: doc_id (文件编号): expected a doc_id matching ^XXZX-ZD-\\d{3}$ "
        "(the pattern for policy documents in mkdocs.yml), found 'ZD-108'",
    "policies/supersedes-nothing.md":
        "policies/supersedes-nothing.md:12: supersedes (替代): expected the doc_id of another "
        "existing document, found 'XXZX-ZD-999' (no document has it)",
    "policies/claims-old.md":
        "policies/claims-old.md:12: supersedes (替代): expected policies/old.md (XXZX-ZD-111) "
        "to say superseded_by: XXZX-ZD-110, found superseded_by: XXZX-ZD-112",
    "policies/history-mismatch.md":
        "policies/history-mismatch.md:16: history (修订记录): expected the newest entry to have "
        "the document's version 1.0, found newest entry version 1.1",
    "policies/broken-yaml.md":
        "policies/broken-yaml.md:3: expected valid YAML front matter, "
        "found expected ',' or ']', but got ':' on line 4 (while parsing a flow sequence that "
        "starts here) (close the [ or { of the list on that line, or quote a value that starts "
        "with [ or {)",
    "policies/tab-indent.md":
        "policies/tab-indent.md:6: expected valid YAML front matter, found character '\\t' "
        "that cannot start any token (YAML does not allow tabs; indent with spaces)",
    "policies/tags-not-list.md":
        "policies/tags-not-list.md:12: tags (标签): expected a list, found '网络'",
    "policies/zero-review.md":
        "policies/zero-review.md:11: review_months (复审周期（月）): expected a number greater "
        "than or equal to 1, found 0",
    "docs/announcements/2026/2026-03-01-expired.md":
        "docs/announcements/2026/2026-03-01-expired.md:5: expires (有效期至): expected a date on "
        "or after date (2026-03-01), found 2026-02-01",
    "docs/announcements/2026/2026-03-02-category.md":
        "docs/announcements/2026/2026-03-02-category.md:4: category (类别): expected one of "
        "系统维护, 安全通告, 培训通知, 制度发布, 其他 (extra.kb.announcement_categories), "
        "found '生活服务'",
    "manuals/vpn/02-bad.md":
        "manuals/vpn/02-bad.md:2: chapter (章节): expected a whole number, found '二'",
    "manuals/oa/index.md":
        "manuals/oa/index.md:2: doc_id (文件编号): expected a doc_id matching ^XXZX-SC-\\d{3}$ "
        "(the pattern for manual documents in mkdocs.yml), found 'XXZX-ZD-117'",
    "policies/review-before-effective.md":
        "policies/review-before-effective.md:11: next_review (下次复审): expected a date after "
        "effective_date (2026-01-01), found 2025-12-31",
    "docs/about.md":
        "docs/about.md:2: status (状态): expected one of the known keys: confidentiality, "
        "keywords, tags, title, "
        "found unknown key 'status' (check the spelling)",
}

#: files with independent errors: every one is reported in the same run
EXPECTED_MANY: dict[str, list[str]] = {
    "docs/announcements/2026/2026-03-03-two.md": [
        "docs/announcements/2026/2026-03-03-two.md:3: date (发布日期): expected a date "
        "YYYY-MM-DD, found '2026-13-45'",
        "docs/announcements/2026/2026-03-03-two.md:4: category (类别): expected one of "
        "系统维护, 安全通告, 培训通知, 制度发布, 其他 (extra.kb.announcement_categories), "
        "found '八卦'"],
    "policies/hardware.md": [
        "policies/hardware.md:2: doc_id (文件编号): expected a doc_id no other document uses, "
        "found 'XXZX-ZD-107', already used by policies/dup-a.md:2",
        "policies/hardware.md:5: approver (批准): expected a value: required when status is "
        "effective, found nothing"],
    "policies/version-and-approver.md": [
        "policies/version-and-approver.md:4: version (版本): expected a version MAJOR.MINOR "
        "such as 1.0 or 2.3, found 'v2'",
        "policies/version-and-approver.md:5: approver (批准): expected a value: required when "
        "status is effective, found nothing"],
}
ALL_ERRORS: list[str] = [*EXPECTED.values(), *(e for es in EXPECTED_MANY.values() for e in es)]

_ERROR_LINE = re.compile(r"^\s*- (\S+\.md(?::\d+)?: .*)$")


class BuildResult:
    """What the failed build printed, split into error messages."""

    def __init__(self, proc: subprocess.CompletedProcess[str], site: Path):
        self.proc, self.site = proc, site
        self.output = proc.stdout + proc.stderr
        self.errors = [m.group(1) for line in self.output.splitlines()
                       if (m := _ERROR_LINE.match(line))]

    def errors_of(self, file: str) -> list[str]:
        return [e for e in self.errors if e.split(":", 1)[0] == file]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The malformed project, built once without --strict."""
    project = make_project(tmp_path_factory.mktemp("broken"), FILES)
    site = project / "site"
    proc = build_site(project, site, strict=False, check=False)
    return BuildResult(proc, site)


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_each_malformed_file_reports_its_exact_error(broken: BuildResult, file: str) -> None:
    """The file's one error names its file, line, field, what was expected and what was found."""
    assert broken.errors_of(file) == [EXPECTED[file]]


@pytest.mark.parametrize("file", sorted(EXPECTED_MANY))
def test_independent_errors_of_one_file_are_all_reported(broken: BuildResult, file: str) -> None:
    """A field's error hides neither another field's nor a site-wide rule's (duplicate doc_id,
    category list, required-per-status): the writer fixes them all after one run."""
    assert sorted(broken.errors_of(file)) == sorted(EXPECTED_MANY[file])


def test_build_fails_without_strict(broken: BuildResult) -> None:
    """Content errors fail `mkdocs build` (no --strict) before any page is written."""
    assert broken.proc.returncode != 0
    assert not list(broken.site.rglob("*.html"))


def test_all_errors_of_one_build_are_reported_together(broken: BuildResult) -> None:
    """One build lists every error at once under one header, and nothing else as an error."""
    assert len(EXPECTED) >= 12
    headers = re.findall(r"(\d+) content error\(s\); nothing was published:", broken.output)
    assert headers == [str(len(ALL_ERRORS))]
    assert sorted(broken.errors) == sorted(ALL_ERRORS)


def test_valid_documents_next_to_broken_ones_raise_nothing(broken: BuildResult) -> None:
    """Files that only serve as targets (dup-a, old, real-successor, vpn index) are clean."""
    for file in ("policies/dup-a.md", "policies/old.md", "policies/real-successor.md",
                 "manuals/vpn/index.md", "manuals/vpn/01-install.md", "policies/index.md"):
        assert broken.errors_of(file) == []


def test_fixing_the_files_makes_the_build_pass(tmp_path: Path) -> None:
    """The valid twins of the fixtures build cleanly (strict), so the errors are the files' fault."""
    files = {
        "policies/index.md": FILES["policies/index.md"],
        "policies/a.md": policy("XXZX-ZD-201", "甲", extra="tags: [网络]\nsupersedes: XXZX-ZD-202"),
        "policies/b.md": policy("XXZX-ZD-202", "乙", status="superseded",
                                extra="superseded_by: XXZX-ZD-201"),
        "manuals/vpn/index.md": FILES["manuals/vpn/index.md"],
        "manuals/vpn/01-install.md": FILES["manuals/vpn/01-install.md"],
    }
    project = make_project(tmp_path / "fixed", files)
    build_site(project, project / "site")
    assert (project / "site" / "policies" / "a" / "index.html").is_file()


def test_loading_without_a_build_finds_the_same_errors(broken: BuildResult) -> None:
    """`kb.content.catalog.load` (no build) finds exactly the errors the build reported."""
    project = broken.site.parent
    code = ("import sys; from kb.content.catalog import load; c, _ = load(sys.argv[1]); "
            "print('\\n'.join(str(e) for e in c.errors))")
    proc = subprocess.run([sys.executable, "-c", code, str(project / "mkdocs.yml")],
                          capture_output=True, text=True, env=build_env(), check=True)
    assert sorted(proc.stdout.splitlines()) == sorted(ALL_ERRORS)


def test_kb_report_still_informs_when_files_are_broken(broken: BuildResult) -> None:
    """`kb report` exits 0 on a broken project and says how many files it could not read."""
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "report", "-f",
                           str(broken.site.parent / "mkdocs.yml")],
                          capture_output=True, text=True, env=build_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        f"另有 {len(EXPECTED) + len(EXPECTED_MANY)} 个文件的元数据有误，未计入本报告；运行 kb check 查看详情。")
