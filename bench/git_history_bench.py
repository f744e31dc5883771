"""Benchmark: git data for a 2,000-file, 5,000-commit knowledge base (issue 4 / issue 11).

Creates a synthetic repository with ``git fast-import`` (seconds, not minutes): the demo
project's config, hooks, docs and manuals, plus POLICIES policies and PAGES plain pages; then
COMMITS commits that each change one to three files (policies get a new version with a history
entry every other change; every 40th commit renames a page, every 100th a policy). Then prints:

* the git data pass alone, cold (no cache): one ``git log --raw -M`` + parsing, the blob reads
  that find every version of every policy, and the working-tree status,
* the same with the caches warm (HEAD unchanged),
* a full ``mkdocs build`` of that repository with our config (all hooks), cold and warm, with
  the time the history hook itself reports (``kb history: git data in ... s``), and its share.

Usage: ``.venv/bin/python bench/git_history_bench.py [--files 2000] [--commits 5000]``
Output goes to ``bench/out/git-history/``. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.versions import git as git_history  # noqa: E402
from kb.versions.archive import Member, Source, discover  # noqa: E402

WORDS = ("信息中心 网络 账号 口令 服务器 备份 机房 终端 打印机 邮件 数据 安全 审批 运维 系统 用户 "
         "部门 申请 管理 制度 规定 流程 检查 记录 维护 升级 故障 报修 权限 日志").split()
AUTHORS = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]


def sentence(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) + "。"


def page_text(rng: random.Random, title: str, sections: int = 4) -> str:
    parts = [f"# {title}\n"]
    for s in range(sections):
        parts.append(f"\n## 第{s + 1}节\n\n" + "".join(sentence(rng) for _ in range(rng.randint(3, 8))) + "\n")
    return "".join(parts)


def policy_text(n: int, version: tuple[int, int], body: str) -> str:
    history = "".join(
        f'  - version: "{major}.{minor}"\n    date: 2024-01-01\n    summary: 第{major}.{minor}版\n'
        f"    approver: 王建国\n"
        for major in range(1, version[0] + 1) for minor in range(0, 10)
        if (major, minor) <= version and (major < version[0] or minor <= version[1]))
    return (f'---\ndoc_id: XXZX-ZD-{n:03d}\ntitle: 制度{n:03d}\nversion: "{version[0]}.{version[1]}"\n'
            "status: effective\nowner: 信息中心\nauthor: 张伟\nreviewer: 李娜\napprover: 王建国\n"
            f"effective_date: 2024-01-01\nreview_months: 24\nhistory:\n{history}---\n{body}")


def project_files() -> dict[str, bytes]:
    """The demo project's config, hooks, docs and manuals (not its policies)."""
    out: dict[str, bytes] = {}
    for part in ("mkdocs.yml", "hooks", "docs", "manuals", "policies/index.md", "policies/images"):
        src = ROOT / part
        paths = [src] if src.is_file() else [p for p in src.rglob("*") if p.is_file()]
        for p in paths:
            if "__pycache__" not in p.parts:
                out[p.relative_to(ROOT).as_posix()] = p.read_bytes()
    out[".gitignore"] = b".cache/\n"
    return out


def fast_import_stream(files: int, commits: int, policies: int, seed: int = 4) -> bytes:
    rng = random.Random(seed)
    content: dict[str, str] = {}
    versions: dict[str, tuple[int, int]] = {}
    bodies: dict[str, str] = {}
    for n in range(1, policies + 1):
        path = f"policies/p{n:03d}.md"
        versions[path], bodies[path] = (1, 0), page_text(rng, f"制度{n:03d}")
        content[path] = policy_text(n, (1, 0), bodies[path])
    for n in range(files - policies):
        content[f"docs/pages/{n // 100:02d}/page{n:04d}.md"] = page_text(rng, f"页面{n:04d}")
    out: list[bytes] = []
    ts = 1_600_000_000

    def data(text: bytes) -> None:
        out.append(b"data %d\n" % len(text) + text + b"\n")

    def header(mark: int, author: str) -> None:
        nonlocal ts
        ts += rng.randint(600, 20_000)
        who = f"{author} <{author.encode().hex()[:8]}@example.cn> {ts} +0800".encode()
        out.append(b"commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s\n" % (mark, who, who))
        data(f"commit {mark}".encode())
        if mark > 1:
            out.append(b"from :%d\n" % (mark - 1))

    header(1, "张伟")
    for path, blob in project_files().items():
        out.append(f"M 100644 inline {path}\n".encode())
        data(blob)
    for path, text in content.items():
        out.append(f"M 100644 inline {path}\n".encode())
        data(text.encode())
    paths = sorted(content)
    for mark in range(2, commits + 1):
        header(mark, rng.choice(AUTHORS))
        if mark % 40 == 0 or mark % 100 == 0:
            pool = [p for p in paths if p.startswith("policies/" if mark % 100 == 0 else "docs/")]
            old = rng.choice(pool)
            new = re.sub(r"(\.md)$", f"-r{mark}\\1", old)
            out.append(f"R {old} {new}\n".encode())
            content[new] = content.pop(old)
            if old in versions:
                versions[new], bodies[new] = versions.pop(old), bodies.pop(old)
            paths = sorted(content)
            continue
        for path in rng.sample(paths, rng.randint(1, 3)):
            if path in versions:
                bodies[path] += sentence(rng) + "\n"
                if rng.random() < 0.5:
                    major, minor = versions[path]
                    versions[path] = (major + 1, 0) if minor == 9 else (major, minor + 1)
                n = int(re.search(r"p(\d+)", path).group(1))
                content[path] = policy_text(n, versions[path], bodies[path])
            else:
                content[path] += sentence(rng) + "\n"
            out.append(f"M 100644 inline {path}\n".encode())
            data(content[path].encode())
    return b"".join(out)


