"""``kb pdf [PATH ...] [-f mkdocs.yml] [-o DIR]``: PDFs of chapters, manuals, policies, courses.

Builds the site into a temporary folder with PDFs switched on (``extra.kb.pdf``) and, when PATHs
are given, limited to them (``extra.kb.pdf_only``), then copies the PDFs into ``DIR`` (default
``pdf/``). A PATH is a source file (``manuals/oa/03-meeting-rooms.md`` → that chapter,
``manuals/oa/index.md`` or ``manuals/oa`` → the whole manual and its chapters,
``policies/network.md``, ``docs/training/backup-practice.md``) or a folder (every PDF below it).
PDFs whose inputs did not change come from the cache (``extra.kb.pdf_cache_dir``).
Exit code 0 on success, 1 when the build or a PDF failed, 2 when a PATH has no PDF.
"""

from __future__ import annotations

import argparse
import logging
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from kb.print import buttons as kb_print

    _logging()
    out = Path(args.output)
    with tempfile.TemporaryDirectory(prefix="kb-pdf-") as site_dir:
        try:
            config = load_config(args.config_file, site_dir=site_dir)
            extra_kb = config["extra"].setdefault("kb", {})
            extra_kb["pdf"] = True
            extra_kb["pdf_only"] = [p.rstrip("/") for p in args.paths]
            build(config)
        except MkDocsException as exc:
            print(f"kb pdf: {exc}", file=sys.stderr)
            return 1
        state = kb_print.last_build()
        if state is None:
            print("kb pdf: hooks/print.py is not listed under hooks: in mkdocs.yml",
                  file=sys.stderr)
            return 1
        missing = [p for p in args.paths if not any(t.selected_by([p]) for t in state.targets)]
        if missing:
            for path in missing:
                print(f"kb pdf: {path}: expected a policy, a manual (folder or index.md), a "
                      "chapter or a course of this build, found no PDF for it", file=sys.stderr)
            return 2
        out.mkdir(parents=True, exist_ok=True)
        report = state.report
        for target in state.targets:
            name = target.output.rsplit("/", 1)[-1]
            shutil.copyfile(Path(site_dir, target.output), out / name)
            how = "rendered" if report and target.output in report.rendered else "cached"
            print(f"{out / name}  ({how})  {target.repo_path}")
    return 0


def _logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    mkdocs_log = logging.getLogger("mkdocs")
    mkdocs_log.addHandler(handler)
    mkdocs_log.setLevel(logging.WARNING)
    logging.getLogger("mkdocs.plugins.kb.pdf").setLevel(logging.INFO)
