"""Small fixture projects for the controlled-documents tests.

A project is the demo's mkdocs.yml with only the hooks under test (content roots + documents)
and no fixed nav, the theme override and assets, and the Markdown files a test gives.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

from conftest import ROOT

#: hooks a documents fixture project runs, in mkdocs.yml order
HOOKS = ("hooks/roots.py", "hooks/documents.py", "hooks/slots.py")


def project_config() -> str:
    """The demo's mkdocs.yml with only :data:`HOOKS` and no ``nav`` (every page is listed)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    hooks = "hooks:\n" + "".join(f"  - {h}\n" for h in HOOKS)
    text = re.sub(r"^hooks:\n(?:[ \t]+.*\n|\n(?=[ \t]))*", hooks, text, count=1, flags=re.M)
    text = re.sub(r"^nav:\n(?:[ \t]+.*\n)*", "", text, count=1, flags=re.M)
    return text


def make_project(dest: Path, files: Mapping[str, str]) -> Path:
    """Write a project into ``dest``: config, hooks, theme files, and ``files`` (path → text;
    text is dedented). ``policies/`` and ``manuals/`` always exist."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "mkdocs.yml").write_text(project_config(), encoding="utf-8")
    for hook in HOOKS:
        (dest / hook).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / hook, dest / hook)
    for folder in ("docs/overrides", "docs/assets"):
        shutil.copytree(ROOT / folder, dest / folder)
    for folder in ("policies", "manuals"):
        (dest / folder).mkdir(exist_ok=True)
    files = {"docs/index.md": "# 首页\n", **files}
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return dest


def policy(doc_id: str, title: str, *, extra: str = "", status: str = "effective",
           version: str = "1.0",
           effective: str = "2026-01-01", review: str = "review_months: 12",
           owner: str = "信息中心", body: str = "") -> str:
    """Front matter + body of a valid policy; ``extra`` lines are appended to the front matter."""
    lines = [
        "---",
        f"doc_id: {doc_id}",
        f"title: {title}",
        f'version: "{version}"',
        f"status: {status}",
        f"owner: {owner}" if owner else "",
        "author: 张伟",
        "reviewer: 李娜",
        "approver: 王建国",
        f"effective_date: {effective}",
        review,
        textwrap.dedent(extra).strip("\n"),
        "---",
        f"# {title}",
        "",
        body or "正文。",
        "",
    ]
    return "\n".join(line for line in lines if line != "") + "\n"
