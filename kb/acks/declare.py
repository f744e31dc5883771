"""Which documents staff must confirm, from the content model (:mod:`kb.acks.manifest` holds
what the build writes of it for ``kb serve``).

:func:`requirements`: the effective policies of a catalog with ``acknowledge: required``, each
with its deadline — ``acknowledge_days`` (else ``extra.kb.acknowledge_days``) after the release
that first asked for the current version (:func:`asked_since`).
"""

from __future__ import annotations

import datetime as _dt

from kb.acks.manifest import Requirement
from kb.config import KBSettings
from kb.content.catalog import Catalog
from kb.content.model import PolicyMeta, Status, version_key


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


def asked_version(meta: PolicyMeta, renew: str) -> str:
    """The version whose release first asked for what the current version asks
    (:func:`asked_since`): the current one, or with ``renew: major`` the earliest of its major
    in the history."""
    if renew != "major":
        return meta.version
    major, current = meta.version.split(".")[0], version_key(meta.version)
    same = [h.version for h in meta.history if h.version.split(".")[0] == major
            and version_key(h.version) <= current]
    return min([meta.version, *same], key=version_key)


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
            meta.owner, tuple(meta.acknowledge_groups), settings.acknowledge_renew,
            asked_version(meta, settings.acknowledge_renew)))
    return sorted(out, key=lambda r: r.doc_id)
