"""Version discipline: a controlled document that changed since a base revision needs a higher
``version`` and a matching new ``history`` entry; a version never goes down.

``kb check --base REF`` (and ``kb check-versions --base REF``) call :func:`check_versions`, which
compares the working tree with ``REF`` using one ``git diff --name-status -M`` and one
``git cat-file --batch`` for the old contents. A change to a manual's chapter counts as a change
of the manual: its ``index.md`` must carry the new version. Each problem is a
:class:`kb.errors.ContentError` naming the file, the line of ``version`` and what to add.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kb.errors import ContentError
from kb.versions.git import GitError, git, raw_changes, read_blobs
from kb.content.model import VERSION_RE, FrontMatter, parse_front_matter, version_key


@dataclass(frozen=True)
class Change:
    """A controlled file that differs from the base: its path now and at the base."""

    path: str  # repository path in the working tree
    base_path: str  # its path at the base revision (differs after a rename)


class BaseError(RuntimeError):
    """The base revision cannot be used (unknown, or not in a shallow clone)."""


def _roots_of(kinds: dict[str, str]) -> tuple[set[str], set[str]]:
    policies = {d for d, t in kinds.items() if t == "policy"}
    manuals = {d for d, t in kinds.items() if t == "manual"}
    return policies, manuals


def document_of(path: str, kinds: dict[str, str]) -> str | None:
    """The main file of the controlled document ``path`` belongs to, or None.

    ``kinds`` maps content-root folders to their type (``{"policies": "policy", ...}``).
    """
    policies, manuals = _roots_of(kinds)
    parts = path.split("/")
    if not path.endswith(".md"):
        return None
    if parts[0] in policies and len(parts) == 2 and parts[1] != "index.md":
        return path
    if parts[0] in manuals and len(parts) == 3:
        return f"{parts[0]}/{parts[1]}/index.md"
    return None


def changed_files(project_dir: str, base: str, roots: Iterable[str]) -> list[Change]:
    """Files under ``roots`` that differ between ``base`` and the working tree (renames paired)."""
    try:
        git(project_dir, "rev-parse", "--verify", "-q", f"{base}^{{commit}}")
    except GitError:
        shallow = git(project_dir, "rev-parse", "--is-shallow-repository", check=False).strip()
        hint = (" (this is a shallow clone: fetch the base, e.g. git fetch --deepen=50 or "
                "fetch-depth: 0)" if shallow == b"true" else "")
        raise BaseError(f"--base {base}: expected a commit, branch or tag of this repository, "
                        f"found no such revision{hint}") from None
    prefix = git(project_dir, "rev-parse", "--show-prefix").decode().strip()
    out = git(project_dir, "diff", "--raw", "-M", "-z", base, "--", *roots)
    changes: list[Change] = []
    n = len(prefix)
    for status, _blob, old, new in raw_changes(out.decode("utf-8", "replace")):
        if status in "DA":
            continue  # a removed document has nothing to bump; a new one is checked by the build
        changes.append(Change(new[n:] if new.startswith(prefix) else new,
                              old[n:] if old.startswith(prefix) else old))
    # untracked files are not in ``git diff``: new documents, nothing to compare
    return changes


def _version(front: FrontMatter | None) -> str | None:
    value = front.data.get("version") if front is not None else None
    return value if isinstance(value, str) and VERSION_RE.match(value) else None


def _same(a: FrontMatter | None, b: FrontMatter | None) -> bool:
    if a is None or b is None:
        return a is b
    norm = lambda text: "\n".join(line.rstrip() for line in text.strip().splitlines())  # noqa: E731
    return a.data == b.data and norm(a.body) == norm(b.body)


def check_versions(project_dir: str | os.PathLike[str], base: str,
                   kinds: dict[str, str]) -> list[ContentError]:
    """Every version-discipline problem of the working tree against ``base``."""
    project_dir = os.fspath(project_dir)
    changes = changed_files(project_dir, base, sorted(kinds))
    by_doc: dict[str, list[Change]] = {}
    for change in changes:
        doc = document_of(change.path, kinds)
        if doc is not None:
            by_doc.setdefault(doc, []).append(change)
    if not by_doc:
        return []
    # the base contents of every changed file and of every document's main file
    # (object names are relative to the repository's top level, hence the prefix)
    prefix = git(project_dir, "rev-parse", "--show-prefix").decode().strip()
    wanted: dict[str, str] = {}
    for doc, doc_changes in by_doc.items():
        main = next((c for c in doc_changes if c.path == doc), None)
        wanted[doc] = f"{base}:{prefix}{(main.base_path if main else doc)}"
        for c in doc_changes:
            wanted.setdefault(c.path, f"{base}:{prefix}{c.base_path}")
    old = read_blobs(project_dir, list(wanted.values()))
    errors: list[ContentError] = []
    for doc, doc_changes in sorted(by_doc.items()):
        errors += _check_document(project_dir, base, doc, doc_changes, wanted, old)
    return errors


def _parse(text: str | None, path: str) -> FrontMatter | None:
    if text is None:
        return None
    front, _ = parse_front_matter(text, path)
    return front


def _check_document(project_dir: str, base: str, doc: str, changes: list[Change],
                    wanted: dict[str, str], old: dict[str, bytes]) -> list[ContentError]:
    def old_front(path: str) -> FrontMatter | None:
        blob = old.get(wanted[path])
        return _parse(blob.decode("utf-8", "replace") if blob is not None else None, path)

    now_path = Path(project_dir, doc)
    now = _parse(now_path.read_text("utf-8-sig") if now_path.is_file() else None, doc)
    before = old_front(doc)
    new_v, old_v = _version(now), _version(before)
    if now is None or new_v is None or old_v is None:
        return []  # a new manual, or a broken version: the build reports that
    real = [c for c in changes
            if not _same(old_front(c.path), _parse(_read(project_dir, c.path), c.path))]
    line = now.line_of(("version",))
    if version_key(new_v) < version_key(old_v):
        return [ContentError(doc, line, "version (版本)",
                             f"a version not lower than {old_v} (the version at {base})", new_v,
                             hint="versions never go down; publish the change as a new "
                                  f"higher version, e.g. {_next(old_v)}")]
    if not real:
        return []
    what = ", ".join(sorted(c.path for c in real))
    if new_v == old_v:
        return [ContentError(
            doc, line, "version (版本)",
            f"a version higher than {old_v}, because {what} changed since {base}", new_v,
            hint=f'set version: "{_next(old_v)}" (or "{_major(old_v)}" for a major revision) and '
                 f'add a history entry: - version: "{_next(old_v)}", date: YYYY-MM-DD, '
                 "summary: what changed, approver: who approved it")]
    entries = now.data.get("history")
    has_entry = isinstance(entries, list) and any(
        isinstance(e, dict) and str(e.get("version")) == new_v for e in entries)
    if not has_entry:
        return [ContentError(
            doc, now.line_of(("history",)) or line, "history (修订记录)",
            f"an entry for the new version {new_v} (raised from {old_v} since {base})",
            "no entry with that version",
            hint=f'add: - version: "{new_v}", date: YYYY-MM-DD, summary: what changed, '
                 "approver: who approved it")]
    return []


def _read(project_dir: str, path: str) -> str | None:
    try:
        return Path(project_dir, path).read_text("utf-8-sig")
    except OSError:
        return None


def _next(version: str) -> str:
    major, minor = version_key(version)
    return f"{major}.{minor + 1}"


def _major(version: str) -> str:
    return f"{version_key(version)[0] + 1}.0"


def check_project(config_file: str | os.PathLike[str], base: str) -> list[ContentError]:
    """:func:`check_versions` for the project of ``config_file`` (its mkdocs.yml); an unusable
    base revision is reported as one error (so ``kb check`` fails, naming it)."""
    import logging

    from kb.buildrun import load
    from kb.config import kb_settings

    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    config_file = Path(config_file).resolve()
    project_dir = config_file.parent
    settings = kb_settings(load(config_file))
    kinds = {r.dir.strip("/"): r.type for r in settings.roots}
    try:
        return check_versions(project_dir, base, kinds)
    except (BaseError, GitError) as exc:
        return [ContentError("--base", None, None, "a revision git can compare with", base,
                             hint=str(exc))]
