"""``kb new TYPE --title ...``: create a policy, manual, chapter, course or announcement.

The new file has valid front matter (next free identifier, today's date, author from
``git config user.name``, status draft where the type has one) and a starter body; its path is
printed. Drafts show in a build with ``KB_PREVIEW=1``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kb.content.scaffold import TYPES, ScaffoldError, create, plan


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "new", help="create a new document with valid front matter",
        description="Create a new policy, manual, chapter, course or announcement and print its "
                    "path. Example: kb new policy --title 网络安全管理制度")
    parser.add_argument("type", choices=TYPES, help="what to create")
    parser.add_argument("--title", required=True, help="title (Chinese is fine)")
    parser.add_argument("--slug", help="file/folder name; default: the title in pinyin")
    parser.add_argument("--manual", help="chapter only: the manual's folder name under manuals/")
    parser.add_argument("--category", help="announcement only: one of extra.kb."
                                           "announcement_categories (default 其他)")
    parser.add_argument("--author", help="default: git config user.name")
    parser.add_argument("--id", dest="ident", help="identifier (doc_id / course_code); "
                                                   "default: the next free one")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's mkdocs.yml")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the path and the text, write nothing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kb.buildrun import find_config, load
    from kb.config import kb_settings

    found = find_config(args.config_file, "new")
    if found is None:
        return 2
    config_file = found.resolve()
    config = load(config_file)
    project_dir = config_file.parent
    docs_dir = Path(config.docs_dir).resolve().relative_to(project_dir).as_posix()
    try:
        new = plan(args.type, args.title, project_dir=project_dir, settings=kb_settings(config),
                   slug=args.slug, manual=args.manual, category=args.category,
                   author=args.author, ident=args.ident, docs_dir=docs_dir)
        if args.dry_run:
            print(new.repo_path)
            print(new.text)
            return 0
        create(new)
    except (ScaffoldError, FileExistsError) as exc:
        print(f"kb new: {exc}", file=sys.stderr)
        return 1
    print(new.repo_path)
    return 0
