"""Git history of the whole repository, gathered in ONE ``git log`` pass and cached by HEAD.

:func:`load` runs a single ``git log --raw -M`` over the project folder (never one git call per
file), follows renames back through history, and gives per file (by its path at HEAD):

* the last commit's author date (the page's "最后更新"),
* its authors (most commits first),
* every commit that touched it, with the file's path and blob id at that commit — what
  :mod:`kb.versions.archive` needs to read old versions without walking history again.

The result is cached as JSON in ``.cache/kb/`` keyed by the HEAD commit, so an unchanged
repository costs one ``git rev-parse`` per build. When the project is not in a git repository,
git is missing, or the clone is shallow (history incomplete), :func:`load` returns an empty
:class:`History` whose ``reason`` says why; pages then show the build date. Never raises.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.kb.history")

#: bump when the cached JSON layout changes
CACHE_FORMAT = 2
CACHE_DIR = ".cache/kb"


@dataclass(frozen=True)
class Commit:
    """One commit as the history pass saw it."""

    sha: str
    date: _dt.date  # author date, in the author's time zone
    author: str
    email: str
    seq: int = 0  # position in the log: 0 is HEAD's, larger is older


@dataclass(frozen=True)
class Touch:
    """A commit that touched a file: the file's repository path and blob at that commit."""

    commit: Commit
    path: str  # repository-relative (relative to the project folder) path at that commit
    blob: str  # blob id after the commit; all zeros when the commit deleted it


@dataclass
class FileHistory:
    """History of one file, newest commit first."""

    touches: list[Touch] = field(default_factory=list)

    @property
    def updated(self) -> _dt.date | None:
        return self.touches[0].commit.date if self.touches else None

    @property
    def authors(self) -> list[str]:
        """Distinct author names, most commits first, ties by most recent."""
        counts = Counter(t.commit.author for t in self.touches)
        order = {name: i for i, name in reversed(list(enumerate(t.commit.author for t in self.touches)))}
        return sorted(counts, key=lambda name: (-counts[name], order[name]))


@dataclass
class History:
    """Git data of a project: per-file histories keyed by path at HEAD."""

    head: str | None = None
    files: dict[str, FileHistory] = field(default_factory=dict)
    reason: str | None = None  # why there is no history (not a repository, shallow clone, ...)
    toplevel: str | None = None
    prefix: str = ""  # project folder relative to the repository's top level, "" or "sub/"

    @property
    def available(self) -> bool:
        return self.reason is None

    def get(self, repo_path: str) -> FileHistory | None:
        return self.files.get(repo_path)


# --------------------------------------------------------------------------- running git


