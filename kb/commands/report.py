"""``kb report [-f mkdocs.yml]``: what writers should look after. Informs; exits 0.

Sections, in order (:data:`SECTIONS`; a new report adds its option in :func:`add_parser` and a
function to the tuple):

- 复审到期: effective policies and manuals whose review is overdue or due within
  ``extra.kb.review_warning_days``, grouped by owner (归口部门); "today" is :func:`kb.clock.today`.
- 未填写归口部门: controlled documents without ``owner``.

``kb report --acks [--doc DOC_ID] [--roster staff.csv] [--json|--csv]`` prints instead who has
confirmed the policies that ask for it and who has not (:mod:`kb.acks.cli`).

``kb report --searches [--log FILE]`` prints instead the frequent queries of the ``kb serve``
search log that found nothing or little (:mod:`search.searchlog`).

``kb report --feedback [--feedback-db FILE]`` prints instead the "本页有帮助吗？" votes and comments
collected by ``kb serve``, per owner, pages with the most 没帮助 first (:mod:`kb.feedback.store`).

Every document in the repository counts, drafts included (the report does not depend on
``KB_PREVIEW``). Documents with metadata errors cannot be judged; their number is printed with a
pointer to ``kb check``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

from kb.content.catalog import Catalog, Entry
from kb.config import KBSettings


@dataclass(frozen=True)
class ReportContext:
    """What every section gets: parsed arguments, the catalog, settings and today."""

    args: argparse.Namespace
    catalog: Catalog
    settings: KBSettings
    today: _dt.date


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "report", help="review due/overdue by owner, documents without owner (exit 0)",
        description="Print controlled documents whose review is due or overdue, grouped by "
                    "owner, and documents missing an owner. Informs only: exit code 0.")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's mkdocs.yml")
    parser.add_argument("--searches", action="store_true",
                        help="instead: the frequent searches that found nothing or little "
                             "(from the kb serve search log)")
    parser.add_argument("--log", default="site-searches.jsonl",
                        help="--searches: the search log (default: site-searches.jsonl)")
    parser.add_argument("--few", type=int, default=2,
                        help="--searches: at most this many results counts as little (2)")
    parser.add_argument("--limit", type=int, default=30, help="--searches: rows to print (30)")
    parser.add_argument("--feedback", action="store_true",
                        help="instead: readers' feedback (本页有帮助吗？) per owner, from kb serve")
    parser.add_argument("--feedback-db", default="site-feedback.sqlite3",
                        help="--feedback: the feedback database (default: site-feedback.sqlite3)")

    from kb.acks.cli import add_report_arguments

    add_report_arguments(parser)
    parser.set_defaults(func=run)


def _doc_line(entry: Entry) -> str:
    meta = entry.controlled
    assert meta is not None
    return f"{meta.doc_id}  {meta.title}  v{meta.version}  {entry.repo_path}"


def review_section(ctx: ReportContext) -> list[str]:
    """Overdue and due-soon reviews, grouped by owner."""
    from kb.documents.control import ReviewState

    warn = ctx.settings.review_warning_days
    groups: dict[str, list[tuple[ReviewState, Entry]]] = {}
    for entry in ctx.catalog.of_type("policy", "manual"):
        review = ReviewState.of(entry, ctx.today, warn)
        if review is None or review.state == "ok":
            continue
        owner = (entry.controlled.owner if entry.controlled else None) or "（未填写归口部门）"
        groups.setdefault(owner, []).append((review, entry))
    lines = [f"复审到期（今天 {ctx.today.isoformat()}，提前 {warn} 天预警）："]
    if not groups:
        return lines + ["  无"]
    for owner in sorted(groups):
        rows = sorted(groups[owner], key=lambda r: (r[0].state != "overdue", r[0].due))
        lines.append(f"  {owner}（{len(rows)}）")
        for review, entry in rows:
            when = (f"已超期 {-review.days_left} 天" if review.state == "overdue"
                    else f"还有 {review.days_left} 天")
            label = "已超期未复审" if review.state == "overdue" else "复审即将到期"
            lines.append(f"    {label}  下次复审 {review.due.isoformat()}（{when}）  "
                         f"{_doc_line(entry)}")
    return lines


def owner_section(ctx: ReportContext) -> list[str]:
    """Controlled documents without an owner."""
    missing = [e for e in ctx.catalog.of_type("policy", "manual")
               if e.controlled is not None and not e.controlled.owner]
    lines = [f"未填写归口部门（owner）的文件（{len(missing)}）："]
    return lines + ([f"  {_doc_line(e)}" for e in missing] or ["  无"])


def errors_section(ctx: ReportContext) -> list[str]:
    """A pointer to ``kb check`` when some documents could not be read."""
    count = len({e.file for e in ctx.catalog.errors})
    if not count:
        return []
    return [f"另有 {count} 个文件的元数据有误，未计入本报告；运行 kb check 查看详情。"]


#: the report's sections, in print order
SECTIONS: tuple[Callable[[ReportContext], list[str]], ...] = (
    review_section, owner_section, errors_section)


def run(args: argparse.Namespace) -> int:
    from kb.content.catalog import load
    from kb.clock import today

    if getattr(args, "acks", False):
        from kb.acks.cli import report_acks

        return report_acks(args)
    if getattr(args, "searches", False):
        from pathlib import Path

        from search.searchlog import report_searches

        text, code = report_searches(Path(args.log), few=args.few, limit=args.limit)
        print(text, end="")
        return code

    if getattr(args, "feedback", False):
        from pathlib import Path

        from kb.feedback.store import report as feedback_report

        print("\n".join(feedback_report(Path(args.feedback_db))))
        return 0

    catalog, settings = load(args.config_file)
    ctx = ReportContext(args, catalog, settings, today())
    blocks = [lines for section in SECTIONS if (lines := section(ctx))]
    print("\n\n".join("\n".join(lines) for lines in blocks))
    return 0