def create_repo(repo: Path, files: int, commits: int, policies: int) -> float:
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    stream = fast_import_stream(files, commits, policies)
    started = time.perf_counter()
    subprocess.run(["git", "fast-import", "--quiet"], input=stream, cwd=repo, check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True)
    return time.perf_counter() - started


def git_data(repo: Path, *, cache: bool) -> tuple[float, float, float, int, int]:
    """(log pass s, versions s, status s, files with history, archived versions found)."""
    t0 = time.perf_counter()
    history = git_history.load(repo, use_cache=cache)
    t1 = time.perf_counter()
    sources = []
    for path in sorted((repo / "policies").glob("p*.md")):
        rel = path.relative_to(repo).as_posix()
        text = path.read_text("utf-8")
        version = re.search(r'^version: "([\d.]+)"', text, re.M).group(1)
        sources.append(Source("policies", rel, rel, version, [Member(rel, rel, text)]))
    docs = discover(sources, history, str(repo))
    t2 = time.perf_counter()
    git_history.changed_paths(repo, history)
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, len(history.files), sum(len(d.archived()) for d in docs)


def build(repo: Path, out: Path) -> tuple[float, float | None, int]:
    """Wall time of ``mkdocs build``, the history hook's own figure, and pages built."""
    env = {"KB_TODAY": "2026-11-27", "NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-v", "-d", str(out)],
                          cwd=repo, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        raise SystemExit("mkdocs build failed")
    match = re.search(r"kb history: git data in ([\d.]+) s", proc.stderr)
    pages = sum(1 for _ in out.rglob("index.html"))
    return wall, float(match.group(1)) if match else None, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument("--no-build", action="store_true", help="skip the mkdocs builds")
    args = parser.parse_args()
    base = ROOT / "bench" / "out" / "git-history"
    repo = base / "repo"
    made = create_repo(repo, args.files, args.commits, args.policies)
    count = int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=repo,
                               capture_output=True, text=True).stdout)
    md = sum(1 for _ in repo.rglob("*.md") if ".git" not in _.parts)
    print(f"repository: {md} Markdown files, {count} commits (fast-import {made:.1f} s)")
    shutil.rmtree(repo / ".cache", ignore_errors=True)
    for label, cache in (("cold", False), ("cold+write", True), ("warm", True)):
        log_s, ver_s, st_s, nfiles, archived = git_data(repo, cache=cache)
        print(f"git data {label:10s}: log pass {log_s * 1000:7.0f} ms  versions {ver_s * 1000:6.0f} ms"
              f"  status {st_s * 1000:5.0f} ms  total {(log_s + ver_s + st_s) * 1000:7.0f} ms"
              f"  ({nfiles} files with history, {archived} archived versions)")
    if args.no_build:
        return
    for label in ("cold", "warm"):
        if label == "cold":
            shutil.rmtree(repo / ".cache", ignore_errors=True)
        wall, hook, pages = build(repo, base / "site")
        share = f"{hook / wall * 100:.1f}%" if hook is not None else "?"
        print(f"mkdocs build {label}: {wall:6.1f} s for {pages} pages "
              f"({wall / pages * 1000:.1f} ms/page); history hook git data "
              f"{hook if hook is not None else float('nan'):.3f} s = {share} of the build")


if __name__ == "__main__":
    main()
