"""YAML that expands (issue 16, item 5): an alias bomb of ~300 bytes in front matter, deep
nesting, and a bomb in ``mkdocs.yml``, run through the real ``kb check`` / ``kb report``.

``kb check`` runs under an address-space limit (:data:`MEMORY_CAP`): before the fix a front
matter bomb expanded to gigabytes and the check ended in a bare ``MemoryError`` that hid the
other files' errors; with the cap that happens within seconds instead of minutes.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import build_env
from writer_project import make_project

KB = [sys.executable, "-m", "kb.cli"]
#: address space of a checked ``kb check`` (a clean one peaks near 1 GB of it)
MEMORY_CAP = 2_500_000_000
#: nine lines, 9**8 = 43 million values once expanded
BOMB = "a: &a [" + ", ".join(['"lol"'] * 9) + "]\n" + "".join(
    f"{b}: &{b} [" + ", ".join(["*" + a] * 9) + "]\n" for a, b in zip("abcdefg", "bcdefgh"))


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _insert_front(path: Path, lines: str) -> None:
    """Put ``lines`` first in the front matter of ``path`` (they start on line 2)."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    path.write_text("---\n" + lines + text[4:], encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The writer project: clean, committed."""
    return make_project(tmp_path_factory.mktemp("yaml") / "kb")


#: runs a command and prints the peak resident memory of it and its children (kB) last
PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
        "sys.exit(code)")


def _check(project: Path) -> tuple[subprocess.CompletedProcess[str], dict, float]:
    """``kb check --json`` under the memory cap: the process, its report, its peak MB."""
    proc = subprocess.run([sys.executable, "-c", PEAK, *KB, "check", "--json"], cwd=project,
                          capture_output=True, text=True, env=build_env(), preexec_fn=_cap,
                          timeout=600, check=False)
    peak_mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
    return proc, json.loads(proc.stdout) if proc.stdout.startswith("{") else {}, peak_mb


def test_alias_bomb_is_refused_and_other_errors_are_kept(project: Path, tmp_path: Path) -> None:
    """A front-matter alias bomb is one file:line error; the other files' errors still show."""
    import shutil

    work = tmp_path / "kb"
    shutil.copytree(project, work)
    assert len(BOMB.encode()) < 400
    _insert_front(work / "policies/net-access.md", BOMB)
    manual = work / "manuals/vpn/index.md"
    manual.write_text(manual.read_text(encoding="utf-8").replace("status: effective",
                                                                 "status: lost"), encoding="utf-8")
    deep = "tags:\n  - " + "[" * 1200 + "]" * 1200 + "\n"
    _insert_front(work / "manuals/vpn/01-install.md", deep)
    proc, report, peak_mb = _check(work)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "MemoryError" not in proc.stdout + proc.stderr
    found = {(p["file"], p["line"]): p["message"] for p in report["problems"]}
    bomb = found[("policies/net-access.md", 2)]
    assert "anchors &name and aliases *name are not allowed" in bomb
    assert "found anchor '&a'" in bomb
    status_line = next(n for n, line in enumerate(manual.read_text().splitlines(), 1)
                       if line.startswith("status:"))
    assert "found 'lost'" in found[("manuals/vpn/index.md", status_line)]
    assert "nested at most 50 deep" in found[("manuals/vpn/01-install.md", 3)]
    assert set(found) == {("policies/net-access.md", 2), ("manuals/vpn/index.md", status_line),
                          ("manuals/vpn/01-install.md", 3)}
    assert peak_mb < 1024, f"kb check peaked at {peak_mb:.0f} MB"


def test_expanding_mkdocs_yml_is_refused(project: Path, tmp_path: Path) -> None:
    """A bomb under ``extra:`` of mkdocs.yml: kb check and kb report name mkdocs.yml:line."""
    import shutil

    work = tmp_path / "kb"
    shutil.copytree(project, work)
    config = work / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert "\nextra:\n" in text
    indented = "".join("  " + line + "\n" for line in BOMB.splitlines())
    config.write_text(text.replace("\nextra:\n", "\nextra:\n" + indented, 1), encoding="utf-8")
    first = text[:text.index("\nextra:\n")].count("\n") + 3  # line of 'a:' under extra
    proc, report, peak_mb = _check(work)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert peak_mb < 1024, f"kb check peaked at {peak_mb:.0f} MB"
    [problem] = report["problems"]
    assert problem["file"] == "mkdocs.yml" and problem["line"] == first + 5  # the line of f:
    assert "at most 100,000 values after expanding YAML aliases" in problem["message"]
    report_run = subprocess.run([*KB, "report"], cwd=work, capture_output=True, text=True,
                                env=build_env(), preexec_fn=_cap, timeout=600, check=False)
    assert report_run.returncode == 2
    assert report_run.stderr.startswith(f"kb report: mkdocs.yml:{first + 5}: expected at most")
    assert "Traceback" not in report_run.stderr
