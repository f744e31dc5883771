"""Which documents staff must confirm, from the content model, and the build's manifest of them.

A :class:`Requirement` is one policy with ``acknowledge: required`` in its current effective
version: what to confirm (doc_id, version), who (``acknowledge_groups``; none or ``全体员工``
means everyone) and by when (``effective_date`` + ``acknowledge_days``). Whether an earlier
confirmation still counts follows ``extra.kb.acknowledge_renew``: ``major`` (default) — one of
the same major version does (2.0 counts for 2.1, not for 3.0); ``every`` — only the same version.

The build writes the requirements of the pages it published to ``SITE/.kb-acks.json``
(:func:`write_manifest`; a dot file, never served), which ``kb serve`` reads for the release it
serves (:class:`ManifestHolder`): the service accepts a confirmation only of a version that
release shows as current. ``kb report --acks`` computes the same requirements from the sources.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.catalog import Catalog
from kb.config import KBSettings
from kb.model import PolicyMeta, Status, version_key

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


def asked_since(meta: PolicyMeta, renew: str) -> _dt.date:
    """When staff were first asked to confirm the current version: its effective date, or
    with ``renew: major`` the release of the first version of the current major (a 3.1 after
    3.0 asks nothing new; the 3.0 deadline stands)."""
    assert meta.effective_date is not None
    if renew != "major":
        return meta.effective_date
    major, current = meta.version.split(".")[0], version_key(meta.version)
    dates = [h.date for h in meta.history if h.version.split(".")[0] == major
             and version_key(h.version) <= current]
    return min([meta.effective_date, *dates])


def requirements(catalog: Catalog, settings: KBSettings) -> list[Requirement]:
    """The confirmations this catalog asks for: effective policies with ``acknowledge:
    required`` (left-out pages of the build excluded), by doc_id."""
    out = []
    for entry in catalog.of_type("policy"):
        meta = entry.meta
        if (not isinstance(meta, PolicyMeta) or not meta.acknowledge_required
                or meta.status is not Status.effective or meta.effective_date is None
                or entry.left_out):
            continue
        days = meta.acknowledge_days or settings.acknowledge_days
        asked = asked_since(meta, settings.acknowledge_renew)
        out.append(Requirement(
            meta.doc_id, meta.title, meta.version, meta.effective_date.isoformat(),
            (asked + _dt.timedelta(days=days)).isoformat(), entry.url,
            meta.owner, tuple(meta.acknowledge_groups), settings.acknowledge_renew))
    return sorted(out, key=lambda r: r.doc_id)


def write_manifest(site_dir: str | os.PathLike[str], reqs: list[Requirement],
                   settings: KBSettings) -> Path:
    """``SITE/.kb-acks.json``: the requirements of this build and the site's time zone."""
    path = Path(site_dir) / MANIFEST
    data = {"timezone": settings.timezone, "documents": [r.to_json() for r in reqs]}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


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
