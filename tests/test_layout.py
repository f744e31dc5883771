"""The code's layout holds: feature packages without import cycles, and a search service that
knows nothing of the content model (it serves any index, with its own vocabulary)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kb", "search")


def _modules() -> dict[str, Path]:
    mods = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = path
    return mods


def _runtime_imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Modules of ours that ``path`` imports when run (imports inside functions included,
    ``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found.update(n for n in names if n in known)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    mods = _modules()
    graph = {name: _runtime_imports(path, mods) - {name} for name, path in mods.items()}
    # a package's __init__ importing its own modules is not a cycle with them
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    assert _cycles(graph) == []


def test_cycle_finder_sees_a_cycle() -> None:
    """The check above can fail: a two-module cycle is found."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def _loaded(imports: str, prefixes: tuple[str, ...]) -> str:
    """The modules starting with ``prefixes`` that importing ``imports`` loads, as printed."""
    code = (f"import sys, {imports};"
            f"print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_search_service_loads_no_kb_module() -> None:
    """``kb serve``'s workers run the search service: it needs no content model, no MkDocs."""
    assert _loaded("search.service, search.service_backend, search.engine, search.server",
                   ("kb.", "mkdocs")) == "[]"
    assert "'kb'" not in _loaded("search.service", ("kb",))


def test_acknowledgement_api_loads_no_content_model() -> None:
    """With /api/ack mounted (kb.acks.web) the workers still load no content model, no MkDocs."""
    assert _loaded("search.service, kb.acks.web", ("kb.content", "mkdocs")) == "[]"


def test_only_the_adapter_ties_search_to_mkdocs() -> None:
    """Outside ``search/mkdocs/``, the search package imports neither MkDocs nor kb at module level."""
    offenders = []
    for path in (ROOT / "search").rglob("*.py"):
        if "mkdocs" in path.relative_to(ROOT / "search").parts:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
            elif isinstance(node, ast.Import):
                top = node.names[0].name.split(".")[0]
            else:
                continue
            if top in ("kb", "mkdocs"):
                offenders.append(f"{path.relative_to(ROOT)}: {ast.unparse(node)}")
    assert offenders == []