def git(project_dir: str | os.PathLike[str], *args: str, input: bytes | None = None,
        check: bool = True) -> bytes:
    """Run git in ``project_dir``; return stdout. Raises :class:`GitError` on failure."""
    cmd = ["git", "-c", "core.quotepath=off", *args]
    try:
        proc = subprocess.run(cmd, cwd=project_dir, input=input, capture_output=True,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    except FileNotFoundError as exc:
        raise GitError("git is not installed") from exc
    if check and proc.returncode != 0:
        raise GitError(proc.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return proc.stdout


class GitError(RuntimeError):
    """A git command failed (not a repository, unknown revision, ...)."""


def repo_info(project_dir: str | os.PathLike[str]) -> tuple[str, str, str, bool] | str:
    """``(toplevel, prefix, head, shallow)`` of the repository around ``project_dir``, or the
    reason there is none (one git call)."""
    try:
        out = git(project_dir, "rev-parse", "--show-toplevel", "--show-prefix",
                  "--is-shallow-repository", "--verify", "-q", "HEAD")
    except GitError as exc:
        text = str(exc)
        if "not a git repository" in text:
            return "not a git repository"
        if "installed" in text:
            return text
        return "the repository has no commits yet"
    lines = out.decode("utf-8").splitlines()
    if len(lines) < 4:
        return "the repository has no commits yet"
    toplevel, prefix, shallow, head = lines[0], lines[1], lines[2] == "true", lines[3]
    return toplevel, prefix, head, shallow


# --------------------------------------------------------------------------- the one pass

_MARK = "\x1e"  # starts each commit record in the log output


def raw_changes(raw: str) -> Iterator[tuple[str, str, str, str]]:
    """``(status letter, new blob, old path, new path)`` of each entry of ``--raw -z`` output."""
    fields = raw.strip("\n\x00").split("\x00")
    i = 0
    while i < len(fields):
        meta = fields[i]
        if not meta.startswith(":"):
            i += 1
            continue
        parts = meta[1:].split(" ")
        blob, status = parts[3], parts[4][0]
        if status in "RC":
            yield status, blob, fields[i + 1], fields[i + 2]
            i += 3
        else:
            yield status, blob, fields[i + 1], fields[i + 1]
            i += 2


def parse_log(raw: bytes, prefix: str = "") -> dict[str, FileHistory]:
    """Parse ``git log --raw -M -z`` output (newest first) into histories keyed by HEAD path.

    Renames are followed: once a commit renames ``old`` to ``new``, older commits that touched
    ``old`` belong to the file now at ``new``'s HEAD path. A path added by a commit starts its
    file's life there: an older, deleted file of the same name is not merged into it.
    """
    text = raw.decode("utf-8", "replace")
    files: dict[str, FileHistory] = {}
    alias: dict[str, str | None] = {}  # path at this point in history -> path at HEAD (None: dead)
    n = len(prefix)
    for seq, record in enumerate(text.split(_MARK)[1:]):
        header, _, body = record.partition("\n")
        sha, iso, author, email = header.strip("\x00").split("\x1f")
        commit = Commit(sha, _dt.date.fromisoformat(iso[:10]), author, email, seq)
        for status, blob, old, new in raw_changes(body):
            if prefix:
                if not new.startswith(prefix):
                    continue
                old, new = old[n:] if old.startswith(prefix) else old, new[n:]
            current = alias.get(new, new)
            if current is not None:
                files.setdefault(current, FileHistory()).touches.append(Touch(commit, new, blob))
            if status == "R":
                alias[old] = current
                alias[new] = None  # before this commit nothing lived at ``new``
            elif status == "A":
                alias[new] = None
    return files


def _cache_path(project_dir: str, head: str) -> Path:
    return Path(project_dir, CACHE_DIR, f"git-history-{head}.json")


def _to_json(history: History) -> dict[str, object]:
    commits: dict[str, list[str]] = {}
    files: dict[str, list[list[str]]] = {}
    for path, fh in history.files.items():
        rows = []
        for t in fh.touches:
            c = t.commit
            commits.setdefault(c.sha, [c.date.isoformat(), c.author, c.email, c.seq])
            rows.append([c.sha, t.path, t.blob])
        files[path] = rows
    return {"format": CACHE_FORMAT, "head": history.head, "prefix": history.prefix,
            "toplevel": history.toplevel, "commits": commits, "files": files}


def _from_json(data: dict) -> History:
    commits = {sha: Commit(sha, _dt.date.fromisoformat(d), a, e, q)
               for sha, (d, a, e, q) in data["commits"].items()}
    files = {path: FileHistory([Touch(commits[sha], p, blob) for sha, p, blob in rows])
             for path, rows in data["files"].items()}
    return History(data["head"], files, None, data["toplevel"], data["prefix"])


def load(project_dir: str | os.PathLike[str], *, use_cache: bool = True) -> History:
    """The project's git history: from the cache for this HEAD, else one ``git log`` pass."""
    project_dir = os.fspath(project_dir)
    info = repo_info(project_dir)
    if isinstance(info, str):
        return History(reason=info)
    toplevel, prefix, head, shallow = info
    if shallow:
        return History(head=head, reason="shallow clone: git history is incomplete",
                       toplevel=toplevel, prefix=prefix)
    cache = _cache_path(project_dir, head)
    if use_cache and cache.is_file():
        try:
            data = json.loads(cache.read_text("utf-8"))
            if data.get("format") == CACHE_FORMAT and data.get("head") == head:
                return _from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            log.debug("ignoring unreadable cache %s", cache)
    try:
        raw = git(project_dir, "log", "--raw", "-M", "--no-abbrev", "-z",
                  f"--format={_MARK}%H%x1f%aI%x1f%an%x1f%ae", head, "--", ".")
    except GitError as exc:
        return History(head=head, reason=f"git log failed: {exc}")
    # ``git log -- .`` from a subfolder still prints paths relative to the top level
    history = History(head, parse_log(raw, prefix), None, toplevel, prefix)
    if use_cache:
        _write_cache(cache, history)
    return history


def _write_cache(cache: Path, history: History) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob("git-history-*.json"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(_to_json(history), ensure_ascii=False), "utf-8")
        tmp.replace(cache)
    except OSError as exc:
        log.debug("could not write %s: %s", cache, exc)


# --------------------------------------------------------------------------- reading blobs


def read_blobs(project_dir: str | os.PathLike[str], blobs: list[str]) -> dict[str, bytes]:
    """Contents of many blobs in one ``git cat-file --batch`` call."""
    wanted = list(dict.fromkeys(b for b in blobs if b.strip("0")))
    if not wanted:
        return {}
    out = git(project_dir, "cat-file", "--batch", input=("\n".join(wanted) + "\n").encode())
    result: dict[str, bytes] = {}
    pos = 0
    for blob in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        result[blob] = out[pos:pos + size]
        pos += size + 1
    return result


def changed_paths(project_dir: str | os.PathLike[str], history: History) -> set[str]:
    """Project paths with uncommitted changes or untracked (their git date would be stale)."""
    if not history.available:
        return set()
    try:
        out = git(project_dir, "status", "--porcelain", "-z", "--untracked-files=all",
                  "--no-renames", "--", ".")
    except GitError:
        return set()
    n = len(history.prefix)
    paths = set()
    for item in out.decode("utf-8", "replace").split("\x00"):
        if len(item) > 3:
            path = item[3:]
            paths.add(path[n:] if path.startswith(history.prefix) else path)
    return paths
