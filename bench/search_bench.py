"""Search benchmark: index time and size, query p50/p95, against plain Whoosh + jieba.

Two sites: the demo knowledge base of this repository, and a 5,000-page site generated from the
tldr-zh corpus (pages cycled with numbered copies, built as a plain Material site with a short
nav so 5,000 pages build in minutes). For each: our ``kb index`` cold (empty analysis cache),
warm (rebuild where no page changed), from the analysis cache (new site folder), index size, and query latency (p50/p95 over the
tldr-zh queries plus page titles). In the same run, plain Whoosh with ``jieba.analyse.
ChineseAnalyzer`` as shipped indexes the same pages' Markdown (one document per page: title =
h1 + first paragraph, body = all text), the baseline of the issue.

    .venv/bin/python bench/search_bench.py [--pages 5000] [--skip-demo] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.search_eval import PAGES, QUERIES, load_queries  # noqa: E402

from search import SearchEngine, build_index, index_dir_for  # noqa: E402

OUT = ROOT / "bench" / "out" / "search-bench"
BIN = Path(sys.executable).parent
BIG_YML = """site_name: tldr-5000
docs_dir: docs
site_dir: site
nav:
  - index.md
theme:
  name: material
  language: zh
  font: false
"""


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def generate_big(out: Path, n: int) -> tuple[Path, list[Path]]:
    """Write ``n`` Markdown pages cycled from the tldr corpus (copies get a numbered title)."""
    docs = out / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    sources = sorted(PAGES.rglob("*.md"))
    written = []
    for i in range(n):
        src = sources[i % len(sources)]
        copy = i // len(sources)
        text = src.read_text(encoding="utf-8")
        rel = src.relative_to(PAGES).as_posix()  # names may hold dots: mkfs.fat.md
        if copy:
            head, _, rest = text.partition("\n")
            text = f"{head}（{copy}）\n{rest}"
            rel = f"copy{copy}/{rel}"
        dest = docs / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        written.append(dest)
    (docs / "index.md").write_text("# tldr 5000\n\n生成的测试站点。\n", encoding="utf-8")
    (out / "mkdocs.yml").write_text(BIG_YML, encoding="utf-8")
    return docs, written


def mkdocs_build(config: Path) -> float:
    started = time.perf_counter()
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONWARNINGS="ignore")
    subprocess.run([str(BIN / "mkdocs"), "build", "-q", "-f", str(config)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def plain_whoosh(md_files: list[Path], workdir: Path) -> float:
    """Seconds for plain Whoosh + ChineseAnalyzer to index the Markdown pages."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
        from jieba.analyse import ChineseAnalyzer
    from whoosh import fields, index

    jieba.initialize()
    ana = ChineseAnalyzer()
    schema = fields.Schema(path=fields.ID(stored=True), title=fields.TEXT(analyzer=ana),
                           body=fields.TEXT(analyzer=ana))
    target = workdir / "plain-whoosh"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    started = time.perf_counter()
    ix = index.create_in(str(target), schema)
    w = ix.writer()
    for path in md_files:
        text = path.read_text(encoding="utf-8")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        title = " ".join(lines[:2]) if lines else ""
        w.add_document(path=str(path), title=title, body=text)
    w.commit()
    return time.perf_counter() - started


def query_latency(site: Path, queries: list[str]) -> tuple[float, float, float, float]:
    """(load seconds, p50 ms, p95 ms, p95 ms of a second pass) over ``queries``."""
    started = time.perf_counter()
    eng = SearchEngine(site)
    eng.search("测试")
    load = time.perf_counter() - started
    passes = []
    for _ in range(2):
        times = []
        for q in queries:
            t = time.perf_counter()
            eng.search(q)
            times.append((time.perf_counter() - t) * 1000)
        passes.append(sorted(times))
    first, second = passes
    p95 = lambda xs: xs[min(len(xs) - 1, int(len(xs) * 0.95))]  # noqa: E731
    return load, statistics.median(first), p95(first), p95(second)


