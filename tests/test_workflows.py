"""CI workflows: valid YAML of the expected shape, and every ``run:`` step calls commands that
exist here (each run with ``--help``; ``kb`` sub-commands also parse their exact arguments)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from kb.cli import make_parser

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
#: programs whose first argument is a sub-command with its own --help
SUBCOMMANDS = {"kb", "pip", "apt-get", "git"}
SHELL_WORDS = {"sudo"}


def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), name
    # YAML 1.1 reads the key `on` as True
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(name: str) -> list[dict]:
    return [step for job in _load(name)["jobs"].values() for step in job["steps"]]


def commands(script: str) -> list[list[str]]:
    """The simple commands of a ``run:`` script: lines, ``&&``, ``||``, ``;`` and ``|`` split;
    ``${{ expr }}`` replaced by a placeholder; leading VAR=value and sudo dropped."""
    script = re.sub(r"\$\{\{[^}]*\}\}", "EXPR", script.replace("\\\n", " "))
    found = []
    for line in script.splitlines():
        for part in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(part, comments=True)
            while words and (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0])
                             or words[0] in SHELL_WORDS):
                words.pop(0)
            if words:
                found.append(words)
    return found


def _program(word: str) -> str | None:
    """The executable a workflow word means on this machine (its venv stands for .venv/)."""
    if word.startswith(".venv/bin/"):
        word = word[len(".venv/bin/"):]
    if word in ("python", "python3"):
        return sys.executable
    local = BIN / word
    return str(local) if local.exists() else shutil.which(word)


def help_command(words: list[str]) -> list[str]:
    """``words`` turned into a harmless ``--help`` call of the same program (and sub-command)."""
    program = _program(words[0])
    assert program, f"{words[0]}: not installed here"
    rest = words[1:]
    if program == sys.executable and rest[:1] == ["-m"]:
        module, args = rest[1], rest[2:]
        sub = [args[0]] if module == "pip" and args else []
        return [program, "-m", module, *sub, "--help"]
    if Path(words[0]).name in SUBCOMMANDS or Path(program).name in SUBCOMMANDS:
        sub = [w for w in rest if not w.startswith("-")][:1]
        return [program, *sub, "--help"]
    return [program, "--help"]


ALL = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
RUN_STEPS = [(name, i, step["run"]) for name in ALL for i, step in enumerate(_steps(name))
             if "run" in step]


def test_expected_workflows_exist() -> None:
    """pr.yml, publish.yml and nightly.yml are there, plus the PR template and CODEOWNERS."""
    assert {"pr.yml", "publish.yml", "nightly.yml"} <= set(ALL)
    assert (ROOT / ".github" / "PULL_REQUEST_TEMPLATE.md").is_file()
    owners = (ROOT / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    assert re.search(r"(?m)^/policies/\s+@\S+", owners)


def test_pr_workflow_checks_against_base_with_full_history() -> None:
    """The PR workflow clones full history, runs kb check --base the target branch and pytest."""
    data = _load("pr.yml")
    assert "pull_request" in data["on"]
    steps = _steps("pr.yml")
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = " ".join(s.get("run", "") for s in steps)
    assert 'kb check --base "origin/${{ github.base_ref }}"' in runs
    assert "pytest" in runs


def test_publish_workflows_build_each_audience() -> None:
    """Push to main and the nightly schedule publish every audience with PDFs."""
    for name, trigger in (("publish.yml", "push"), ("nightly.yml", "schedule")):
        data = _load(name)
        assert trigger in data["on"], name
        (job,) = data["jobs"].values()
        assert job["strategy"]["matrix"]["audience"] == ["public", "internal", "confidential"]
        assert job["env"]["KB_AUDIENCE"] == "${{ matrix.audience }}"
        runs = " ".join(s.get("run", "") for s in job["steps"])
        assert "kb publish --target" in runs and "--pdf" in runs
    assert _load("publish.yml")["on"]["push"]["branches"] == ["main"]
    cron = _load("nightly.yml")["on"]["schedule"][0]["cron"]
    assert len(cron.split()) == 5


@pytest.mark.parametrize(("workflow", "index", "script"), RUN_STEPS,
                         ids=[f"{w}-{i}" for w, i, _ in RUN_STEPS])
def test_run_step_commands_exist(workflow: str, index: int, script: str) -> None:
    """Each command of the step answers --help; kb commands also accept their exact arguments."""
    for words in commands(script):
        call = help_command(words)
        proc = subprocess.run(call, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, f"{call}: {proc.stderr[-2000:]}"
        assert proc.stdout.strip(), f"{call}: printed no help"
        if Path(words[0]).name == "kb":
            try:
                args = make_parser().parse_args(words[1:])
            except SystemExit as exc:  # argparse rejected the step's arguments
                raise AssertionError(f"{workflow}: {shlex.join(words)} does not parse") from exc
            assert args.func is not None
