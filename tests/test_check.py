"""``kb check``: a clean tree passes; each kind of failure is reported with file, line and a hint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TEST_TODAY, build_env
from kb.checks import Problem, Report, run_checks
from writer_project import git, make_project

KB = [sys.executable, "-m", "kb.cli"]


def _line_of(path: Path, text: str) -> int:
    """1-based line of the first line of ``path`` containing ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small writer project (committed, clean)."""
    return make_project(tmp_path_factory.mktemp("check") / "clean")


def test_clean_tree_passes(clean: Path) -> None:
    """`kb check --json --base HEAD` on a clean tree exits 0 with no problem."""
    proc = subprocess.run([*KB, "check", "--json", "--base", "HEAD"], cwd=clean,
                          capture_output=True, text=True, env=build_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["problems"] == [] and report["pages"] >= 5
    assert report["notes"] == []  # the version check ran


@pytest.fixture(scope="module")
def defects(clean: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """A copy with a committed overdue review date, then planted link, anchor and image
    defects and an unversioned change; checked in-process against HEAD."""
    project = tmp_path_factory.mktemp("check") / "defects"
    shutil.copytree(clean, project)
    manual = project / "manuals/vpn/index.md"
    text = manual.read_text(encoding="utf-8")
    manual.write_text(text.replace("effective_date: 2026-03-01", "effective_date: 2024-03-01")
                      .replace("date: 2026-03-01", "date: 2024-03-01"), encoding="utf-8")
    git(project, "commit", "-q", "-am", "复审过期示例")
    _append(project / "docs/about.md",
            "\n见[不存在的页面](missing-page.md)。\n\n"
            "又见[不存在的小节](../policies/net-access.md#没有这一节)。\n\n"
            "<script>alert(1)</script>\n\n"
            "<div style=\"position:fixed;top:0;left:0\">遮罩</div>\n\n"
            "段落 {: onclick=\"alert('attr')\" }\n")
    net = project / "policies/net-access.md"
    net.write_text(net.read_text(encoding="utf-8").replace(
        "title: 网络接入管理制度", "title: 网络接入管理制度 src=x"), encoding="utf-8")
    _append(net,
            "\n## 附图\n\n![缺少的图](images/absent.png)\n\n"
            '<p><a href="../../about/#nowhere-anchor">关于本站</a></p>\n\n'
            '<p><img src="../images/raw-absent.png" alt="原始图"></p>\n\n'
            '<p><img src="x" alt="短名图"></p>\n')
    old = dict(os.environ)
    os.environ.pop("KB_AUDIENCE", None)
    os.environ.pop("KB_PREVIEW", None)
    try:
        report = run_checks(project / "mkdocs.yml", base="HEAD", env={"KB_TODAY": TEST_TODAY})
    finally:
        os.environ.clear()
        os.environ.update(old)
    return project, report


def _find(report: Report, file: str, kind: str, line: int | None = None) -> Problem:
    matches = [p for p in report.problems if p.file == file and p.kind == kind
               and (line is None or p.line == line)]
    assert matches, f"no {kind} problem for {file}:{line} in\n{report.to_text()}"
    return matches[0]


def test_broken_link_reported_with_line(defects: tuple[Path, Report]) -> None:
    """A link to a missing page names the file and the line of the link."""
    project, report = defects
    line = _line_of(project / "docs/about.md", "missing-page.md")
    problem = _find(report, "docs/about.md", "link", line)
    assert "missing-page.md" in problem.message and problem.severity in ("error", "warning")
    assert problem.hint


def test_broken_anchor_reported_with_line(defects: tuple[Path, Report]) -> None:
    """Links to missing headings are found, in Markdown and in raw HTML (checked on the site)."""
    project, report = defects
    md_line = _line_of(project / "docs/about.md", "#没有这一节")
    assert "没有这一节" in _find(report, "docs/about.md", "anchor", md_line).message
    html_line = _line_of(project / "policies/net-access.md", "nowhere-anchor")
    problem = _find(report, "policies/net-access.md", "anchor", html_line)
    assert "#nowhere-anchor" in problem.message and problem.severity == "error"


def test_missing_images_reported_with_line(defects: tuple[Path, Report]) -> None:
    """Missing images are reported, from Markdown and from raw <img> on the built site."""
    project, report = defects
    policy = project / "policies/net-access.md"
    assert "absent.png" in _find(report, "policies/net-access.md", "image",
                                 _line_of(policy, "images/absent.png")).message
    assert "raw-absent.png" in _find(report, "policies/net-access.md", "image",
                                     _line_of(policy, "raw-absent.png")).message
    # the title reads "src=x" too: the line is the <img>'s, not the front matter's
    line = _line_of(policy, '<img src="x"')
    assert line > _line_of(policy, "src=x")
    assert "'x'" in _find(report, "policies/net-access.md", "image", line).message


def test_removed_markup_is_reported_with_line(defects: tuple[Path, Report]) -> None:
    """What the sanitiser takes out (script, overlay) and an attr_list handler left as text are
    warnings naming file and line: kb check fails, the writer knows why the page looks so."""
    project, report = defects
    about = project / "docs/about.md"
    for written, what in (("<script>", "<script> element and its content"),
                          ("position:fixed", "style= on <div>"),
                          ("onclick", "attribute onclick= in `{: onclick=")):
        problem = _find(report, "docs/about.md", "safety", _line_of(about, written))
        assert problem.severity == "warning" and what in problem.message, problem
        assert problem.hint and "script" in problem.hint


def test_version_discipline_against_base(defects: tuple[Path, Report]) -> None:
    """A changed policy without a higher version fails --base, at its version line."""
    project, report = defects
    problem = _find(report, "policies/net-access.md", "version")
    assert problem.line == _line_of(project / "policies/net-access.md", "version:")
    assert problem.severity == "error" and "version" in problem.message


def test_review_overdue_is_information_only(defects: tuple[Path, Report]) -> None:
    """An overdue review shows as a note that never fails the check by itself."""
    _, report = defects
    problem = _find(report, "manuals/vpn/index.md", "review")
    assert problem.severity == "info" and "overdue" in problem.message
    only_info = Report(problems=[problem])
    assert not only_info.failed


def test_report_groups_by_file_and_fails(defects: tuple[Path, Report]) -> None:
    """The text report lists each file once, its problems by line, and fails overall."""
    _, report = defects
    assert report.failed
    text = report.to_text()
    lines = text.splitlines()
    assert lines.count("policies/net-access.md") == 1 and lines.count("docs/about.md") == 1
    assert "FAILED" in lines[-1]
    annotations = report.annotations()
    assert "::error file=policies/net-access.md,line=" in annotations


def test_metadata_errors_cli_text_and_annotations(clean: Path, tmp_path: Path) -> None:
    """Front-matter errors: exit 1, grouped by file with line numbers, CI annotations."""
    project = tmp_path / "meta"
    shutil.copytree(clean, project)
    policy = project / "policies/net-access.md"
    policy.write_text(policy.read_text(encoding="utf-8")
                      .replace('version: "1.1"', "version: 1.1")
                      .replace("status: effective", "status: in-force"), encoding="utf-8")
    chapter = project / "manuals/vpn/01-install.md"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("chapter: 1", "chapter: one"),
                       encoding="utf-8")
    proc = subprocess.run([*KB, "check", "--annotate"], cwd=project, capture_output=True,
                          text=True, env=build_env())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout.splitlines()
    start = out.index("policies/net-access.md")
    version_line = _line_of(policy, "version: 1.1")
    status_line = _line_of(policy, "status: in-force")
    assert out[start + 1].split()[:3] == [str(version_line), "error", "[metadata]"]
    assert any(line.split()[:1] == [str(status_line)] and "in-force" in line
               for line in out[start:])
    assert "manuals/vpn/01-install.md" in out
    assert any("chapter" in line and "one" in line for line in out)
    assert f"::error file=policies/net-access.md,line={version_line}," in proc.stdout
    assert "links, anchors and images were not checked" in proc.stdout


def test_missing_config_is_a_usage_error(tmp_path: Path) -> None:
    """Outside a project, kb check says what is missing and exits 2."""
    proc = subprocess.run([*KB, "check"], cwd=tmp_path, capture_output=True, text=True,
                          env=build_env())
    assert proc.returncode == 2 and "mkdocs.yml" in proc.stderr


def test_demo_knowledge_base_passes(tmp_path: Path) -> None:
    """The repository's own demo content passes kb check (review notes allowed)."""
    from conftest import ROOT

    proc = subprocess.run([*KB, "check", "--json", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env=build_env())
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["ok"], proc.stdout
    assert report["pages"] > 20
    assert {p["kind"] for p in report["problems"]} <= {"review"}


def test_yaml_syntax_error_reads_once_with_a_syntax_hint() -> None:
    """A tab in front matter: "found" once, and a hint about YAML syntax, not the content model."""
    from kb.checks import HINTS, from_content_error
    from kb.content.model import parse_front_matter

    front, errors = parse_front_matter("---\ntitle: 标题\n\tversion: \"1.0\"\n---\n# 标题\n",
                                       "policies/tab.md")
    assert front is None
    problem = from_content_error(errors[0])
    assert (problem.file, problem.line) == ("policies/tab.md", 3)
    assert problem.message == ("expected valid YAML front matter, found character '\\t' that "
                               "cannot start any token")
    assert problem.hint == "YAML does not allow tabs; indent with spaces"
    assert problem.hint != HINTS["metadata"]
