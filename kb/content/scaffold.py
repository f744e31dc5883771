"""Create new content files with valid front matter (``kb new``).

:func:`plan` decides everything about a new file without touching the disk (path, next free
identifier, chapter number, front matter, starter body); :func:`create` writes it. The front matter
is validated with :mod:`kb.content.model` before anything is written, so a scaffolded file always passes
the same validation as the build. Identifiers continue the series found in the project's files
(the highest number in use plus one), following ``extra.kb.doc_id_patterns`` of mkdocs.yml.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kb import clock
from kb.config import KBSettings
from kb.content.model import MODELS, parse_front_matter, validate_meta
from kb.content.rules import ID_FIELDS
from search.text import CJK_CHAR

#: content types ``kb new`` creates
TYPES: tuple[str, ...] = ("policy", "manual", "chapter", "course", "announcement")

#: identifier series used when mkdocs.yml sets no pattern for a type and no file has one yet
FALLBACK_ID_FORMATS: dict[str, str] = {
    "policy": "XXZX-ZD-{:03d}", "manual": "XXZX-SC-{:03d}", "course": "XXZX-PX-{:03d}",
}

FIRST_VERSION = "0.1"
TODO = "（待填写）"


class ScaffoldError(ValueError):
    """A ``kb new`` request that cannot be carried out (message says what to change)."""


@dataclass(frozen=True)
class NewFile:
    """A file ``kb new`` is about to write."""

    type: str
    path: Path  # absolute
    repo_path: str  # relative to the project folder
    meta: dict[str, Any]
    text: str


# --------------------------------------------------------------------------- slugs


def slugify(title: str, max_words: int = 8) -> str:
    """ASCII slug of a (Chinese) title: words in pinyin joined by hyphens.

    ``"网络管理制度"`` → ``"wangluo-guanli-zhidu"``; Latin letters and digits are kept.
    """
    import jieba
    from pypinyin import lazy_pinyin

    jieba.setLogLevel(logging.WARNING)
    words: list[str] = []
    for token in jieba.cut(title):
        text = "".join(lazy_pinyin(token)) if CJK_CHAR.search(token) else token
        text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        if text:
            words.append(text)
    slug = "-".join(words[:max_words]).strip("-")
    return re.sub(r"-{2,}", "-", slug)


def check_slug(slug: str) -> str:
    """Validate a slug given with ``--slug``."""
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug):
        raise ScaffoldError(f"--slug: expected lower-case letters, digits and hyphens "
                            f"(e.g. network-access), found {slug!r}")
    return slug


# --------------------------------------------------------------------------- identifiers


def _format_from_pattern(pattern: str) -> str | None:
    """``^XXZX-ZD-\\d{3}$`` → ``"XXZX-ZD-{:03d}"``; None when the pattern is not that simple."""
    match = re.fullmatch(r"\^?((?:[A-Za-z0-9_]|\\-|-)*)\\d(?:\{(\d+)\}|\+)\$?", pattern)
    if not match:
        return None
    prefix = match.group(1).replace("\\-", "-")
    width = int(match.group(2) or 1)
    return prefix + "{:0" + str(width) + "d}"


def existing_ids(folders: list[Path], field: str) -> list[str]:
    """Every value of ``field`` in the front matter of the Markdown files under ``folders``."""
    found: list[str] = []
    paths = sorted((folder, p) for folder in folders if folder.is_dir()
                   for p in folder.rglob("*.md"))
    for folder, path in paths:
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        front, _ = parse_front_matter(text, path.as_posix())
        value = front.data.get(field) if front is not None else None
        if isinstance(value, str):
            found.append(value)
    return found


def next_id(kind: str, settings: KBSettings, folders: list[Path]) -> str:
    """The next free identifier of a policy, manual or course, over the files in ``folders``."""
    field = ID_FIELDS[kind]
    pattern = settings.doc_id_patterns.get(kind)
    fmt = (_format_from_pattern(pattern) if pattern else None) or FALLBACK_ID_FORMATS[kind]
    prefix = fmt.split("{", 1)[0]
    taken = set(existing_ids(folders, field))
    numbers = [int(m.group(1)) for value in taken
               if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", value))]
    candidate = fmt.format(max(numbers, default=0) + 1)
    if pattern and not re.search(pattern, candidate):
        raise ScaffoldError(f"mkdocs.yml: extra.kb.doc_id_patterns.{kind}: cannot derive the next "
                            f"{field} from {pattern!r}; give it with --id")
    return candidate


def next_chapter(manual_dir: Path) -> int:
    """One more than the highest chapter number (front matter ``chapter`` or file prefix NN-)."""
    numbers = [0]
    for path in manual_dir.glob("*.md"):
        if path.name == "index.md":
            continue
        front, _ = parse_front_matter(path.read_text(encoding="utf-8-sig"), path.name)
        value = front.data.get("chapter") if front is not None else None
        if isinstance(value, int):
            numbers.append(value)
        elif m := re.match(r"(\d+)-", path.name):
            numbers.append(int(m.group(1)))
    return max(numbers) + 1


# --------------------------------------------------------------------------- author


def git_author(project_dir: Path) -> str:
    """``git config user.name`` of the project, else the login name."""
    try:
        proc = subprocess.run(["git", "config", "user.name"], cwd=project_dir,
                              capture_output=True, text=True, timeout=10)
        name = proc.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or getpass.getuser()


# --------------------------------------------------------------------------- plans


def _bodies(kind: str, title: str) -> str:
    if kind == "policy":
        sections = ["目的", "适用范围", "职责", "管理要求", "监督与检查", "附则"]
        body = "\n\n".join(f"## {i} {name}\n\n{TODO}" for i, name in enumerate(sections, 1))
        return f"# {title}\n\n{body}\n"
    if kind == "manual":
        return (f"# {title}\n\n本手册说明{TODO}。\n\n## 适用对象\n\n{TODO}\n\n"
                f"## 章节\n\n各章节见左侧导航。\n")
    if kind == "chapter":
        return f"# {title}\n\n## 概述\n\n{TODO}\n\n## 操作步骤\n\n1. {TODO}\n"
    if kind == "course":
        return (f"# {title}\n\n## 课程简介\n\n{TODO}\n\n## 课程安排\n\n| 环节 | 内容 | 时长 |\n"
                f"| --- | --- | --- |\n| 1 | {TODO} | {TODO} |\n\n## 课后练习\n\n{TODO}\n")
    return f"# {title}\n\n各位同事：\n\n{TODO}\n\n特此通知。\n\n信息中心\n"


def _meta(kind: str, title: str, *, ident: str | None, author: str, day: _dt.date,
          chapter: int | None, category: str | None) -> dict[str, Any]:
    if kind in ("policy", "manual"):
        return {
            "doc_id": ident, "title": title, "version": FIRST_VERSION, "status": "draft",
            "owner": "信息中心", "author": author,
            "history": [{"version": FIRST_VERSION, "date": day, "summary": "初稿"}],
        }
    if kind == "chapter":
        return {"chapter": chapter, "title": title}
    if kind == "course":
        return {"course_code": ident, "title": title, "duration": "2 学时", "audience": "全体员工",
                "objectives": [f"{TODO}学员能够……"], "trainer": author}
    return {"title": title, "date": day, "category": category}


def render(meta: dict[str, Any], body: str) -> str:
    """Markdown text: YAML front matter (key order kept, Chinese unescaped) then the body."""
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False,
                           width=1000)
    return f"---\n{front}---\n{body}"


def plan(kind: str, title: str, *, project_dir: Path, settings: KBSettings,
         slug: str | None = None, manual: str | None = None, category: str | None = None,
         author: str | None = None, ident: str | None = None,
         docs_dir: str = "docs") -> NewFile:
    """Decide path and content of a new ``kind`` file titled ``title``; write nothing."""
    if kind not in TYPES:
        raise ScaffoldError(f"type: expected one of {', '.join(TYPES)}, found {kind!r}")
    title = title.strip()
    if not title:
        raise ScaffoldError("--title: expected a non-empty title")
    slug = check_slug(slug) if slug else slugify(title)
    if not slug:
        raise ScaffoldError(f"--slug: the title {title!r} gives no usable slug; give one")
    day = clock.today()
    roots = {r.type: r.dir.strip("/") for r in settings.roots}
    chapter_no: int | None = None
    if kind == "policy":
        rel = f"{roots.get('policy', 'policies')}/{slug}.md"
    elif kind == "manual":
        rel = f"{roots.get('manual', 'manuals')}/{slug}/index.md"
    elif kind == "chapter":
        if not manual:
            raise ScaffoldError("--manual: expected the manual's folder name (e.g. --manual vpn) "
                                "for a new chapter")
        manual_dir = project_dir / roots.get("manual", "manuals") / manual
        if not (manual_dir / "index.md").is_file():
            raise ScaffoldError(f"--manual: expected an existing manual "
                                f"({manual_dir.relative_to(project_dir).as_posix()}/index.md), "
                                f"found none; create it with: kb new manual --title ...")
        chapter_no = next_chapter(manual_dir)
        rel = f"{manual_dir.relative_to(project_dir).as_posix()}/{chapter_no:02d}-{slug}.md"
    elif kind == "course":
        rel = f"{docs_dir}/training/{slug}.md"
    else:
        rel = f"{docs_dir}/announcements/{day.year}/{day.isoformat()}-{slug}.md"
    categories = settings.announcement_categories
    if kind == "announcement":
        category = category or ("其他" if "其他" in categories else categories[0])
        if category not in categories:
            raise ScaffoldError(f"--category: expected one of {', '.join(categories)}, "
                                f"found {category!r}")
    if kind in ID_FIELDS:
        folders = [project_dir / docs_dir, *(project_dir / r.dir.strip("/") for r in settings.roots)]
        ident = ident or next_id(kind, settings, folders)
    meta = _meta(kind, title, ident=ident, author=author or git_author(project_dir), day=day,
                 chapter=chapter_no, category=category)
    text = render(meta, _bodies(kind, title))
    front, errors = parse_front_matter(text, rel)
    if front is not None and not errors:
        _, errors = validate_meta(MODELS[kind], front, rel)
    if errors:  # a bug in this module, not the writer's fault: say exactly what
        raise ScaffoldError("generated front matter does not validate: "
                            + "; ".join(str(e) for e in errors))
    path = project_dir / rel
    if path.exists():
        raise ScaffoldError(f"{rel}: expected a new file, found an existing one; "
                            "choose another --slug")
    return NewFile(kind, path, rel, meta, text)


def create(new: NewFile) -> Path:
    """Write the planned file (its folder is created); never overwrites."""
    new.path.parent.mkdir(parents=True, exist_ok=True)
    with open(new.path, "x", encoding="utf-8") as handle:
        handle.write(new.text)
    return new.path
