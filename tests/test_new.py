"""``kb new``: each content type gets valid front matter in the right place and builds."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TEST_TODAY, build_env, build_site
from kb.content import scaffold
from kb.cli import main
from kb.content.model import MODELS, parse_front_matter, validate_meta
from writer_project import make_project

REQUESTS: dict[str, list[str]] = {
    "policy": ["policy", "--title", "网络安全管理制度"],
    "manual": ["manual", "--title", "邮件系统用户手册", "--slug", "mail"],
    "chapter": ["chapter", "--title", "配置客户端", "--manual", "vpn"],
    "course": ["course", "--title", "钓鱼邮件识别"],
    "announcement": ["announcement", "--title", "机房停电检修通知", "--category", "系统维护"],
}


def kb_new(project: Path, *args: str) -> tuple[int, str, str]:
    """Run ``kb new`` in-process in ``project`` (pinned today); (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old_cwd, old_today = os.getcwd(), os.environ.get("KB_TODAY")
    os.chdir(project)
    os.environ["KB_TODAY"] = TEST_TODAY
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["new", *args])
    finally:
        os.chdir(old_cwd)
        if old_today is None:
            os.environ.pop("KB_TODAY", None)
        else:
            os.environ["KB_TODAY"] = old_today
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """The writer project with one new file of each type, built with KB_PREVIEW=1 (strict)."""
    project = make_project(tmp_path_factory.mktemp("new") / "kb")
    paths = {}
    for kind, args in REQUESTS.items():
        code, out, err = kb_new(project, *args)
        assert code == 0, err
        paths[kind] = out.strip()
    site = project / "site-preview"
    build_site(project, site, {"KB_PREVIEW": "1"})
    return project, paths, site


def _meta(project: Path, rel: str) -> dict:
    front, errors = parse_front_matter((project / rel).read_text(encoding="utf-8"), rel)
    assert front is not None and not errors
    return front.data


def test_files_land_in_the_right_folders(created: tuple[Path, dict[str, str], Path]) -> None:
    """Each type goes to its folder with the layout's file name; the path is printed."""
    project, paths, _ = created
    assert re.fullmatch(r"policies/[a-z0-9-]+\.md", paths["policy"])
    assert "anquan" in paths["policy"]  # pinyin slug of the title
    assert paths["manual"] == "manuals/mail/index.md"
    assert re.fullmatch(r"manuals/vpn/02-[a-z0-9-]+\.md", paths["chapter"])  # next chapter
    assert re.fullmatch(r"docs/training/[a-z0-9-]+\.md", paths["course"])
    assert re.fullmatch(rf"docs/announcements/2026/{TEST_TODAY}-[a-z0-9-]+\.md",
                        paths["announcement"])
    for rel in paths.values():
        assert (project / rel).is_file()


def test_front_matter_is_valid_and_filled(created: tuple[Path, dict[str, str], Path]) -> None:
    """Next free ids, today's date, git author, draft status; valid against kb/content/model.py."""
    project, paths, _ = created
    for kind, rel in paths.items():
        front, _ = parse_front_matter((project / rel).read_text(encoding="utf-8"), rel)
        assert front is not None
        meta, errors = validate_meta(MODELS[kind], front, rel)
        assert meta is not None and not errors, errors
    policy = _meta(project, paths["policy"])
    assert policy["doc_id"] == "XXZX-ZD-102"  # the project has XXZX-ZD-101
    assert policy["status"] == "draft" and policy["version"] == "0.1"
    assert policy["author"] == "测试编辑"  # git config user.name of the project
    assert policy["history"][0]["date"] == TEST_TODAY
    assert policy["title"] == "网络安全管理制度"
    assert _meta(project, paths["manual"])["doc_id"] == "XXZX-SC-102"
    assert _meta(project, paths["chapter"])["chapter"] == 2
    course = _meta(project, paths["course"])
    assert course["course_code"] == "XXZX-PX-001" and course["trainer"] == "测试编辑"
    notice = _meta(project, paths["announcement"])
    assert notice["date"] == TEST_TODAY and notice["category"] == "系统维护"


def test_each_new_file_builds(created: tuple[Path, dict[str, str], Path]) -> None:
    """The strict preview build succeeded and has a page for every new file with its title."""
    _, paths, site = created
    titles = {kind: args[2] for kind, args in REQUESTS.items()}
    for kind, rel in paths.items():
        parts = rel.split("/")
        if parts[0] == "docs":
            parts = parts[1:]
        stem = "/".join(parts)[: -len(".md")]
        page = site / (stem[: -len("index")] if stem.endswith("/index") else stem + "/") \
            / "index.html"
        assert page.is_file(), f"{kind}: {page} missing"
        assert titles[kind] in page.read_text(encoding="utf-8"), kind


def test_cli_continues_the_series_and_prints_the_path(
        created: tuple[Path, dict[str, str], Path]) -> None:
    """`kb new` as a command: the next policy gets the next doc_id; --dry-run writes nothing."""
    project, _, _ = created
    cmd = [sys.executable, "-m", "kb.cli", "new", "policy", "--title", "机房管理制度",
           "--slug", "machine-room"]
    dry = subprocess.run([*cmd, "--dry-run"], cwd=project, capture_output=True, text=True,
                         env=build_env())
    assert dry.returncode == 0, dry.stderr
    assert "doc_id: XXZX-ZD-103" in dry.stdout and not (project / "policies/machine-room.md").exists()
    proc = subprocess.run(cmd, cwd=project, capture_output=True, text=True, env=build_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "policies/machine-room.md"
    assert _meta(project, "policies/machine-room.md")["doc_id"] == "XXZX-ZD-103"


@pytest.mark.parametrize(("args", "message"), [
    (["chapter", "--title", "某章"], "--manual"),
    (["chapter", "--title", "某章", "--manual", "nosuch"], "manuals/nosuch/index.md"),
    (["policy", "--title", "重复", "--slug", "net-access"], "existing"),
    (["announcement", "--title", "通知", "--category", "闲聊"], "--category"),
    (["policy", "--title", "坏名字", "--slug", "Bad Slug"], "--slug"),
])
def test_refusals_say_what_to_change(created: tuple[Path, dict[str, str], Path],
                                     args: list[str], message: str) -> None:
    """Impossible requests exit 1 naming the option to change, and write nothing."""
    project, _, _ = created
    before = sorted(p for p in project.rglob("*.md") if ".git" not in p.parts)
    code, _, err = kb_new(project, *args)
    assert code == 1 and message in err
    assert sorted(p for p in project.rglob("*.md") if ".git" not in p.parts) == before


def test_slugify_and_id_formats() -> None:
    """Pinyin slugs keep Latin words; simple id patterns give their numbering format."""
    slug = scaffold.slugify("远程办公 VPN 使用指南")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and "vpn" in slug and "yuancheng" in slug
    assert scaffold._format_from_pattern(r"^XXZX-ZD-\d{3}$") == "XXZX-ZD-{:03d}"
    assert scaffold._format_from_pattern(r"^PX\d{4}$") == "PX{:04d}"
    assert scaffold._format_from_pattern(r"^(A|B)-\d+$") is None
