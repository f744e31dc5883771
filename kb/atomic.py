"""Writing a file whole or not at all: the one temp-file-then-rename writer.

A reader (a server, the next build, another process) sees the old file or the new one, never a
half-written one: the bytes go to a temporary file in the same folder, which then replaces the
target with :func:`os.replace` (atomic on one file system). A failed write leaves no temporary
file behind.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text is written as UTF-8) to ``path`` atomically; return the path."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
