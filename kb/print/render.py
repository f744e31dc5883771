"""Render print documents to PDF with WeasyPrint: font check, worker pool, cache.

* Fonts are system fonts found through fontconfig by family name (the Simplified Chinese faces of
  the Noto CJK collections are separate families: ``Noto Serif CJK SC``). Before rendering,
  :func:`check_fonts` makes sure each configured family resolves to a readable font file of that
  family; otherwise WeasyPrint would silently fall back to another font.
* :func:`render_all` renders the documents whose cache key is not in the cache over all cores
  (spawned worker processes owned by a ``with`` block, :func:`kb.workers.pool`), then copies
  every PDF from the cache into the site. The key is a hash of the print HTML, every local
  file it loads, the WeasyPrint version and the font files, so an unchanged PDF is never
  rendered twice. A complete build then prunes the cache of the PDFs that no audience's last
  build used (:mod:`kb.print.cache`).
* WeasyPrint's log records are collected in the worker and returned: errors (an image that cannot
  be loaded) fail the PDF, warnings are passed on to ``mkdocs.plugins.kb.pdf`` naming the page.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from kb import clock
from kb.errors import ContentError
from kb.print.cache import PdfCache
from kb.print.document import CREATED, GENERATED, PrintDocument

log = logging.getLogger("mkdocs.plugins.kb.pdf")

#: bump when the output changes for the same inputs (renderer logic, not templates: those
#: are part of the hashed HTML)
RENDERER_VERSION = "4"

#: accessible output: PDF/UA-1 (tagged structure, document title shown); the bookmarks pane opens
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}
#: a document whose body takes at most this many pages is rendered again compact (cover and
#: 目录 folded into its first page, the record at the end)
SHORT_BODY_PAGES = 2
#: documents with less body text than this (characters; a page holds about 1800) are likely
#: short: their compact layout is rendered first (kept when it takes at most SHORT_BODY_PAGES + 1
#: pages), the full one only when it is longer; longer documents the other way round
COMPACT_FIRST_CHARS = 3000


@dataclass(frozen=True)
class FontFile:
    """A font family as fontconfig resolves it."""

    family: str
    path: str
    index: int
    size: int
    mtime_ns: int


def check_fonts(families: dict[str, str]) -> tuple[list[FontFile], list[tuple[str, str, str]]]:
    """Resolve every configured family; return the fonts and problems (setting, expected, found)."""
    fonts: list[FontFile] = []
    problems: list[tuple[str, str, str]] = []
    for role, family in sorted(families.items()):
        try:
            out = subprocess.run(
                ["fc-match", "--format=%{file}\n%{index}\n%{family}", family],
                capture_output=True, text=True, check=True, timeout=30).stdout.split("\n")
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append((f"pdf_fonts.{role}", f"fontconfig (fc-match) finding {family!r}",
                             str(exc)))
            continue
        path, index, names = (out + ["", "", ""])[:3]
        if family.lower() not in [n.strip().lower() for n in names.split(",")]:
            problems.append((f"pdf_fonts.{role}",
                             f"installed font {family!r} (Debian: fonts-noto-cjk)",
                             f"only {names or 'nothing'} ({path or 'no file'})"))
            continue
        try:
            with open(path, "rb") as handle:
                magic = handle.read(4)
            stat = os.stat(path)
        except OSError as exc:
            problems.append((f"pdf_fonts.{role}", f"a readable font file for {family!r}",
                             f"{path}: {exc.strerror}"))
            continue
        if magic not in (b"ttcf", b"OTTO", b"\x00\x01\x00\x00", b"true"):
            problems.append((f"pdf_fonts.{role}", f"a TrueType/OpenType font file for {family!r}",
                             f"{path} (unreadable: not a font)"))
            continue
        fonts.append(FontFile(family, path, int(index or 0), stat.st_size, stat.st_mtime_ns))
    return fonts, problems


def inputs_version(fonts: list[FontFile]) -> str:
    """What besides the print HTML and its files decides the PDF bytes."""
    import weasyprint

    return json.dumps({"weasyprint": weasyprint.__version__, "renderer": RENDERER_VERSION,
                       "fonts": [asdict(f) for f in fonts]}, sort_keys=True)


# --------------------------------------------------------------------------- worker


@dataclass(frozen=True)
class Job:
    """One PDF to render in a worker process."""

    key: str
    label: str  # the page the PDF belongs to (repository path), for messages
    html: str
    site_dir: str
    cache_file: str
    compact_html: str | None = None
    compact_first: bool = False  # usually short (a chapter, a course): try the compact layout first
    families: tuple[str, ...] = ()  # the configured fonts: any other font in the PDF is an error
    generated: str = ""  # 2026-11-27 10:30, printed on the PDF
    created: str = ""  # ISO date-time, the PDF's CreationDate


@dataclass
class Result:
    key: str
    label: str
    pages: int = 0
    seconds: float = 0.0
    compact: bool = False
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _fetcher(site_dir: str):  # type: ignore[no-untyped-def]
    """A WeasyPrint URL fetcher that reads ``data:`` URLs and files of the site only."""
    from weasyprint.urls import URLFetcher

    root = Path(site_dir).resolve()

    class SiteFetcher(URLFetcher):
        def fetch(self, url, headers=None):  # type: ignore[no-untyped-def]  # WeasyPrint's API
            parts = urlsplit(url)
            if parts.scheme == "file":
                path = Path(url2pathname(parts.path)).resolve()
                if not path.is_relative_to(root):
                    raise ValueError(f"file outside the site folder: {path}")
            elif parts.scheme != "data":
                raise ValueError(f"no network access while rendering PDFs: {url}")
            return super().fetch(url, headers)

    return SiteFetcher(allowed_protocols={"file", "data"})


def render_job(job: Job) -> Result:
    """Render one PDF into the cache (atomically); runs in a worker process."""
    from weasyprint import HTML

    started = time.perf_counter()
    result = Result(job.key, job.label)
    collect = _Collect()
    weasy = logging.getLogger("weasyprint")
    weasy.addHandler(collect)
    propagate, weasy.propagate = weasy.propagate, False
    try:
        if job.compact_html is not None and job.compact_first:
            document = _render(job, job.compact_html)
            result.compact = len(document.pages) <= SHORT_BODY_PAGES + 1
            if not result.compact:
                collect.records.clear()  # the messages of the layout that is kept
                document = _render(job, job.html)
        else:
            document = _render(job, job.html)
            if job.compact_html is not None and _body_pages(document) <= SHORT_BODY_PAGES:
                collect.records.clear()
                document = _render(job, job.compact_html)
                result.compact = True
        result.pages = len(document.pages)
        for record in collect.records:
            text = record.getMessage()
            (result.errors if record.levelno >= logging.ERROR else result.warnings).append(text)
        if not result.errors:
            Path(job.cache_file).parent.mkdir(parents=True, exist_ok=True)
            partial = f"{job.cache_file}.{os.getpid()}.part"
            try:
                document.write_pdf(partial, finisher=_finisher(job.families), **PDF_OPTIONS)
            except _FontFallback as exc:
                result.errors.append(str(exc))
                Path(partial).unlink(missing_ok=True)
            else:
                os.replace(partial, job.cache_file)
    except Exception as exc:  # noqa: BLE001 - reported against the page, the build then fails
        result.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        weasy.removeHandler(collect)
        weasy.propagate = propagate
    result.seconds = time.perf_counter() - started
    return result


class _FontFallback(Exception):
    """Text was set in a font that was not configured (a glyph missing from the CJK fonts)."""


def _render(job: Job, html: str):  # type: ignore[no-untyped-def]  # weasyprint.Document
    from weasyprint import HTML

    filled = html.replace(GENERATED, job.generated).replace(CREATED, job.created)
    return HTML(string=filled, base_url=Path(job.site_dir).as_uri() + "/",
                url_fetcher=_fetcher(job.site_dir)).render()


def _body_pages(document) -> int:  # type: ignore[no-untyped-def]
    """Pages from the one where the first section (``#s1``) starts to the end."""
    for index, page in enumerate(document.pages):
        if "s1" in page.anchors:
            return len(document.pages) - index
    return len(document.pages)


def _finisher(families: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """Checks the fonts of the finished PDF (a fallback font means a glyph is missing from the
    configured ones: an error, not a silently different look) and opens the bookmarks pane."""
    def finish(document, pdf) -> None:  # type: ignore[no-untyped-def]
        if families:
            allowed = {f.lower() for f in families}
            other = [font for font in document.fonts.values()
                     if font.family.lower() not in allowed]
            if other:
                names = sorted({font.family for font in other})
                chars = sorted({c for font in other for c in font.to_unicode.values()
                                if isinstance(c, str)})
                shown = " ".join(f"{c!r} (U+{ord(c[0]):04X})" for c in chars[:12] if c)
                raise _FontFallback(
                    f"text set in a fallback font ({', '.join(names)}): {shown or 'characters'} "
                    f"missing from the configured fonts ({', '.join(families)}); use "
                    "characters they have (or an image)")
        if "Outlines" in pdf.catalog:
            pdf.catalog["PageMode"] = "/UseOutlines"
    return finish


# --------------------------------------------------------------------------- pool and cache


@dataclass
class RunReport:
    """What one PDF run did; written to ``<cache>/last-run.json``."""

    rendered: list[str] = field(default_factory=list)  # site paths of PDFs rendered now
    reused: list[str] = field(default_factory=list)  # site paths copied from the cache
    pages: dict[str, int] = field(default_factory=dict)  # site path -> page count (rendered)
    seconds: float = 0.0
    render_seconds: dict[str, float] = field(default_factory=dict)
    pruned: int = 0  # cache files removed after the run (no audience's last build used them)


def render_all(documents: list[PrintDocument], *, site_dir: str, cache_dir: str,
               version: str, workers: int = 0, scope: str | None = None,
               families: tuple[str, ...] = (), timezone: str | None = None
               ) -> tuple[RunReport, list[ContentError]]:
    """Bring every document's PDF into the site, rendering only those not in the cache.
    ``scope`` (the audience) names a complete build: the keys it used are recorded and the
    cache is pruned of what no scope's last build used (:mod:`kb.print.cache`)."""
    started = time.perf_counter()
    cache = PdfCache(cache_dir)
    report = RunReport()
    keys = [doc.digest(site_dir, version) for doc in documents]
    with cache.in_use():
        errors = _render_missing(documents, keys, cache, site_dir, workers, report, families,
                                 timezone)
    if scope is not None and not errors:
        cache.record(scope, keys)
        report.pruned = len(cache.prune() or [])
    report.seconds = round(time.perf_counter() - started, 3)
    (cache.folder / "last-run.json").write_text(
        json.dumps(asdict(report), ensure_ascii=False, indent=1), encoding="utf-8")
    return report, errors


def _render_missing(documents: list[PrintDocument], keys: list[str], cache: PdfCache,
                    site_dir: str, workers: int, report: RunReport,
                    families: tuple[str, ...] = (), timezone: str | None = None
                    ) -> list[ContentError]:
    """Render the documents missing from the cache; copy them all into the site. The time
    they say they were generated is ``timezone``'s (``extra.kb.timezone``), zone shown."""
    errors: list[ContentError] = []
    moment = clock.now(timezone)
    generated = f"{moment:%Y-%m-%d %H:%M} {clock.zone_label(moment)}".strip()
    created = moment.astimezone().isoformat(timespec="seconds")
    jobs: list[tuple[PrintDocument, Job]] = []
    cached_files = [cache.path(key) for key in keys]
    for doc, key, cached in zip(documents, keys, cached_files):
        if cached.is_file():
            report.reused.append(doc.target.output)
        else:
            jobs.append((doc, Job(key, doc.target.repo_path, doc.html, site_dir, str(cached),
                                  compact_html=doc.compact_html,
                                  compact_first=doc.text_chars < COMPACT_FIRST_CHARS,
                                  families=families, generated=generated, created=created)))
    results = _run([job for _, job in jobs], workers)
    for (doc, _job), result in zip(jobs, results):
        for warning in result.warnings:
            log.warning("%s: PDF %s: WeasyPrint: %s", doc.target.repo_path, doc.target.output,
                        warning)
        if result.errors:
            errors += [ContentError(doc.target.repo_path, None, "PDF",
                                    f"{doc.target.output} rendered without errors", e)
                       for e in result.errors]
            continue
        report.rendered.append(doc.target.output)
        report.pages[doc.target.output] = result.pages
        report.render_seconds[doc.target.output] = round(result.seconds, 3)
    if not errors:
        for doc, cached in zip(documents, cached_files):
            dest = Path(site_dir, doc.target.output)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cached, dest)
    return errors


def _run(jobs: list[Job], workers: int) -> list[Result]:
    if not jobs:
        return []
    count = min(len(jobs), workers or os.cpu_count() or 1)
    if count == 1:
        return [render_job(job) for job in jobs]
    from kb.workers import pool

    # biggest documents first, so one long manual does not start last
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i].html))
    with pool(count) as workers:
        done = dict(zip(order, workers.imap(render_job, [jobs[i] for i in order], chunksize=1)))
    return [done[i] for i in range(len(jobs))]
