"""Notices at scale: our hooks vs Material's blog plugin on the same N synthetic notices.

Builds two throw-away projects in fresh processes and prints, for each: build seconds, ms per
notice, pages written, and the size of one notice page (navigation weight grows with the number
of notices when they are in the navigation).

    .venv/bin/python bench/notices.py            # N = 1000
    .venv/bin/python bench/notices.py --n 3000 --no-blog
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ["系统维护", "安全通告", "培训通知", "制度发布", "其他"]
TODAY = "2026-11-27"


def notices(n: int) -> list[tuple[dt.date, str, str, str]]:
    """(date, slug, category, title) of ``n`` notices over three years, deterministic."""
    start = dt.date(2024, 1, 1)
    out = []
    for i in range(n):
        day = start + dt.timedelta(days=(i * 1093) // max(n, 1))
        out.append((day, f"notice-{i:05d}", CATEGORIES[i % len(CATEGORIES)], f"第 {i} 号通知：机房维护安排"))
    return out


def body(title: str) -> str:
    return f"# {title}\n\n各部门：定于近期进行例行维护，请提前做好准备。\n\n维护期间相关服务暂停。\n"


def ours(dest: Path, items: list) -> Path:
    dest.mkdir(parents=True)
    for name in ("mkdocs.yml", "hooks", "docs"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest / name)
    for child in (dest / "docs").iterdir():
        if child.name not in ("overrides", "assets"):
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (dest / "docs/index.md").write_text("# 首页\n\n<!-- kb:current-announcements -->\n", encoding="utf-8")
    ann = dest / "docs/announcements"
    ann.mkdir()
    (ann / "index.md").write_text("# 通知公告\n\n<!-- kb:announcement-archive -->\n", encoding="utf-8")
    for day, slug, cat, title in items:
        path = ann / f"{day:%Y}" / f"{day.isoformat()}-{slug}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"---\ntitle: {title}\ndate: {day}\ncategory: {cat}\n"
                        f"expires: {day + dt.timedelta(days=30)}\n---\n" + body(title), encoding="utf-8")
    for root in ("policies", "manuals"):
        (dest / root).mkdir()
    config = (dest / "mkdocs.yml").read_text(encoding="utf-8")
    # only the hooks this feature needs (no git history, no search index)
    config = re.sub(r"\nhooks:\n(?:  .*\n)+", "\nhooks:\n  - hooks/roots.py\n  - hooks/documents.py\n"
                    "  - hooks/notices.py\n", config)
    config = re.sub(r"\nnav:\n(?:  .*\n)+", "\nnav:\n  - 首页: index.md\n  - 通知公告: announcements/index.md\n",
                    config)
    (dest / "mkdocs.yml").write_text(config, encoding="utf-8")
    return dest


def blog(dest: Path, items: list) -> Path:
    docs = dest / "docs"
    posts = docs / "announcements/posts"
    posts.mkdir(parents=True)
    (docs / "index.md").write_text("# 首页\n", encoding="utf-8")
    (docs / "announcements/index.md").write_text("# 通知公告\n", encoding="utf-8")
    for day, slug, cat, title in items:
        (posts / f"{day.isoformat()}-{slug}.md").write_text(
            f"---\ndate: {day}\ncategories: [{cat}]\nslug: {slug}\n---\n" + body(title) +
            "\n<!-- more -->\n", encoding="utf-8")
    (dest / "mkdocs.yml").write_text(
        "site_name: bench\nsite_url: https://kb.infocenter.example/\ntheme:\n  name: material\n"
        "  language: zh\n  font: false\nplugins:\n  - blog:\n      blog_dir: announcements\n"
        "      archive_date_format: yyyy/MM\n      archive_url_date_format: yyyy/MM\n"
        "      post_readtime: false\n      pagination_per_page: 20\n"
        f"      categories_allowed: [{', '.join(CATEGORIES)}]\n"
        "nav:\n  - 首页: index.md\n  - 通知公告: announcements/index.md\n", encoding="utf-8")
    return dest


def build(project: Path) -> tuple[float, int, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update({"KB_TODAY": TODAY, "NO_MKDOCS_2_WARNING": "1", "PYTHONWARNINGS": "ignore"})
    out = project / "site"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(project / "mkdocs.yml"),
                    "-d", str(out)], check=True, env=env, cwd=project, capture_output=True)
    seconds = time.perf_counter() - started
    pages = sum(1 for _ in out.rglob("index.html"))
    sample = next(p for p in out.rglob("index.html") if "notice-00000" in str(p))
    return seconds, pages, sample.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--no-blog", action="store_true")
    args = parser.parse_args()
    items = notices(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("hooks (ours)", ours(Path(tmp, "ours"), items))]
        if not args.no_blog:
            runs.append(("Material blog plugin", blog(Path(tmp, "blog"), items)))
        print(f"N = {args.n} notices")
        for name, project in runs:
            seconds, pages, size = build(project)
            print(f"{name:22s} build {seconds:6.1f} s  {1000 * seconds / args.n:6.1f} ms/notice  "
                  f"{pages:5d} pages  notice page {size / 1024:6.1f} KB")


if __name__ == "__main__":
    main()
