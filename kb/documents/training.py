"""Training: the 培训目录 (catalog of courses) and the 课程信息 block on each course page.

Courses are the pages of ``docs/training/`` (type ``course`` in :mod:`kb.content.catalog`, front matter
:class:`kb.content.model.CourseMeta`). The catalog replaces the marker ``<!-- kb:training-catalog -->``
of the training index page with a table: 课程编号, 课程名称 (link), 学时, 培训对象, 讲师 and the
handout PDF when PDFs are built. Only courses of this build are listed (none above the audience).
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup
from mkdocs.utils import get_relative_url

from kb.content.catalog import Catalog, Entry
from kb.content.model import FIELD_LABELS, CourseMeta

MARKER = "<!-- kb:training-catalog -->"


def courses(catalog: Catalog) -> list[Entry]:
    """The courses of this build, by course code."""
    found = [e for e in catalog.of_type("course") if isinstance(e.meta, CourseMeta)]
    return sorted(found, key=lambda e: (e.meta.course_code, e.repo_path))  # type: ignore[attr-defined]


def catalog_html(entries: list[Entry], page_url: str, pdf_links: Mapping[str, str]) -> Markup:
    """The 培训目录 table as seen from the page at ``page_url``.

    ``pdf_links`` maps a course's repository path to its handout PDF (site-relative path).
    """
    if not entries:
        return Markup('<p class="kb-training-empty">暂无培训课程。</p>')
    labels = [FIELD_LABELS["course_code"], "课程名称", FIELD_LABELS["duration"],
              FIELD_LABELS["audience"], FIELD_LABELS["trainer"]]
    if pdf_links:
        labels.append("讲义")
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(label) for label in labels)
    rows = []
    for entry in entries:
        meta = entry.meta
        assert isinstance(meta, CourseMeta)
        cells = [
            meta.course_code,
            Markup('<a href="{}">{}</a>').format(get_relative_url(entry.url, page_url), meta.title),
            meta.duration, meta.audience, meta.trainer,
        ]
        if pdf_links:
            pdf = pdf_links.get(entry.repo_path)
            cells.append(Markup('<a href="{}" download>PDF</a>').format(
                get_relative_url(pdf, page_url)) if pdf else "—")
        rows.append(Markup("<tr>{}</tr>").format(
            Markup("").join(Markup("<td>{}</td>").format(c) for c in cells)))
    return Markup('<div class="kb-training-catalog" data-kb-count="{}"><table><thead><tr>{}</tr>'
                  "</thead><tbody>{}</tbody></table></div>").format(
        len(entries), head, Markup("").join(rows))


def replace_marker(html: str, catalog: Catalog, page_url: str,
                   pdf_links: Mapping[str, str]) -> str:
    """``html`` with the training-catalog marker replaced (unchanged without a marker)."""
    if MARKER not in html:
        return html
    return html.replace(MARKER, catalog_html(courses(catalog), page_url, pdf_links))


def course_block(entry: Entry) -> Markup | None:
    """The 课程信息 block shown above a course page (not in its PDF: the cover has it)."""
    meta = entry.meta
    if not isinstance(meta, CourseMeta):
        return None

    def row(key: str, value: Markup | str) -> Markup:
        return Markup('<div class="kb-course__item" data-kb-field="{}"><dt>{}</dt><dd>{}</dd></div>'
                      ).format(key, FIELD_LABELS[key], value)

    def items(values: list[str]) -> Markup:
        return Markup("<ul>{}</ul>").format(
            Markup("").join(Markup("<li>{}</li>").format(v) for v in values))

    rows = [row("course_code", meta.course_code), row("duration", meta.duration),
            row("audience", meta.audience), row("trainer", meta.trainer),
            row("objectives", items(meta.objectives))]
    if meta.prerequisites:
        rows.append(row("prerequisites", items(meta.prerequisites)))
    return Markup('<section class="kb-course" aria-label="课程信息" data-kb-pdf="omit">'
                  '<dl class="kb-course__grid">{}</dl></section>').format(Markup("").join(rows))
