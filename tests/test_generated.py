"""Generated pages under ``mkdocs serve --dirty`` are backed by cache files rewritten only on change."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from mkdocs.config import load_config

from conftest import ROOT
from kb.notices import generated as gen


@pytest.fixture()
def config(tmp_path: Path):
    """A loaded config of a copy of the demo's mkdocs.yml in a temporary project."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "hooks", tmp_path / "hooks")
    (tmp_path / "docs" / "overrides").mkdir(parents=True)
    cfg = load_config(str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "site"))
    cfg.plugins._current_plugin = "hooks/notices"  # as while MkDocs runs a hook's event
    yield cfg
    gen.set_serving_dirty("build", False)


def test_builds_keep_generated_pages_in_memory(config, tmp_path: Path) -> None:
    """A normal build neither reads nor writes the cache."""
    gen.set_serving_dirty("build", False)
    file = gen.generated(config, "announcements/archive/2026/index.md", "# 2026 年通知\n")
    assert file.abs_src_path is None and file.content_string == "# 2026 年通知\n"
    assert not (tmp_path / ".cache").exists()


def test_serve_dirty_rewrites_only_changed_pages(config, tmp_path: Path) -> None:
    """Unchanged content keeps the cache file's time (MkDocs skips it); changed content is written."""
    gen.set_serving_dirty("serve", True)
    first = gen.generated(config, "announcements/archive/2026/index.md", "# 2026 年通知\n")
    path = Path(first.abs_src_path)
    assert path.is_file() and tmp_path / ".cache" in path.parents
    os.utime(path, (1_000_000, 1_000_000))
    again = gen.generated(config, "announcements/archive/2026/index.md", "# 2026 年通知\n")
    assert again.abs_src_path == str(path) and path.stat().st_mtime == 1_000_000
    assert again.content_string == "# 2026 年通知\n"
    gen.generated(config, "announcements/archive/2026/index.md", "# 2026 年通知（已更新）\n")
    assert path.stat().st_mtime > 1_000_000 and "已更新" in path.read_text(encoding="utf-8")


def test_cache_is_separate_per_audience(config, monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds for two audiences never share a generated file."""
    gen.set_serving_dirty("serve", True)
    monkeypatch.setenv("KB_AUDIENCE", "internal")
    internal = gen.generated(config, "announcements/index.md", "# 内部\n").abs_src_path
    monkeypatch.setenv("KB_AUDIENCE", "public")
    public = gen.generated(config, "announcements/index.md", "# 公开\n").abs_src_path
    assert internal != public
    assert Path(internal).read_text(encoding="utf-8") == "# 内部\n"
