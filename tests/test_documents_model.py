"""The content model and catalog helpers without a build: key lines, translation of pydantic
errors, review dates, content types by location. Fast; no site is built here."""

from __future__ import annotations

import datetime as _dt

import pytest

from kb.config import KBSettings
from kb.documents.control import ReviewState
from kb.content.model import PolicyMeta, add_months, parse_front_matter, validate_meta, version_key
from kb.content.roots import ContentRoots

GOOD = """---
doc_id: XXZX-ZD-001
title: 测试制度
version: "1.2"
status: effective
owner: 信息中心
author: 张伟
reviewer: 李娜
approver: 王建国
effective_date: 2026-01-31
review_months: 1
history:
  - version: "1.2"
    date: 2026-01-31
    summary: 修订
---
# 测试制度
"""


def test_front_matter_keeps_the_line_of_every_key() -> None:
    """Lines are 1-based file lines, also for keys inside lists; the body starts after '---'."""
    front, errors = parse_front_matter(GOOD, "p.md")
    assert errors == [] and front is not None
    assert front.line_of(("doc_id",)) == 2
    assert front.line_of(("history", 0, "summary")) == 15
    assert front.line_of(("no_such_key",)) == 2
    assert front.body_line == 17 and front.body.startswith("# 测试制度")


def test_page_without_front_matter_is_valid_and_empty() -> None:
    """Plain pages need no front matter."""
    front, errors = parse_front_matter("# 标题\n", "docs/x.md")
    assert errors == [] and front is not None and front.data == {}


def test_unclosed_front_matter_is_an_error() -> None:
    """A missing closing '---' names the file and line 1."""
    front, errors = parse_front_matter("---\ntitle: x\n# 正文\n", "docs/x.md")
    assert front is None
    assert [str(e) for e in errors] == [
        "docs/x.md:1: expected front matter closed by a line '---', found no closing '---'"]


def test_every_missing_field_of_a_status_is_its_own_error() -> None:
    """An effective document without author and approver gets one error per field."""
    text = GOOD.replace("author: 张伟\n", "").replace("approver: 王建国\n", "")
    front, _ = parse_front_matter(text, "p.md")
    assert front is not None
    meta, errors = validate_meta(PolicyMeta, front, "p.md")
    assert meta is None
    assert [(e.line, e.field) for e in errors] == [(5, "author (编制)"), (5, "approver (批准)")]


def test_unquoted_version_is_explained() -> None:
    """`version: 1.0` (a YAML number) asks for quotes."""
    front, _ = parse_front_matter(GOOD.replace('version: "1.2"', "version: 1.5", 1), "p.md")
    assert front is not None
    _, errors = validate_meta(PolicyMeta, front, "p.md")
    assert [str(e) for e in errors] == [
        'p.md:4: version (版本): expected a quoted "MAJOR.MINOR" string such as "1.5", found 1.5']


def test_review_due_adds_months_clamped_to_month_end() -> None:
    """Jan 31 + 1 month is Feb 28; versions sort numerically."""
    front, _ = parse_front_matter(GOOD, "p.md")
    assert front is not None
    meta, _ = validate_meta(PolicyMeta, front, "p.md")
    assert isinstance(meta, PolicyMeta)
    assert meta.review_due == _dt.date(2026, 2, 28)
    assert add_months(_dt.date(2024, 1, 31), 1) == _dt.date(2024, 2, 29)
    assert version_key("2.10") > version_key("2.9")


@pytest.mark.parametrize(("today", "state", "days"), [
    ("2026-01-28", "ok", 31), ("2026-01-29", "due", 30), ("2026-02-28", "due", 0),
    ("2026-03-01", "overdue", -1)])
def test_review_state_boundaries(today: str, state: str, days: int) -> None:
    """Due within 30 days (inclusive), overdue from the day after the review date."""
    from kb.content.catalog import Entry

    front, _ = parse_front_matter(GOOD, "p.md")
    assert front is not None
    meta, _ = validate_meta(PolicyMeta, front, "p.md")
    assert meta is not None
    entry = Entry("policies/p.md", "policies/p.md", "policies/p/", "policy", meta, front)
    review = ReviewState.of(entry, _dt.date.fromisoformat(today), 30)
    assert review is not None and (review.state, review.days_left) == (state, days)


@pytest.mark.parametrize(("path", "kind"), [
    ("policies/network.md", "policy"), ("policies/index.md", "page"),
    ("manuals/index.md", "page"), ("manuals/vpn/index.md", "manual"),
    ("manuals/vpn/01-apply.md", "chapter"), ("manuals/stray.md", None),
    ("docs/training/vpn-basics.md", "course"), ("docs/training/index.md", "page"),
    ("docs/announcements/2026/2026-01-05-x.md", "announcement"),
    ("docs/announcements/index.md", "page"), ("docs/about.md", "page"), ("docs/index.md", "page"),
])
def test_content_type_by_location(path: str, kind: str | None) -> None:
    """The layout of the brief decides each file's type."""
    from kb.content.catalog import content_type

    settings = KBSettings()
    roots = ContentRoots("/repo", "docs", ("policies", "manuals"))
    assert content_type(path, roots, settings) == kind


def test_catalog_revalidates_only_changed_files_and_keeps_errors(tmp_path) -> None:
    """Parses are reused while a file's text is unchanged (mkdocs serve rebuilds); a file edited
    into an error reports it, and reverting it clears the error."""
    from mkdocs.structure.files import File, Files

    from kb.content import catalog as catalog_module
    from kb.content.catalog import build_catalog

    (tmp_path / "policies").mkdir()
    (tmp_path / "docs").mkdir()
    path = tmp_path / "policies" / "p.md"
    path.write_text(GOOD, "utf-8")
    settings = KBSettings()
    roots = ContentRoots(str(tmp_path), "docs", ("policies",))

    def catalog():
        file = File("policies/p.md", str(tmp_path), str(tmp_path / "site"), True)
        return build_catalog(Files([file]), settings, roots)

    parses = catalog_module._validated.cache_info
    catalog_module._validated.cache_clear()
    first = catalog()
    assert not first.errors and len(first.entries) == 1
    again = catalog()
    assert parses().misses == 1 and again.entries[0].meta == first.entries[0].meta
    path.write_text(GOOD.replace('version: "1.2"\nstatus', "version: 1.2\nstatus", 1), "utf-8")
    broken = catalog()
    assert parses().misses == 2 and broken.errors and "version" in str(broken.errors[0])
    assert catalog().errors == broken.errors and parses().misses == 2
    path.write_text(GOOD, "utf-8")  # the text parsed first: remembered, not parsed again
    assert not catalog().errors and parses().misses == 2