def bench_site(name: str, site: Path, queries: list[str], md_bytes: int,
               pages: int) -> tuple[float, float]:
    """Index cold and warm, measure size and latency; print one block; return both times."""
    with tempfile.TemporaryDirectory() as cache:
        shutil.rmtree(index_dir_for(site), ignore_errors=True)
        cold = build_index(site, cache_dir=cache)  # nothing known: every page analysed
        warm = build_index(site, cache_dir=cache)  # rebuild, no page changed
        shutil.rmtree(index_dir_for(site))
        cached = build_index(site, cache_dir=cache)  # fresh site folder, analysis cache filled
    size = folder_size(index_dir_for(site))
    load, p50, p95, p95b = query_latency(site, queries)
    mb = md_bytes / 1e6
    print(f"\n== {name}: {cold.pages} pages, {cold.documents} sections, "
          f"{mb:.1f} MB Markdown ({pages} source pages)")
    print(f"  kb index cold : {cold.seconds:6.2f} s  {cold.pages / cold.seconds:7.0f} pages/s  "
          f"{mb / cold.seconds:5.2f} MB/s  {cold.seconds * 1000 / cold.pages:.2f} ms/page")
    print(f"  kb index warm : {warm.seconds:6.2f} s  {warm.pages / warm.seconds:7.0f} pages/s  "
          f"(rebuild, {warm.unchanged} pages unchanged)")
    print(f"  kb index cache: {cached.seconds:6.2f} s  {cached.pages / cached.seconds:7.0f} "
          f"pages/s  (new site folder, {cached.cached} pages from the analysis cache)")
    print(f"  index size    : {size / 1e6:6.1f} MB  {size / 1024 / cold.pages:.1f} KB/page")
    print(f"  queries       : {len(queries)}  open {load:.2f} s  p50 {p50:.1f} ms  "
          f"p95 {p95:.1f} ms  (second pass p95 {p95b:.1f} ms)")
    return cold.seconds, warm.seconds, cached.seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the generated site")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    tldr_queries = [q for q, _ in load_queries(QUERIES)]
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")

    if not args.skip_demo:
        demo = OUT / "demo-site"
        secs = subprocess.run(
            [str(BIN / "mkdocs"), "build", "-q", "-f", str(ROOT / "mkdocs.yml"), "-d", str(demo)],
            env=dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONWARNINGS="ignore"),
            capture_output=True, text=True,
        )
        if secs.returncode != 0:
            print("demo build failed:", secs.stderr[-2000:])
        else:
            md = [p for d in ("docs", "policies", "manuals") for p in (ROOT / d).rglob("*.md")]
            eng = SearchEngine(demo)
            titles = sorted({s.get("title", "") for s in eng.generation().stored})
            bench_site("demo site", demo, titles + tldr_queries,
                       sum(p.stat().st_size for p in md), len(md))

    big = OUT / f"tldr-{args.pages}"
    site = big / "site"
    if args.rebuild or not site.is_dir():
        docs, md_files = generate_big(big, args.pages)
        print(f"\nbuilding the {args.pages}-page site: {mkdocs_build(big / 'mkdocs.yml'):.0f} s")
    else:
        md_files = sorted((big / "docs").rglob("*.md"))
    md_bytes = sum(p.stat().st_size for p in md_files)
    cold, warm, cached = bench_site(f"tldr {args.pages}", site, tldr_queries, md_bytes, len(md_files))
    plain = plain_whoosh(md_files, big)
    print(f"  plain Whoosh + jieba ChineseAnalyzer (same pages, Markdown): {plain:.2f} s  "
          f"{md_bytes / 1e6 / plain:.2f} MB/s")
    print(f"  speed-up vs plain: cold {plain / cold:.1f}×, rebuild with unchanged pages "
          f"{plain / warm:.1f}×, new folder from the analysis cache {plain / cached:.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
