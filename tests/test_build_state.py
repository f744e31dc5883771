"""Build state (issue 18 item 2): one :class:`kb.buildstate.BuildState` per build, on its config;
an in-process second build (as ``mkdocs serve`` makes) sees its own catalog; no module-level
mutable state in ``hooks/`` or ``kb/``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT
from documents_project import make_project, policy

from kb import buildstate
from kb.buildrun import run_build


def _titles(site: Path) -> set[str]:
    return set(re.findall(r"<h1[^>]*>([^<]*)", "".join(
        p.read_text("utf-8") for p in site.rglob("index.html"))))


def test_second_build_in_process_sees_its_own_catalog(tmp_path: Path) -> None:
    """Two projects built one after the other in this process: each build's state holds its own
    catalog and print plan, and a rebuild of the first after an edit sees the edit."""
    first = make_project(tmp_path / "a", {"policies/one.md": policy("XXZX-ZD-101", "甲制度")})
    second = make_project(tmp_path / "b", {"policies/two.md": policy("XXZX-ZD-202", "乙制度")})
    runs = [run_build(first / "mkdocs.yml", tmp_path / "site-a"),
            run_build(second / "mkdocs.yml", tmp_path / "site-b")]
    for run in runs:
        assert run.failure is None and not run.content_errors, run
    states = [buildstate.of(run.config) for run in runs]
    assert states[0] is not states[1]
    assert [e.doc_id for e in states[0].catalog.of_type("policy")] == ["XXZX-ZD-101"]
    assert [e.doc_id for e in states[1].catalog.of_type("policy")] == ["XXZX-ZD-202"]
    assert "乙制度" in _titles(tmp_path / "site-b") and "甲制度" not in _titles(tmp_path / "site-b")

    (first / "policies" / "one.md").write_text(policy("XXZX-ZD-101", "甲制度修订"), "utf-8")
    again = run_build(first / "mkdocs.yml", tmp_path / "site-a")
    assert [e.title for e in buildstate.of(again.config).catalog.of_type("policy")] == ["甲制度修订"]
    assert [e.title for e in states[0].catalog.of_type("policy")] == ["甲制度"]  # untouched


def test_state_lives_on_the_config_and_closes_what_the_build_started(tmp_path: Path) -> None:
    """The state is registered in ``config.plugins`` (so ``on_build_error`` reaches it) and a
    state started again for the same config closes the old one's workers first."""
    project = make_project(tmp_path / "p", {})
    run = run_build(project / "mkdocs.yml", tmp_path / "site")
    assert run.config is not None
    state = buildstate.of(run.config)
    assert run.config.plugins[buildstate.NAME] is state
    closed: list[str] = []
    state.when_done(lambda: closed.append("first"))
    state.when_done(lambda: closed.append("second"))
    state.on_build_error(error=RuntimeError("stop"))
    assert closed == ["second", "first"]
    state.when_done(lambda: closed.append("again"))
    fresh = buildstate.start(run.config)
    assert fresh is not state and closed[-1] == "again" and buildstate.of(run.config) is fresh


# ---------------------------------------------------------------- no module-level mutable state

#: calls whose result is a mutable container
MUTABLE_CALLS = {"list", "dict", "set", "defaultdict", "OrderedDict", "Counter", "deque",
                 "bytearray"}
#: module-level objects made by calling a class that are immutable or process-wide by nature
ALLOWED_CALLS = {
    "Cleaner",  # nh3.Cleaner: a configured sanitizer, never changed after it is made
    "TypeVar", "getLogger", "compile", "frozenset", "tuple", "Path",
}
#: the one module-level variable a function may rebind, and why
ALLOWED_GLOBALS = {
    ("kb/notices/generated.py", "_serving_dirty"):
        "process-wide: MkDocs tells only the first config's hooks (on_startup) that this process "
        "is `mkdocs serve --dirty`; later rebuilds load new hook modules that never hear it",
}


def _is_constant_name(name: str) -> bool:
    return name.isupper() or name.lstrip("_").isupper() or name.startswith("__")


def module_state(source: str, rel: str) -> list[str]:
    """Module-level mutable state in ``source``: a ``global`` statement in a function, or a
    module-level non-constant name bound to a mutable container or to a new object."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            for name in node.names:
                if (rel, name) not in ALLOWED_GLOBALS:
                    found.append(f"{rel}:{node.lineno}: global {name}")
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names or all(_is_constant_name(n) for n in names):
            continue
        mutable = isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp,
                                     ast.SetComp))
        if isinstance(value, ast.Call):
            func = value.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            mutable = called in MUTABLE_CALLS or (called[:1].isupper()
                                                  and called not in ALLOWED_CALLS)
        if mutable:
            found.append(f"{rel}:{node.lineno}: {', '.join(names)} = {ast.unparse(value)[:60]}")
    return found


def test_the_state_lint_finds_module_state() -> None:
    sample = ("_cache = {}\nBOOSTS = {'a': 1}\n_build = NoticeBuild()\nlog = getLogger('x')\n"
              "_done: list[str] = []\n\ndef f():\n    global _x\n")
    assert module_state(sample, "kb/x.py") == [
        "kb/x.py:8: global _x", "kb/x.py:1: _cache = {}", "kb/x.py:3: _build = NoticeBuild()",
        "kb/x.py:5: _done = []"]


def test_no_module_level_mutable_state_in_hooks_and_kb() -> None:
    found = []
    for folder in ("hooks", "kb"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            found += module_state(path.read_text("utf-8"), rel)
    assert not found, ("module-level mutable state (put it on the build's state, "
                       "kb/buildstate.py):\n" + "\n".join(found))
