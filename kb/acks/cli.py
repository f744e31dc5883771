"""``kb report --acks [--doc DOC_ID] [--roster staff.csv] [--json|--csv] [--db URL|FILE]``.

Per required policy (``acknowledge: required``, effective, from the sources of ``-f
mkdocs.yml``) and its current version: how many confirmed and, with a roster, who has not, by
department, then each owner's overdue list (:mod:`kb.acks.report`). The confirmations come from
the same store ``kb serve`` writes: ``--db``, else ``KB_DB_URL``, else ``site-acks.db`` (the
default of ``kb serve site``). Informs: exit 0; 2 when the roster, the store or the document
cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("阅知确认 (kb report --acks)")
    group.add_argument("--acks", action="store_true",
                       help="instead: who has confirmed the policies with acknowledge: required")
    group.add_argument("--doc", metavar="DOC_ID", help="--acks: only this document")
    group.add_argument("--roster", metavar="CSV",
                       help="--acks: staff roster (id,name,department,groups) — who should confirm")
    group.add_argument("--db", metavar="URL",
                       help="--acks: the store (default: KB_DB_URL, else site-acks.db)")
    form = group.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="--acks: JSON")
    form.add_argument("--csv", action="store_true", help="--acks: CSV, one row per person")


def report_acks(args: argparse.Namespace) -> int:
    from kb.acks import report as rep
    from kb.acks.declare import requirements
    from kb.acks.records import AckStore
    from kb.content.catalog import load
    from kb.clock import today
    from kb.store.db import StoreError, describe, open_engine, resolve_target

    try:
        roster = rep.read_roster(args.roster) if args.roster else None
    except rep.RosterError as exc:
        print(f"kb report: --roster {exc}", file=sys.stderr)
        return 2
    target = resolve_target("site-acks.db", args.db)
    if "://" not in target:
        from pathlib import Path

        if not Path(target).is_file():
            print(f"kb report: no acknowledgement store {target} (kb serve makes it; give --db "
                  "or KB_DB_URL)", file=sys.stderr)
            return 2
    try:
        store = AckStore(open_engine(target))
    except StoreError as exc:
        print(f"kb report: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - unreachable server, bad credentials
        print(f"kb report: {describe(target)}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    try:
        catalog, settings = load(args.config_file)
        reqs = requirements(catalog, settings)
        if args.doc:
            reqs = [r for r in reqs if r.doc_id == args.doc]
            if not reqs:
                print(f"kb report: --doc {args.doc}: no effective policy with acknowledge: "
                      "required has this doc_id", file=sys.stderr)
                return 2
        day = today()
        reports = rep.build(reqs, store, roster, day, settings.timezone)
    finally:
        store.close()
    if args.json:
        print(json.dumps(rep.as_json(reports, day, settings.timezone), ensure_ascii=False,
                         indent=1))
    elif args.csv:
        sys.stdout.write(rep.as_csv(reports, settings.timezone))
    else:
        sys.stdout.write(rep.text(reports, day))
    return 0
