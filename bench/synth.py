"""Generate a realistic synthetic knowledge base of N pages for benchmarks.

The mix follows a department knowledge base after some years: controlled policies with full
metadata, manuals with chapters, training courses, announcements spread over several years,
and plain reference pages drawn from ``../shared/corpora/tldr-zh`` (CC BY 4.0). The project uses
this repository's ``mkdocs.yml``, hooks and theme files and is committed to a fresh git
repository (the history hook reads git), so it builds with our configuration;
:func:`write_plain_project` lays the same pages out for plain Material (no hooks).

    python bench/synth.py 2000 /tmp/kb-2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TLDR = ROOT.parent / "shared" / "corpora" / "tldr-zh" / "pages.zh"

SUBJECTS = ["终端设备", "服务器", "网络交换机", "数据库", "业务系统", "办公软件", "移动存储介质",
            "机房环境", "备份数据", "用户账号", "访问权限", "信息发布", "电子文档", "视频会议系统",
            "打印复印设备", "无线网络", "邮件系统", "防病毒软件", "操作系统补丁", "堡垒机"]
ACTIONS = ["应当登记建档并定期核对", "由信息中心统一采购、配置和回收", "实行分级授权、专人负责",
           "每季度开展一次检查并形成记录", "变更前须提交申请并经审核批准", "发现异常须在两小时内报告",
           "按密级分类存放，严禁私自复制外传", "须保留不少于六个月的操作日志",
           "停用时应彻底清除存储数据", "应与供应商签订保密协议", "纳入年度考核范围",
           "每年至少组织一次应急演练"]
ROLES = ["各部门", "信息中心", "系统管理员", "使用人", "安全管理员", "部门负责人", "综合办公室"]
OWNERS = ["信息中心", "综合办公室", "安全保卫处", "人力资源部", "财务部"]
PEOPLE = ["张伟", "李娜", "王建国", "刘洋", "陈静", "赵磊", "孙丽", "周强", "吴敏", "郑浩"]
CATEGORIES = ["系统维护", "安全通告", "培训通知", "制度发布", "其他"]
CHAPTER_TOPICS = ["概述", "登录与首页", "基本操作", "查询与统计", "审批流程", "权限设置",
                  "数据导出", "移动端使用", "常见问题", "故障排查"]


@dataclass(frozen=True)
class Mix:
    """How many pages of each kind a synthetic site of ``total`` pages has."""

    policies: int
    manuals: int  # each with ``chapters`` chapters
    chapters: int
    courses: int
    notices: int
    plain: int

    @classmethod
    def for_total(cls, total: int) -> Mix:
        policies = max(3, total * 15 // 100)
        chapters = 9
        manuals = max(1, total * 15 // 100 // (chapters + 1))
        courses = max(1, total * 5 // 100)
        notices = max(3, total * 30 // 100)
        plain = max(0, total - policies - manuals * (chapters + 1) - courses - notices)
        return cls(policies, manuals, chapters, courses, notices, plain)


def _paragraph(rng: random.Random, sentences: int = 3) -> str:
    return "".join(f"{rng.choice(ROLES)}对{rng.choice(SUBJECTS)}{rng.choice(ACTIONS)}。"
                   for _ in range(sentences))


def _date(rng: random.Random, start_year: int = 2019) -> dt.date:
    start = dt.date(start_year, 1, 1)
    return start + dt.timedelta(days=rng.randrange((dt.date(2026, 11, 1) - start).days))


def policy(i: int, rng: random.Random) -> str:
    effective = _date(rng, 2021)
    subject = rng.choice(SUBJECTS)
    title = f"{subject}管理规定（第{i}号）"
    major = rng.randint(1, 3)
    history = "\n".join(
        f'  - version: "{v}.0"\n    date: {effective - dt.timedelta(days=365 * (major - v))}\n'
        f"    summary: 第{v}次修订\n    approver: {PEOPLE[2]}" for v in range(major, 0, -1))
    clauses = "\n\n".join(f"第{n}条 {_paragraph(rng, 2)}" for n in range(1, rng.randint(6, 14)))
    rows = "\n".join(f"| {rng.choice(SUBJECTS)} | {rng.choice(ROLES)} | {rng.choice(ACTIONS)} |"
                     for _ in range(rng.randint(3, 8)))
    return f"""---
