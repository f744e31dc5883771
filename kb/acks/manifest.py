"""The build's manifest of required confirmations, as ``kb serve`` reads it: no content model.

A :class:`Requirement` is one policy with ``acknowledge: required`` in its current effective
version: what to confirm (doc_id, version), who (``acknowledge_groups``; none or ``全体员工``
means everyone) and by when (``due``). Whether an earlier confirmation still counts follows
``renew`` (``extra.kb.acknowledge_renew``): ``major`` — one of the same major version does (2.0
counts for 2.1, not for 3.0); ``every`` — only the same version.

The build writes ``SITE/.kb-acks.json`` (:func:`write_manifest`; a dot file, never served);
``kb serve`` reads it for the release it serves (:class:`ManifestHolder`) and accepts a
confirmation only of a version that release shows as current. Requirements are made from the
catalog by :mod:`kb.acks.declare`.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.atomic import write_atomic

#: the build's list of required confirmations, at the root of the site (not served: a dot file)
MANIFEST = ".kb-acks.json"
#: the group name meaning every member of staff
EVERYONE = "全体员工"


@dataclass(frozen=True)
class Requirement:
    """One document version staff must confirm."""

    doc_id: str
    title: str
    version: str
    effective_date: str  # YYYY-MM-DD
    due: str  # YYYY-MM-DD: effective_date + acknowledge_days
    url: str  # site-relative
    owner: str | None = None
    groups: tuple[str, ...] = ()
    renew: str = "major"  # "major" | "every"
    #: the version that first asked (renew "major": 3.0 for a 3.1); its date set ``due``
    asked_version: str | None = None

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def covered(self) -> list[str] | None:
        """Versions whose confirmation counts for this one (None: any of the same major)."""
        return None if self.renew == "major" else [self.version]

    def applies_to(self, groups: set[str] | None) -> bool:
        """Whether a member of ``groups`` must confirm (None: groups unknown — yes)."""
        if not self.groups or EVERYONE in self.groups or groups is None:
            return True
        return bool(groups & set(self.groups))

    def counts(self, version: str) -> bool:
        """Whether a confirmation of ``version`` counts for this requirement."""
        if self.renew == "major":
            return int(version.split(".")[0]) == self.major
        return version == self.version

    def to_json(self) -> dict:
        data = asdict(self)
        data["groups"] = list(self.groups)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Requirement:
        return cls(**{**data, "groups": tuple(data.get("groups") or ())})


def write_manifest(site_dir: str | os.PathLike[str], reqs: list[Requirement],
                   timezone: str) -> Path:
    """``SITE/.kb-acks.json``: the requirements of this build and the site's time zone."""
    path = Path(site_dir) / MANIFEST
    data = {"timezone": timezone, "documents": [r.to_json() for r in reqs]}
    return write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))


@dataclass(frozen=True)
class Manifest:
    """What one built release asks staff to confirm."""

    documents: dict[str, Requirement]
    timezone: str = "Asia/Shanghai"
    found: bool = True  # False: the release has no manifest (built without the hook)


def read_manifest(root: str | os.PathLike[str]) -> Manifest:
    """The manifest of the built site at ``root`` (empty when it has none)."""
    try:
        data = json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Manifest({}, found=False)
    reqs = [Requirement.from_json(d) for d in data.get("documents", [])]
    return Manifest({r.doc_id: r for r in reqs}, data.get("timezone") or "Asia/Shanghai")


class ManifestHolder:
    """The manifest of the release being served, read again when the release or file changes."""

    def __init__(self, root_of) -> None:  # noqa: ANN001 - () -> str, the served folder
        self._root_of = root_of
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._manifest = Manifest({}, found=False)

    def current(self) -> Manifest:
        root = self._root_of()
        try:
            st = os.stat(os.path.join(root, MANIFEST))
            key: tuple = (root, st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            key = (root, None)
        with self._lock:
            if key != self._key:
                self._manifest = read_manifest(root)
                self._key = key
            return self._manifest
