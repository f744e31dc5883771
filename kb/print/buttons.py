"""Printing: 下载 PDF / 打印 buttons on document pages, and the PDF step of a build.

:class:`PrintBuild` holds what one build needs (settings, the PDF targets from the catalog) and is
driven by ``hooks/print.py``: :meth:`PrintBuild.page_actions` gives the buttons of a page (for
``slots(page).top``), :meth:`PrintBuild.render` makes the PDFs from the written site. The browser
print stylesheet is ``docs/assets/stylesheets/print.css`` (listed in ``extra_css``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace

from markupsafe import Markup

from kb.content.catalog import Catalog
from kb.content.model import CONFIDENTIALITY_LABELS, ControlledMeta
from kb.config import KBSettings, Level
from kb.errors import ContentError, raise_collected
from kb.print.document import Assembler, PrintOptions, stylesheet
from kb.print.render import RunReport, check_fonts, inputs_version, render_all
from kb.print.targets import Target, targets_of

log = logging.getLogger("mkdocs.plugins.kb.pdf")

DEFAULT_FONTS = {"serif": "Noto Serif CJK SC", "sans": "Noto Sans CJK SC",
                 "mono": "Noto Sans Mono CJK SC"}

#: label of the download button per PDF kind
LINK_LABELS = {"chapter": "下载本章 PDF", "manual": "下载整本手册 PDF", "policy": "下载 PDF",
               "course-trainee": "下载学员讲义 PDF"}


def plan_targets(catalog: Catalog, settings: KBSettings, audience: Level) -> list[Target]:
    """The PDFs of this build (none when PDFs are off): every document of the catalog (drafts
    and pages above the audience are already left out of it), or those of ``pdf_only``."""
    if not settings.pdf:
        return []
    targets = targets_of(catalog, audience)
    if settings.pdf_only:
        targets = [t for t in targets if t.selected_by(settings.pdf_only)]
    return targets


def document_references(catalog: Catalog) -> dict[str, str]:
    """What a PDF prints after a link to a controlled document, by the page's URL:
    ``XXZX-ZD-001 v1.2`` (a chapter: its manual's number, version and 第 N 章)."""
    out: dict[str, str] = {}
    for entry in catalog.entries:
        meta = entry.meta
        if isinstance(meta, ControlledMeta):
            out[entry.url] = f"{meta.doc_id} v{meta.version}"
        elif entry.type == "chapter" and entry.manual is not None \
                and isinstance(entry.manual.meta, ControlledMeta) and entry.chapter is not None:
            manual = entry.manual.meta
            out[entry.url] = f"{manual.doc_id} v{manual.version} 第 {entry.chapter} 章"
    return out


def actions_html(links: list[tuple[str, str, str]], printable: bool = True) -> Markup:
    """The button row: ``links`` are (label, href, title); plus a print button."""
    parts = [Markup('<a class="md-button kb-pdf-link" href="{}" download title="{}">{}</a>')
             .format(href, title, label) for label, href, title in links]
    if printable:
        parts.append(Markup('<button type="button" class="md-button kb-print-button" '
                            'data-kb-print title="用浏览器打印本页">打印</button>'))
    return Markup('<div class="kb-print-actions" data-kb-pdf="omit">{}</div>').format(
        Markup("").join(parts))


@dataclass
class PrintBuild:
    """The print/PDF state of one build."""

    settings: KBSettings
    project_dir: str
    audience: Level
    targets: list[Target] = field(default_factory=list)
    report: RunReport | None = None
    references: dict[str, str] = field(default_factory=dict)  # page URL -> "doc_id vX.Y"

    @property
    def enabled(self) -> bool:
        return self.settings.pdf

    def plan(self, catalog: Catalog) -> None:
        """Decide this build's PDFs from the catalog."""
        self.targets = plan_targets(catalog, self.settings, self.audience)
        self.references = document_references(catalog)

    def page_actions(self, repo_path: str, page_dest: str, documentish: bool) -> Markup | None:
        """Buttons of the page built from ``repo_path``; None for pages without any."""
        links = []
        if self.enabled:
            for target in self.targets:
                # the trainer's copy (answers, notes) is not offered to every reader: trainers
                # take it from `kb pdf PATH` (pdf/PX-…-trainer.pdf), README "Print and PDF"
                if target.repo_path == repo_path and target.edition != "trainer":
                    links.append((LINK_LABELS[target.link_key], target.link_from(page_dest),
                                  target.output.rsplit("/", 1)[-1]))
            links += [(LINK_LABELS["manual"], t.link_from(page_dest), t.output.rsplit("/", 1)[-1])
                      for t in self.targets if t.kind == "manual"
                      and any(s.repo_path == repo_path for s in t.sections[1:])]
        if not links and not documentish:
            return None
        return actions_html(links)

    def fonts(self) -> dict[str, str]:
        return {**DEFAULT_FONTS, **self.settings.pdf_fonts}

    def options(self) -> PrintOptions:
        """Paper, review copy, the uncontrolled-copy line, the audience, document numbers."""
        return PrintOptions(paper=self.settings.pdf_paper, draft=self.settings.pdf_draft,
                            copy_number=self.settings.pdf_copy_number,
                            uncontrolled=self.settings.pdf_uncontrolled,
                            audience_label=CONFIDENTIALITY_LABELS[self.audience],
                            references=self.references)

    def render(self, site_dir: str, site_url: str | None, organisation: str) -> RunReport | None:
        """Render (or reuse) every PDF of this build into ``site_dir``; fail with errors naming
        the pages."""
        if not self.enabled or not self.targets:
            return None
        fonts, problems = check_fonts(self.fonts())
        if problems:
            raise_collected(ContentError(t.repo_path, None, f"PDF font (extra.kb.{name})",
                                         expected, found)
                            for t in self.targets for name, expected, found in problems)
        sans = next((f for f in fonts if f.family == self.fonts()["sans"]), fonts[0])
        options = replace(self.options(), watermark_font=(sans.path, sans.index))
        assembler = Assembler(site_dir, site_url, organisation, stylesheet(self.fonts()), options)
        documents, errors = [], []
        for target in self.targets:
            document, problems_ = assembler.document(target)
            errors += problems_
            if document is not None:
                documents.append(document)
        raise_collected(errors)
        cache_dir = os.path.join(self.project_dir, self.settings.pdf_cache_dir)
        report, errors = render_all(documents, site_dir=site_dir, cache_dir=cache_dir,
                                    version=inputs_version(fonts),
                                    workers=self.settings.pdf_workers,
                                    scope=None if self.settings.pdf_only else self.audience,
                                    families=tuple(self.fonts().values()),
                                    timezone=self.settings.timezone)
        raise_collected(errors)
        log.info("PDF: %d rendered in %.1f s, %d unchanged from the cache, %d unused removed "
                 "from it", len(report.rendered), report.seconds, len(report.reused),
                 report.pruned)
        self.report = report
        return report

