"""Shared fixtures: real sites built once per test session and shared between tests.

Builds run ``mkdocs build`` in a subprocess (as writers and CI run it), so hook module state
never leaks between builds. "Today" is pinned with ``KB_TODAY`` so date-dependent output
(review banners, announcement expiry) is deterministic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the date every test build sees unless a test sets another
TEST_TODAY = "2026-11-27"
#: what a project copy needs besides its content
PROJECT_FILES = ("mkdocs.yml", "hooks", "docs", "policies", "manuals")


def build_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a test build: pinned today, internal audience, no preview."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update({"KB_TODAY": TEST_TODAY, "NO_MKDOCS_2_WARNING": "1", "PYTHONWARNINGS": "ignore"})
    env.update(extra or {})
    return env


def build_site(project: Path, out: Path, env: Mapping[str, str] | None = None, *,
               strict: bool = True, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``mkdocs build`` of ``project/mkdocs.yml`` into ``out``; fail the test on error."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(project / "mkdocs.yml"),
           "-d", str(out)]
    if strict:
        cmd.append("--strict")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=build_env(env), cwd=project)
    if check and proc.returncode != 0:
        raise AssertionError(f"mkdocs build failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def loaded_config(site: Path, project: Path = ROOT):
    """``project``'s mkdocs.yml loaded as MkDocs loads it for a build into ``site``: hooks and
    plugins set up, every ``on_config`` run (a real config for tests of one build step)."""
    from mkdocs.config import load_config

    config = load_config(str(project / "mkdocs.yml"), site_dir=str(site))
    return config.plugins.on_config(config)


def copy_project(dest: Path, parts: tuple[str, ...] = PROJECT_FILES) -> Path:
    """Copy the demo project (config, hooks, content) into ``dest`` for a test to modify."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in parts:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo knowledge base of this repository, built once (strict) for the session."""
    out = tmp_path_factory.mktemp("demo") / "site"
    build_site(ROOT, out)
    return out


# --------------------------------------------------------------------------- browser & HTTP

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    """Debian chromium driven by playwright, shared by every browser test of the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def static_server():
    """Start a real HTTP server for a folder on loopback: ``url = static_server(path)``."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output readable
            pass

    servers: list[ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def serious_axe_violations(page) -> list[dict]:
    """axe-core violations of impact serious or critical on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