doc_id: XXZX-ZD-{i:03d}
title: {title}
version: "{major}.0"
status: effective
owner: {rng.choice(OWNERS)}
author: {rng.choice(PEOPLE)}
reviewer: {rng.choice(PEOPLE)}
approver: {PEOPLE[2]}
effective_date: {effective}
review_months: {rng.choice([12, 24, 36])}
confidentiality: {rng.choice(["public", "internal", "internal", "internal"])}
tags: [{subject}, 制度]
history:
{history}
---
# {title}

## 第一章 总则

{_paragraph(rng, 4)}

## 第二章 管理要求

{clauses}

| 对象 | 责任方 | 要求 |
| --- | --- | --- |
{rows}

!!! warning "注意"
    {_paragraph(rng, 1)}

## 第三章 附则

本规定自发布之日起施行，由{rng.choice(OWNERS)}负责解释。
"""


def manual_index(m: int, rng: random.Random) -> str:
    effective = _date(rng, 2022)
    return f"""---
doc_id: XXZX-SC-{m:03d}
title: 业务系统{m}用户手册
version: "1.0"
status: effective
owner: 信息中心
author: {rng.choice(PEOPLE)}
reviewer: {rng.choice(PEOPLE)}
approver: {PEOPLE[2]}
effective_date: {effective}
review_months: 24
history:
  - version: "1.0"
    date: {effective}
    summary: 首次发布
    approver: {PEOPLE[2]}
---
# 业务系统{m}用户手册

{_paragraph(rng, 3)}
"""


def chapter(m: int, c: int, rng: random.Random) -> str:
    topic = CHAPTER_TOPICS[(c - 1) % len(CHAPTER_TOPICS)]
    steps = "\n".join(f"{n}. {_paragraph(rng, 1)}" for n in range(1, rng.randint(4, 8)))
    return f"""---
chapter: {c}
title: {topic}
---
# {topic}

{_paragraph(rng, 3)}

## 操作步骤

{steps}

```powershell
Test-NetConnection -ComputerName app{m}.infocenter.example -Port 443
```

## 注意事项

{_paragraph(rng, 2)}
"""


def course(i: int, rng: random.Random) -> str:
    subject = rng.choice(SUBJECTS)
    return f"""---
course_code: PX-{2020 + i % 7}-{i:03d}
title: {subject}实务培训（{i}）
duration: {rng.randint(1, 4)} 学时
audience: 全体员工
objectives:
  - 了解{subject}的管理要求
  - 掌握常见问题的处理方法
trainer: {rng.choice(PEOPLE)}
---
# {subject}实务培训（{i}）

{_paragraph(rng, 5)}
"""


def notice(i: int, rng: random.Random) -> tuple[str, str]:
    day = _date(rng, 2019)
    category = rng.choice(CATEGORIES)
    expires = day + dt.timedelta(days=rng.choice([7, 30, 90, 365]))
    title = f"关于{rng.choice(SUBJECTS)}{rng.choice(['维护', '升级', '检查', '培训', '调整'])}的通知"
    text = f"""---
title: {title}
date: {day}
category: {category}
expires: {expires}
summary: {_paragraph(rng, 1)}
---
# {title}

{_paragraph(rng, 4)}

{_paragraph(rng, 3)}
"""
    return f"{day.year}/{day}-n{i:05d}.md", text


def tldr_pages(count: int) -> list[tuple[str, str]]:
    """``count`` plain pages from the tldr corpus (cycled with a suffix when more are needed)."""
    sources = sorted(p for p in TLDR.rglob("*.md") if re.fullmatch(r"[\w.+-]+", p.stem))
    pages = []
    for i in range(count):
        src = sources[i % len(sources)]
        rel = src.relative_to(TLDR).with_suffix("").as_posix()
        suffix = "" if i < len(sources) else f"-{i // len(sources)}"
        pages.append((f"{rel}{suffix}.md", src.read_text(encoding="utf-8")))
    return pages


def content(total: int, seed: int = 7) -> dict[str, str]:
    """Repository-relative path → Markdown text of a synthetic knowledge base."""
    rng = random.Random(seed)
    mix = Mix.for_total(total)
    files: dict[str, str] = {}
    for i in range(1, mix.policies + 1):
        files[f"policies/p{i:04d}.md"] = policy(i, rng)
    for m in range(1, mix.manuals + 1):
        files[f"manuals/m{m:03d}/index.md"] = manual_index(m, rng)
        for c in range(1, mix.chapters + 1):
            files[f"manuals/m{m:03d}/{c:02d}-chapter.md"] = chapter(m, c, rng)
    for i in range(1, mix.courses + 1):
        files[f"docs/training/c{i:04d}.md"] = course(i, rng)
    for i in range(1, mix.notices + 1):
        rel, text = notice(i, rng)
        files[f"docs/announcements/{rel}"] = text
    for rel, text in tldr_pages(mix.plain):
        files[f"docs/reference/{rel}"] = text
    return files


INDEX_PAGES = {
    "docs/index.md": "# 信息中心知识库\n\n<!-- kb:current-announcements -->\n\n<!-- kb:recently-updated -->\n",
    "docs/about.md": "# 关于\n\n## 补充说明\n\n合成基准站点。\n",
    "policies/index.md": "# 制度\n\n<!-- kb:policy-register -->\n",
    "manuals/index.md": "# 用户手册\n\n<!-- kb:manual-register -->\n",
    "docs/training/index.md": "# 培训\n\n<!-- kb:training-catalog -->\n",
    "docs/announcements/index.md": "# 通知公告\n\n<!-- kb:announcement-archive -->\n",
    "docs/reference/index.md": "# 参考资料\n\n命令行参考（来自 tldr-pages，CC BY 4.0）。\n",
}

NAV = """nav:
  - 首页: index.md
  - 制度: policies/index.md
  - 用户手册: manuals/index.md
  - 培训: training/index.md
  - 通知公告: announcements/index.md
  - 参考资料: reference/index.md
  - 关于: about.md
