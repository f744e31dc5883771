"""Atomic releases: ``kb publish`` and ``kb rollback``.

Layout of a target folder (one per audience, e.g. ``/srv/kb/internal``)::

    DIR/.lock                      locked by a publish or rollback (never both; kb/publish/lock.py)
    DIR/current -> releases/NAME   what the web server and the search service serve
    DIR/releases/NAME/             one complete release: site + .search-index + .kb-release.json
    DIR/releases/.tmp-NAME-PID/    a release being built (never served; removed if abandoned)
    DIR/releases/.trash-NAME/      a release being deleted
    DIR/releases.log               one line per publish and rollback

A release is built into a ``.tmp-`` folder inside ``releases/``, verified (page count, search index
opens, a sample query answers), marked complete by writing ``.kb-release.json`` last, renamed to its
final name (atomic), and only then made current: a new symlink is created under a temporary name
and renamed over ``current`` with :func:`os.replace` (atomic). A publish killed at any moment
therefore leaves ``current`` pointing at a complete release, and the next publish starts at
once: the lock dies with its process (:mod:`kb.publish.lock`) and every worker process of the
build dies with it too (:mod:`kb.workers`); the next publish reports the interrupted one and
removes its ``.tmp-`` and ``.trash-`` folders. Old releases beyond ``keep`` are renamed to
``.trash-`` before deletion, so a half-deleted folder is never taken for a release; the current
and the previous release are never removed.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.buildrun import BuildRun, run_build
from kb.publish.lock import LOCK_FILE, locked

RELEASES = "releases"
CURRENT = "current"
LOG_FILE = "releases.log"
MARKER = ".kb-release.json"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
#: the steps a publish reports to its ``on_step`` callback, in order
STEPS = ("built", "verified", "renamed", "switched", "pruning")
__all__ = ["LOCK_FILE", "STEPS", "PublishError", "PublishResult", "Verification", "current",
           "locked", "publish", "release_info", "releases", "rollback", "switch"]


class PublishError(RuntimeError):
    """A publish or rollback that did not happen; ``current`` is unchanged."""


@dataclass
class Verification:
    """What was checked on a release before it went live."""

    pages: int = 0
    index_documents: int | None = None  # None: no search index checked
    build_id: str | None = None
    sample_query: str | None = None
    sample_hits: int | None = None
    pdfs: int = 0  # PDF files in the release (rendered when publishing with --pdf)
    notes: list[str] = field(default_factory=list)


@dataclass
class PublishResult:
    name: str
    path: Path
    previous: str | None
    removed: list[str]
    verification: Verification


# --------------------------------------------------------------------------- small helpers


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(project_dir: Path) -> str:
    try:
        proc = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=project_dir,
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "nogit"
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "nogit"


def release_name(commit: str, releases: Path, now: _dt.datetime | None = None) -> str:
    """``<UTC time>-<commit>``, e.g. ``20261127T083015.274Z-3f2a9c1b7d``; unique in
    ``releases``. Milliseconds: a publish can take less than a second, and a name pruned a
    moment ago must not come back for a newer release."""
    moment = now or _dt.datetime.now(_dt.timezone.utc)
    stamp = f"{moment.strftime('%Y%m%dT%H%M%S')}.{moment.microsecond // 1000:03d}Z"
    base = f"{stamp}-{commit}"
    name, n = base, 1
    while (releases / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _log(target: Path, action: str, name: str) -> None:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(target / LOG_FILE, "a", encoding="utf-8") as handle:
        handle.write(f"{stamp} {action} {name}\n")


# --------------------------------------------------------------------------- releases


def releases(target: Path) -> list[str]:
    """Names of the complete releases of ``target``, oldest first (by build time, then name)."""
    folder = Path(target) / RELEASES
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if path.name.startswith(".") or not path.is_dir():
            continue
        try:
            built_at = json.loads((path / MARKER).read_text(encoding="utf-8"))["built_at"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a complete release
        found.append((str(built_at), path.name))
    return [name for _, name in sorted(found)]


def current(target: Path) -> str | None:
    """Name of the release ``DIR/current`` points at, or None."""
    link = Path(target) / CURRENT
    try:
        return Path(os.readlink(link)).name
    except OSError:
        return None


def release_info(target: Path, name: str) -> dict[str, Any]:
    """The ``.kb-release.json`` of a release."""
    return json.loads((Path(target) / RELEASES / name / MARKER).read_text(encoding="utf-8"))


def switch(target: Path, name: str) -> None:
    """Point ``DIR/current`` at ``releases/NAME`` atomically (symlink renamed over the old)."""
    target = Path(target)
    tmp_link = target / f".{CURRENT}.tmp-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(f"{RELEASES}/{name}", tmp_link)
    os.replace(tmp_link, target / CURRENT)
    _fsync_dir(target)


def _previous(names: list[str], cur: str | None) -> str | None:
    if cur not in names:
        return None
    index = names.index(cur)
    return names[index - 1] if index > 0 else None


def prune(target: Path, keep: int, protect: tuple[str | None, ...] = (),
          on_step: Callable[[str], None] = lambda step: None) -> list[str]:
    """Delete complete releases beyond the newest ``keep``; never the current one, the one
    before it, nor those named in ``protect`` (the release that was current before a publish).
    ``on_step("pruning")`` is called between renaming a release away and deleting it."""
    names = releases(target)
    cur = current(target)
    protected = set(names[-keep:] if keep > 0 else []) | {cur, _previous(names, cur), *protect}
    removed = []
    for name in names:
        if name in protected:
            continue
        folder = Path(target) / RELEASES / name
        trash = folder.with_name(TRASH_PREFIX + name)
        os.rename(folder, trash)  # no longer a release, whatever happens next
        on_step("pruning")
        shutil.rmtree(trash, ignore_errors=True)
        removed.append(name)
    return removed


def clean_stale(target: Path) -> list[str]:
    """Remove what killed publishes left behind (call with the lock held)."""
    removed = []
    folder = Path(target) / RELEASES
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith((TMP_PREFIX, TRASH_PREFIX)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    for path in Path(target).glob(f".{CURRENT}.tmp-*"):
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


# --------------------------------------------------------------------------- verification


def _search_package() -> Any | None:
    try:
        import search
    except ImportError:
        return None
    return search if hasattr(search, "SearchEngine") and hasattr(search, "index_dir_for") else None


def verify(site_dir: Path, run: BuildRun, sample_query: str | None = None) -> Verification:
    """Check a built release; raise :class:`PublishError` naming what is wrong."""
    result = Verification(pages=len(run.pages))
    if not run.pages or not (site_dir / "index.html").is_file():
        raise PublishError(f"verification: expected pages and a home page, found {len(run.pages)} "
                           "page(s) and no index.html")
    missing = [p.dest_path for p in run.pages if not (site_dir / p.dest_path).is_file()
               or (site_dir / p.dest_path).stat().st_size == 0]
    if missing:
        raise PublishError(f"verification: {len(missing)} page(s) missing or empty in the "
                           f"release, e.g. {missing[0]}")
    result.pdfs = sum(1 for p in site_dir.rglob("*.pdf")
                      if not any(part.startswith(".") for part in p.relative_to(site_dir).parts))
    search = _search_package()
    if search is None:
        result.notes.append("search package not importable: verified the site only "
                            "(no search index checked)")
        return result
    index_dir = search.index_dir_for(site_dir)
    if search.read_build_info(index_dir) is None:
        # hooks/search_index.py is not in mkdocs.yml: index the release here, with the site
        from kb.content.model import search_vocabulary

        search.build_index(site_dir, vocabulary=search_vocabulary())
        result.notes.append("search index built by kb publish (no search hook in mkdocs.yml)")
    try:
        engine = search.SearchEngine(site_dir)
        info = engine.info()
        result.index_documents, result.build_id = info.documents, info.build_id
        query = sample_query or _sample_query(run)
        response = engine.search(query, size=1)
    except Exception as exc:  # the index is unusable: never make it current
        raise PublishError(f"verification: the search index does not answer: "
                           f"{type(exc).__name__}: {exc}") from exc
    result.sample_query, result.sample_hits = query, response.total
    if info.documents < 1 or response.total < 1:
        raise PublishError(f"verification: sample query {query!r} found {response.total} "
                           f"result(s) in an index of {info.documents} document(s)")
    return result


def _sample_query(run: BuildRun) -> str:
    """A query that must find something: the title of a content page of the build."""
    titles = [p.title for p in run.pages if p.title and p.dest_path != "index.html"]
    return (titles or [p.title for p in run.pages if p.title] or ["信息中心"])[0][:20]


# --------------------------------------------------------------------------- publish / rollback


def publish(config_file: str | os.PathLike[str], target: str | os.PathLike[str], *,
            keep: int = 5, pdf: bool = False, env: Mapping[str, str] | None = None,
            sample_query: str | None = None,
            say: Callable[[str], None] = lambda s: None,
            on_step: Callable[[str], None] = lambda step: None) -> PublishResult:
    """Build, verify and switch to a new release of ``config_file`` in ``target``.

    ``on_step`` is called with each name of :data:`STEPS` as the publish passes it (kill
    drills in the tests stop a publish there)."""
    if keep < 1:
        raise PublishError(f"--keep: expected 1 or more, found {keep}")
    config_path = Path(config_file).resolve()
    target = Path(target).resolve()
    folder = target / RELEASES
    with locked(target, say, "publish"):
        folder.mkdir(parents=True, exist_ok=True)
        for name in clean_stale(target):
            say(f"removed {name}, left by an interrupted publish")
        commit = _commit(config_path.parent)
        name = release_name(commit, folder)
        tmp = folder / f"{TMP_PREFIX}{name}-{os.getpid()}"
        say(f"building {name} ...")
        run = run_build(config_path, tmp, strict=True, env=env,
                        kb_overrides={"pdf": True} if pdf else None)
        if not run.ok:
            shutil.rmtree(tmp, ignore_errors=True)
            lines = [str(e) for e in run.content_errors] + [r.message for r in run.records]
            lines += [run.failure] if run.failure else []
            raise PublishError("the build failed; nothing was published:\n  - "
                               + "\n  - ".join(lines or ["(no message)"]))
        on_step("built")
        try:
            verification = verify(tmp, run, sample_query)
        except PublishError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        on_step("verified")
        marker = {"name": name, "commit": commit,
                  "built_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"),
                  "audience": (env or {}).get("KB_AUDIENCE") or os.environ.get("KB_AUDIENCE")
                  or "internal", "pdf": pdf, "pdfs": verification.pdfs,
                  "pages": verification.pages,
                  "index_documents": verification.index_documents,
                  "index_build_id": verification.build_id, "notes": verification.notes}
        (tmp / MARKER).write_text(json.dumps(marker, ensure_ascii=False, indent=1),
                                  encoding="utf-8")
        os.sync()  # the release is on disk before anything points at it
        os.rename(tmp, folder / name)
        _fsync_dir(folder)
        on_step("renamed")
        previous = current(target)
        switch(target, name)
        _log(target, "publish", name)
        on_step("switched")
        removed = prune(target, keep, protect=(previous,), on_step=on_step)
    return PublishResult(name, folder / name, previous, removed, verification)


def rollback(target: str | os.PathLike[str], to: str | None = None,
             say: Callable[[str], None] = lambda s: None) -> tuple[str | None, str]:
    """Point ``current`` at the release before it (or at ``to``); return (from, to)."""
    target = Path(target).resolve()
    if not (target / RELEASES).is_dir():
        raise PublishError(f"{target}: no releases/ folder: nothing was ever published here")
    with locked(target, say, "rollback"):
        names = releases(target)
        cur = current(target)
        if to is not None:
            if to not in names:
                raise PublishError(f"--to: expected one of {', '.join(names) or '(none)'}, "
                                   f"found {to!r}")
            wanted = to
        else:
            older = names[:names.index(cur)] if cur in names else names
            if not older:
                raise PublishError(f"no release older than {cur} to roll back to "
                                   f"(releases: {', '.join(names) or 'none'})")
            wanted = older[-1]
        switch(target, wanted)
        _log(target, "rollback", wanted)
    return cur, wanted
