"""``kb pdf [PATH ...] [-f mkdocs.yml] [-o DIR] [--paper A5] [--booklet] [--draft]``: PDFs of
chapters, manuals, policies, courses.

Builds the site into a temporary folder with PDFs switched on (``extra.kb.pdf``) and, when PATHs
are given, limited to them (``extra.kb.pdf_only``), then copies the PDFs into ``DIR`` (default
``pdf/``). A PATH is a source file (``manuals/oa/03-meeting-rooms.md`` → that chapter,
``manuals/oa/index.md`` or ``manuals/oa`` → the whole manual and its chapters,
``policies/network.md``, ``docs/training/backup-practice.md``) or a folder (every PDF below it).
PDFs whose inputs did not change come from the cache (``extra.kb.pdf_cache_dir``).
``--paper A5`` prints on A5 (default A4); ``--booklet`` also writes ``NAME-booklet.pdf``, the A5
pages two per A4 landscape side in saddle-stitch order; ``--draft`` includes drafts and documents
under review (``KB_PREVIEW=1``) and marks every page of the PDFs 征求意见稿 (a review copy);
``--copy-number N`` numbers the copy (第 N 份) on non-public PDFs.
Exit code 0 on success, 1 when the build or a PDF failed, 2 when a PATH has no PDF (known from
the project's catalog before anything is built). The build runs as every in-process build does
(:func:`kb.buildrun.run_build`); this build's PDFs are read from its state (:mod:`kb.buildstate`).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from mkdocs.exceptions import MkDocsException


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "pdf", help="render PDFs of manual chapters, manuals, policies and courses",
        description="Build the site with PDFs on and copy the PDFs of PATH (all when none) "
                    "into the output folder. Unchanged PDFs come from the cache.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="source file or folder (default: every PDF of the site)")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's mkdocs.yml")
    parser.add_argument("-o", "--output", default="pdf", help="folder for the PDFs (pdf/)")
    parser.add_argument("--paper", choices=("A4", "A5"), default=None,
                        help="paper size (default A4; A5 with --booklet)")
    parser.add_argument("--booklet", action="store_true",
                        help="also write NAME-booklet.pdf: 2-up A5 pages on A4 for folding")
    parser.add_argument("--copy-number", type=int, metavar="N", default=None,
                        help="number this copy (第 N 份) on the cover and watermark of "
                             "non-public PDFs")
    parser.add_argument("--draft", action="store_true",
                        help="review copy: drafts and documents under review included, every "
                             "page marked 征求意见稿")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kb import buildstate
    from kb.buildrun import run_build
    from kb.config import PREVIEW_ENV
    from kb.print.booklet import impose

    _logging()
    missing = _unknown_paths(args.config_file, args.paths,  # before building anything
                             {PREVIEW_ENV: "1"} if args.draft else {})
    if missing is None:
        return 1
    if missing:
        return _no_pdf(missing)
    out = Path(args.output)
    with tempfile.TemporaryDirectory(prefix="kb-pdf-") as site_dir:
        built = run_build(args.config_file, site_dir, strict=False,
                          env={PREVIEW_ENV: "1"} if args.draft else None, kb_overrides={
                              "pdf": True, "pdf_only": [p.rstrip("/") for p in args.paths],
                              "pdf_paper": args.paper or ("A5" if args.booklet else "A4"),
                              "pdf_draft": args.draft,
                              **({"pdf_copy_number": args.copy_number}
                                 if args.copy_number is not None else {})})
        for problem in [*built.content_errors, *([built.failure] if built.failure else [])]:
            print(f"kb pdf: {problem}", file=sys.stderr)
        if built.failure or built.content_errors:
            return 1
        assert built.config is not None
        state = buildstate.of(built.config).print
        if state is None:
            print("kb pdf: hooks/print.py is not listed under hooks: in mkdocs.yml",
                  file=sys.stderr)
            return 1
        missing = [p for p in args.paths if not any(t.selected_by([p]) for t in state.targets)]
        if missing:  # a draft, or a page the build left out for its audience
            return _no_pdf(missing)
        out.mkdir(parents=True, exist_ok=True)
        report = state.report
        for target in state.targets:
            name = target.output.rsplit("/", 1)[-1]
            shutil.copyfile(Path(site_dir, target.output), out / name)
            how = "rendered" if report and target.output in report.rendered else "cached"
            print(f"{out / name}  ({how})  {target.repo_path}")
            if args.booklet:
                folded = out / name.replace(".pdf", "-booklet.pdf")
                sides = impose(out / name, folded)
                print(f"{folded}  (booklet, {sides} sides)  {target.repo_path}")
    return 0


def _no_pdf(paths: list[str]) -> int:
    for path in paths:
        print(f"kb pdf: {path}: expected a policy, a manual (folder or index.md), a "
              "chapter or a course of this build, found no PDF for it", file=sys.stderr)
    return 2


def _unknown_paths(config_file: str, paths: list[str],
                   env: dict[str, str]) -> list[str] | None:
    """The PATHs no PDF of the project answers (read from its catalog, before any build, with
    ``env`` set: the preview switch of ``--draft``); None when the project cannot be read (the
    reason is printed)."""
    from kb.content.catalog import load as load_catalog
    from kb.config import audience
    from kb.print.targets import targets_of

    if not paths:
        return []
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        catalog, _ = load_catalog(config_file)
    except (OSError, MkDocsException) as exc:
        print(f"kb pdf: {exc}", file=sys.stderr)
        return None
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    targets = targets_of(catalog, audience())
    return [p for p in paths if not any(t.selected_by([p.rstrip("/")]) for t in targets)]


def _logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    mkdocs_log = logging.getLogger("mkdocs")
    mkdocs_log.addHandler(handler)
    mkdocs_log.setLevel(logging.WARNING)
    logging.getLogger("mkdocs.plugins.kb.pdf").setLevel(logging.INFO)