"""


def _write(project: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def refresh_code(project: Path, root: Path = ROOT) -> None:
    """Copy this checkout's (or the tree ``root``'s) mkdocs.yml (with the synthetic navigation),
    hooks and theme files into ``project``, replacing earlier copies (a reused project runs the
    current code)."""
    for sub in ("hooks", "docs/overrides", "docs/assets"):
        if (project / sub).exists():
            shutil.rmtree(project / sub)
    shutil.copytree(root / "hooks", project / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    for sub in ("overrides", "assets"):
        if (root / "docs" / sub).is_dir():
            shutil.copytree(root / "docs" / sub, project / "docs" / sub)
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"\nnav:\n(?:[ \t]+.*\n)+", "\n" + NAV, config)
    (project / "mkdocs.yml").write_text(config, encoding="utf-8")


def write_project(total: int, project: Path) -> Path:
    """Our configuration (this repository's mkdocs.yml, hooks, theme files) + synthetic pages."""
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    refresh_code(project)
    _write(project, INDEX_PAGES)
    _write(project, content(total))
    commit_all(project)
    return project


def commit_all(project: Path, message: str = "synthetic knowledge base") -> None:
    """Make ``project`` a git repository with one commit (the history hook reads git)."""
    env = {"GIT_AUTHOR_NAME": "张伟", "GIT_AUTHOR_EMAIL": "zhangwei@infocenter.example",
           "GIT_COMMITTER_NAME": "张伟", "GIT_COMMITTER_EMAIL": "zhangwei@infocenter.example",
           "GIT_AUTHOR_DATE": "2026-11-01T09:00:00+08:00",
           "GIT_COMMITTER_DATE": "2026-11-01T09:00:00+08:00", "PATH": os.environ["PATH"],
           "HOME": os.environ.get("HOME", "/tmp")}
    if not (project / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True, env=env)
    (project / ".gitignore").write_text(".cache/\nsite/\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=project, check=True, env=env)


def write_plain_project(total: int, project: Path) -> Path:
    """The same pages for plain Material: everything under docs/, no hooks, default navigation."""
    if project.exists():
        shutil.rmtree(project)
    files = {**INDEX_PAGES, **content(total)}
    plain = {}
    for rel, text in files.items():
        plain[rel if rel.startswith("docs/") else f"docs/{rel}"] = text
    _write(project, plain)
    (project / "mkdocs.yml").write_text(
        "site_name: 信息中心知识库（plain Material）\n"
        "theme:\n  name: material\n  language: zh\n  font: false\n"
        "plugins:\n  - search\n"
        "markdown_extensions:\n  - admonition\n  - tables\n  - toc:\n      permalink: true\n",
        encoding="utf-8")
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=int)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--plain", action="store_true", help="lay out for plain Material")
    args = parser.parse_args()
    writer = write_plain_project if args.plain else write_project
    project = writer(args.pages, args.dest)
    count = sum(1 for _ in project.rglob("*.md")) - (0 if args.plain else 0)
    print(f"{project}: {count} Markdown files ({Mix.for_total(args.pages)})")


if __name__ == "__main__":
    main()
