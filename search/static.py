"""Static files of a built site, served safely: path resolution, content types, conditional GET.

Every path that could leave the site folder or reveal something that is not a page is refused
the same way (``None`` → the caller answers 404), so a probe learns nothing:

- a path that is not UTF-8, contains a backslash, a NUL or any control character;
- any segment that starts with a dot: ``..``, ``.search-index``, ``.git``, dot-files;
- a percent sign left after the server's own decoding (``%252e`` arrives as ``%2e``): we never
  decode twice, and a literal ``%`` never appears in MkDocs output paths;
- a resolved real path (symlinks followed) outside the site's real root.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

#: content types the site needs; anything else falls back to :mod:`mimetypes`
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".pdf": "application/pdf",
    ".gz": "application/gzip",
    ".zip": "application/zip",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".ics": "text/calendar; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\%]")


def content_type(path: str) -> str:
    """The Content-Type header for a file name."""
    ext = os.path.splitext(path)[1].lower()
    if ext in CONTENT_TYPES:
        return CONTENT_TYPES[ext]
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"


def decode_path_info(path_info: str) -> str | None:
    """PATH_INFO as WSGI passes it (latin-1 of the raw bytes) → text, or None if not UTF-8."""
    try:
        return path_info.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def safe_segments(path: str) -> list[str] | None:
    """The path's segments if it is acceptable as a site path, else None (see module doc)."""
    if _UNSAFE.search(path):
        return None
    segments = [s for s in path.split("/") if s]
    if any(s.startswith(".") for s in segments):
        return None
    return segments


@dataclass(frozen=True)
class Resolved:
    """A request path mapped onto the site: a file to send, or a redirect to add a slash."""

    file: str | None = None
    redirect: str | None = None


def resolve(root: str, url_path: str) -> Resolved | None:
    """Map a decoded URL path onto a file under ``root`` (a real path); None means 404."""
    segments = safe_segments(url_path)
    if segments is None:
        return None
    candidate = os.path.join(root, *segments)
    real = os.path.realpath(candidate)
    if real != root and not real.startswith(root + os.sep):
        return None  # a symlink that leads out of the site
    if os.path.isdir(real):
        if not url_path.endswith("/"):
            return Resolved(redirect=url_path + "/")
        real = os.path.join(real, "index.html")
        if os.path.islink(real):
            real = os.path.realpath(real)
            if not real.startswith(root + os.sep):
                return None
    if not os.path.isfile(real):
        return None
    rel = os.path.relpath(real, root)
    if any(part.startswith(".") for part in Path(rel).parts):
        return None  # a symlink inside the site pointing into a dot-folder
    return Resolved(file=real)


@dataclass(frozen=True)
class FileInfo:
    """What the response headers of a file need, computed from one ``stat``."""

    path: str
    size: int
    mtime: float
    mtime_ns: int
    etag: str

    @classmethod
    def of(cls, path: str) -> FileInfo:
        st = os.stat(path)
        tag = hashlib.blake2s(f"{st.st_ino}-{st.st_size}-{st.st_mtime_ns}".encode(),
                              digest_size=8).hexdigest()
        return cls(path=path, size=st.st_size, mtime=st.st_mtime, mtime_ns=st.st_mtime_ns,
                   etag=f'"{tag}"')

    def last_modified(self) -> str:
        return formatdate(self.mtime, usegmt=True)

    def not_modified(self, environ: dict) -> bool:
        """True when the client's conditional headers say its copy is current."""
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm is not None:
            return self.etag in [t.strip().removeprefix("W/") for t in inm.split(",")] or inm == "*"
        ims = environ.get("HTTP_IF_MODIFIED_SINCE")
        if ims:
            try:
                return int(self.mtime) <= int(parsedate_to_datetime(ims).timestamp())
            except (TypeError, ValueError, OverflowError):
                return False
        return False


def cache_control(url_path: str) -> str:
    """HTML and data revalidate on every load; Material's hashed assets may be kept."""
    name = url_path.rsplit("/", 1)[-1]
    if re.search(r"\.[0-9a-f]{8}\.min\.(js|css)$", name):
        return "public, max-age=31536000, immutable"
    return "no-cache"
