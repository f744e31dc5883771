"""Everything a pull request must pass, in one run (``kb check``).

1. the strict build into a temporary folder (:mod:`kb.buildrun`): MkDocs' warnings and errors and
   our hooks' :class:`kb.errors.ContentError` rows (front-matter validation, site-wide rules);
2. links, anchors and images checked on the BUILT site (:mod:`kb.content.sitelinks`), so links made by
   hooks and templates are covered as well as those written in Markdown;
3. version discipline against a base revision (``--base REF``), by the history feature's check;
4. the review report: controlled documents overdue or due soon for periodic review (information
   only, never a failure).

Each finding is a :class:`Problem` naming the source file and line when known, with a fix hint.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kb.buildrun import BuildRun, run_build
from kb.errors import ContentError
from kb.content.sanitize import UNSAFE_MARKUP
from kb.content.sitelinks import BrokenLink, check_links, locate
from kb.versions.check import check_project
from kb.content.yamlguard import ExpandingConfig, check_config_file

SEVERITIES = ("error", "warning", "info")

HINTS: dict[str, str] = {
    "metadata": "fix the front matter field as described; kb/content/model.py lists every field",
    "link": "point the link at an existing page (repository path, e.g. ../policies/network.md)",
    "anchor": "link to a heading that exists: its anchor is the heading text (e.g. #补充说明)",
    "image": "add the image file next to the page (e.g. images/) or fix its path",
    "build": "see the message; run `mkdocs build --strict` for the full log",
    "safety": "remove it, or show it as code (`<script>`): pages may not run script, embed "
              "frames or restyle the page; event handlers and javascript: links never reach "
              "readers",
    "version": "raise `version` and add a matching `history` entry (version, date, summary)",
    "review": "review the document, then update effective_date/next_review and history",
}

_DOC_LINK = re.compile(r"Doc file '(?P<src>[^']+)' contains (?:an? )?(?P<what>[\w ]*?)link "
                       r"'(?P<link>[^']*)'")
_IMAGE_EXT = re.compile(r"\.(png|jpe?g|gif|svg|webp|bmp|ico)$", re.I)
_FILE_LINE = re.compile(r"^(?P<file>[^\s:]+\.(?:md|ya?ml))(?::(?P<line>\d+))?: (?P<msg>.*)$", re.S)


@dataclass(frozen=True)
class Problem:
    """One finding of ``kb check``."""

    file: str | None  # repository-relative source path; None for site-wide findings
    line: int | None
    severity: str  # error, warning (both fail the check) or info
    kind: str  # metadata, build, safety, link, anchor, image, version, review
    message: str
    hint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """All findings of one ``kb check`` run."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was skipped and why
    pages: int = 0

    @property
    def failed(self) -> bool:
        return any(p.severity in ("error", "warning") for p in self.problems)

    def count(self, severity: str) -> int:
        return sum(1 for p in self.problems if p.severity == severity)

    def by_file(self) -> list[tuple[str | None, list[Problem]]]:
        """Problems grouped by file (site-wide last), each group by line."""
        groups: dict[str | None, list[Problem]] = {}
        for problem in self.problems:
            groups.setdefault(problem.file, []).append(problem)
        order = sorted(groups, key=lambda f: (f is None, f or ""))
        return [(f, sorted(groups[f], key=lambda p: (p.line or 0, SEVERITIES.index(p.severity))))
                for f in order]

    def to_json(self) -> str:
        return json.dumps({
            "ok": not self.failed,
            "errors": self.count("error"), "warnings": self.count("warning"),
            "infos": self.count("info"), "pages": self.pages, "notes": self.notes,
            "problems": [p.as_dict() for p in self.problems],
        }, ensure_ascii=False, indent=1)

    def to_text(self) -> str:
        out: list[str] = []
        for file, problems in self.by_file():
            out.append(file or "(site-wide)")
            for p in problems:
                where = f"{p.line:>5}" if p.line else "    -"
                out.append(f"  {where}  {p.severity:<7} [{p.kind}] {p.message}")
                if p.hint:
                    out.append(f"         {'':<7}   fix: {p.hint}")
        out += [f"note: {n}" for n in self.notes]
        verdict = "FAILED" if self.failed else "OK"
        out.append(f"kb check: {verdict}: {self.count('error')} error(s), "
                   f"{self.count('warning')} warning(s), {self.count('info')} note(s); "
                   f"{self.pages} page(s) built")
        return "\n".join(out)

    def annotations(self) -> str:
        """GitHub/Gitea/Forgejo Actions workflow commands: one ``::error file=..,line=..::``."""
        lines = []
        for p in self.problems:
            level = {"error": "error", "warning": "warning", "info": "notice"}[p.severity]
            props = ",".join(x for x in (f"file={p.file}" if p.file else "",
                                         f"line={p.line}" if p.line else "",
                                         f"title=kb check: {p.kind}") if x)
            text = p.message + (f" — fix: {p.hint}" if p.hint else "")
            text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            lines.append(f"::{level} {props}::{text}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- conversions


def from_content_error(error: ContentError, kind: str = "metadata") -> Problem:
    """A :class:`ContentError` of a hook (or the version check) as a :class:`Problem`."""
    message = str(error)
    prefix = error.file if error.line is None else f"{error.file}:{error.line}"
    message = message[len(prefix) + 2:] if message.startswith(prefix + ": ") else message
    if error.hint and message.endswith(f" ({error.hint})"):
        message = message[: -len(error.hint) - 3]
    return Problem(error.file, error.line, "error", kind, message, error.hint or HINTS[kind])


def from_log(level: str, message: str, run: BuildRun) -> Problem:
    """A warning/error MkDocs or a hook logged, tied to its source file and line when possible."""
    severity = "warning" if level == "WARNING" else "error"
    by_src = {p.src_uri: p for p in run.pages}
    if m := _DOC_LINK.search(message):
        page = by_src.get(m["src"])
        link = m["link"]
        kind = "image" if _IMAGE_EXT.search(link.split("#")[0]) else \
            "anchor" if "anchor" in message else "link"
        file = page.repo_path if page else m["src"]
        message = message.split(" contains ", 1)[-1]  # the file is named by the group
        line = locate(page.source, link) if page else None
        return Problem(file, line, severity, kind, message, HINTS[kind])
    if m := _FILE_LINE.match(message):
        kind = "safety" if m["msg"].startswith(UNSAFE_MARKUP) else "build"
        return Problem(m["file"], int(m["line"]) if m["line"] else None, severity, kind,
                       m["msg"], HINTS[kind])
    return Problem(None, None, severity, "build", message, HINTS["build"])


def from_broken(broken: BrokenLink) -> Problem:
    """A broken reference of the built site; without a source file it names the output file."""
    where = f" (in {broken.html_file})" if broken.file is None and " pages, e.g. " not in \
        broken.message else ""
    return Problem(broken.file, broken.line, "error", broken.kind, broken.message + where,
                   HINTS[broken.kind])


# --------------------------------------------------------------------------- the steps


def version_discipline(config_file: Path, base: str) -> list[Problem]:
    """The history feature's version-discipline check (:mod:`kb.versions.check`) as problems."""
    return [from_content_error(e, "version") for e in check_project(config_file, base)]


def review_report(run: BuildRun) -> list[Problem]:
    """Controlled documents overdue or due soon for review (information only)."""
    from kb import buildstate, clock
    from kb.documents.control import ReviewState

    if run.config is None or not buildstate.of(run.config).has_catalog:
        return []  # the build stopped before its catalog was made
    state = buildstate.of(run.config)
    catalog, settings = state.catalog, state.settings
    today = clock.today()
    out = []
    for entry in catalog.of_type("policy", "manual"):
        state = ReviewState.of(entry, today, settings.review_warning_days)
        if state is None or state.state == "ok":
            continue
        if state.state == "overdue":
            text = f"review overdue since {state.due} ({-state.days_left} days)"
        else:
            text = f"review due on {state.due} (in {state.days_left} days)"
        line = entry.line("next_review") if "next_review" in entry.front.data \
            else entry.line("effective_date")
        out.append(Problem(entry.repo_path, line, "info", "review", text, HINTS["review"]))
    return out


def run_checks(config_file: str | Path, *, base: str | None = None,
               env: Mapping[str, str] | None = None, site_dir: str | Path | None = None) -> Report:
    """Run every check on the project of ``config_file``; see the module docstring."""
    report = Report()
    try:
        check_config_file(config_file)
    except ExpandingConfig as exc:  # nothing can be built or compared without the config
        report.problems.append(from_content_error(exc.error, "build"))
        return report
    with tempfile.TemporaryDirectory(prefix="kb-check-") as tmp:
        out = Path(site_dir) if site_dir else Path(tmp) / "site"
        run = run_build(config_file, out, strict=True, env=env)
        report.pages = len(run.pages)
        report.problems += [from_content_error(e) for e in run.content_errors]
        report.problems += [from_log(r.level, r.message, run) for r in run.records]
        if run.failure:
            report.problems.append(Problem(None, None, "error", "build", run.failure,
                                           HINTS["build"]))
        if run.finished:
            reported = {(p.file, p.line) for p in report.problems
                        if p.kind in ("link", "anchor", "image") and p.line}
            for broken in check_links(run):
                if broken.file and (broken.file, broken.line) in reported:
                    continue  # MkDocs already named this link
                report.problems.append(from_broken(broken))
            report.problems += review_report(run)
        else:
            report.notes.append("the build stopped early: links, anchors and images were not "
                                "checked; fix the errors above and run kb check again")
    if base:
        report.problems += version_discipline(Path(config_file), base)
    return report

