"""Edit-to-visible latency under ``mkdocs serve`` on a synthetic knowledge base (issue 11).

Generates (or reuses) an N-page synthetic project (bench/synth.py), starts ``mkdocs serve`` on
loopback (``--dirty`` by default: MkDocs re-renders only changed pages, our hooks still see every
file), waits for the first build, then edits pages one at a time — appends a paragraph with a
unique token — and polls until the token is visible

* in the page (its URL on the dev server),
* in the theme's search index ``/search/search_index.json`` (what the in-site search uses under
  ``mkdocs serve``, where there is no search API),
* in our Whoosh index (``SITE_DIR/.search-index``, what ``kb serve`` answers from), by query.

Prints seconds from the write to each, per edit, and the median. Figures only.

    .venv/bin/python bench/serve_latency.py                 # 5,000 pages, --dirty
    .venv/bin/python bench/serve_latency.py --pages 500 --full   # without --dirty
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import synth  # noqa: E402

EDITS = ("policies/p0007.md", "docs/announcements/index.md", "manuals/m003/02-chapter.md",
         "docs/training/c0005.md")


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.read().decode("utf-8", "replace")
    except OSError:
        return None


def page_url(base: str, rel: str) -> str:
    """Dev-server URL of a synthetic page (directory URLs; roots map to their folder)."""
    path = rel.removeprefix("docs/").removesuffix(".md")
    path = path.removesuffix("index")
    return base + (path + "/" if path and not path.endswith("/") else path)


def whoosh_has(holder, token: str) -> bool:
    """Ask the index the way ``kb serve`` does: through its reloader (search.reload), which
    opens each new build in the background."""
    try:
        with holder.acquire() as gen:
            return gen.engine is not None and gen.engine.engine.search(token).total > 0
    except Exception:  # index being swapped or not there yet
        return False


def wait_until(check, timeout: float, step: float = 0.05) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if check():
            return time.perf_counter() - start
        time.sleep(step)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kb-serve-bench")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--full", action="store_true", help="serve without --dirty")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    project = args.work / f"ours-{args.pages}"
    if not (project / "mkdocs.yml").is_file():
        synth.write_project(args.pages, project)
    else:  # an earlier run's pages, this checkout's hooks and configuration
        synth.refresh_code(project)
    tmp = args.work / "serve-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    for old in tmp.glob("mkdocs_*"):
        subprocess.run(["rm", "-rf", str(old)], check=False)
    env = {**os.environ, "KB_TODAY": "2026-11-27", "NO_MKDOCS_2_WARNING": "1", "TMPDIR": str(tmp),
           "KB_SEARCH_CACHE": str(args.work / f"cache-{args.pages}")}
    cmd = [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{args.port}"]
    if not args.full:
        cmd.append("--dirty")
    base = f"http://127.0.0.1:{args.port}/"
    log = open(args.work / "serve.log", "w", encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        first = wait_until(lambda: fetch(base + "search/search_index.json") is not None
                           and any(tmp.glob("mkdocs_*/.search-index/build.json")), 900, 0.5)
        if first is None:
            raise SystemExit(f"first build did not finish; see {args.work / 'serve.log'}")
        site = next(tmp.glob("mkdocs_*"))
        from search.reload import IndexHolder
        from search.service_backend import open_engine

        engine = IndexHolder(site, open_engine, interval=0.1)
        print(f"{args.pages} pages, mkdocs serve{'' if args.full else ' --dirty'}: "
              f"first build {time.perf_counter() - started:.1f} s (load {os.getloadavg()[0]:.1f})")
        time.sleep(2)
        rows = []
        for i, rel in enumerate(EDITS):
            token = f"kbedit{os.getpid()}x{i}"
            path = project / rel
            text = path.read_text(encoding="utf-8")
            t0 = time.perf_counter()
            path.write_text(text + f"\n\n新增段落 {token} 用于测量。\n", encoding="utf-8")
            url = page_url(base, rel)
            t_page = wait_until(lambda: token in (fetch(url) or ""), args.timeout)
            rest = args.timeout - (time.perf_counter() - t0)
            t_json = wait_until(lambda: token in (fetch(base + "search/search_index.json") or ""),
                                max(rest, 1))
            t_json = None if t_json is None else time.perf_counter() - t0
            rest = args.timeout - (time.perf_counter() - t0)
            t_idx = wait_until(lambda: whoosh_has(engine, token), max(rest, 1), 0.1)
            t_idx = None if t_idx is None else time.perf_counter() - t0
            rows.append((rel, t_page, t_json, t_idx))
            fmt = lambda v: "timeout" if v is None else f"{v:.2f} s"  # noqa: E731
            print(f"  edit {rel:32} page {fmt(t_page):>8}  search_index.json {fmt(t_json):>8}  "
                  f"whoosh {fmt(t_idx):>8}")
            time.sleep(1)
        done = [max(r[1:]) for r in rows if None not in r[1:]]
        if done:
            print(f"edit → visible (page and both indexes): "
                  f"median {statistics.median(done):.2f} s, "
                  f"max {max(done):.2f} s over {len(done)}/{len(rows)} edits")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    main()
