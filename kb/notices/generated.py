"""Generated pages that ``mkdocs serve --dirty`` can skip while they are unchanged.

MkDocs re-renders every generated file (``File.generated(content=...)``) on each rebuild, even
with ``--dirty``, because it cannot tell whether in-memory content changed. Under
``mkdocs serve --dirty`` :func:`generated` instead backs a page by a file in the project's
cache, rewritten only when its content changes, so MkDocs' own modification-time check skips
the unchanged ones. Every other build (``mkdocs build``, ``kb publish``, ``kb check``) keeps
in-memory content: nothing is read from or written to the cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File

from kb.atomic import write_atomic
from kb.config import audience, preview

_serving_dirty = False


def set_serving_dirty(command: str, dirty: bool) -> None:
    """Called from ``on_startup``: whether this process is ``mkdocs serve --dirty``."""
    global _serving_dirty
    _serving_dirty = command == "serve" and dirty


def _cache_root(config: MkDocsConfig) -> Path:
    """One folder per site folder, audience and preview switch, so builds never share files."""
    key = f"{Path(config.site_dir).resolve()}|{audience()}|{preview()}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
    project = Path(config.config_file_path).resolve().parent
    return project / ".cache" / "kb" / "generated" / digest


def generated(config: MkDocsConfig, src_uri: str, content: str, **kwargs: Any) -> File:
    """A generated page of ``content`` at ``src_uri`` (see the module docstring)."""
    if not _serving_dirty:
        return File.generated(config, src_uri, content=content, **kwargs)
    path = _cache_root(config) / src_uri
    data = content.encode("utf-8")
    if not path.is_file() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    return File.generated(config, src_uri, abs_src_path=str(path), **kwargs)
