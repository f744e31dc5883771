"""Search quality on the tldr-zh corpus: top-1, recall@5 and MRR@10 of ``kb search``.

Builds ``../shared/corpora/tldr-zh/pages.zh`` as a plain Material site (generated mkdocs.yml:
``theme: material``, ``language: zh``, ``font: false``) under ``bench/out/``, indexes it with
``kb index``, runs every query of ``tldr-zh-queries.tsv`` through ``kb search --json --batch`` and
prints the figures (``-v`` also prints each query with the rank of its first relevant page).

    .venv/bin/python bench/search_eval.py [--rebuild] [--no-index] [-v] [--demo] [--heldout] [--fresh]

``--demo`` adds a second, held-out report: ``bench/demo-queries.tsv`` (staff queries written
against this repository's demo KB, not tuned on) over the demo site built with ``mkdocs build``
into ``bench/out/demo-eval/``. ``--heldout`` adds a third report on the same tldr-zh site:
``bench/tldr-heldout-queries.tsv`` (staff queries for pages that no dev query is about, written
before the ranking round that checked against it). ``--fresh`` adds a fourth, blind set on the same
site: ``bench/tldr-fresh-queries.tsv`` (written without seeing the engine's results or the
vocabulary rounds). Ranking changes must help or hold on all.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
PAGES = CORPORA / "tldr-zh" / "pages.zh"
QUERIES = CORPORA / "tldr-zh-queries.tsv"
OUT = ROOT / "bench" / "out" / "tldr-eval"
DEMO_OUT = ROOT / "bench" / "out" / "demo-eval"
DEMO_QUERIES = ROOT / "bench" / "demo-queries.tsv"
HELDOUT_QUERIES = ROOT / "bench" / "tldr-heldout-queries.tsv"
FRESH_QUERIES = ROOT / "bench" / "tldr-fresh-queries.tsv"
BLIND2_QUERIES = ROOT / "bench" / "tldr-blind2-queries.tsv"
DEMO_BLIND_QUERIES = ROOT / "bench" / "demo-blind-queries.tsv"
ITKB_PAGES = ROOT / "bench" / "corpora" / "itkb-zh"
ITKB_QUERIES = ROOT / "bench" / "itkb-queries.tsv"
ITKB_OUT = ROOT / "bench" / "out" / "itkb-eval"
DEMO_TODAY = "2026-11-27"
BIN = Path(sys.executable).parent

MKDOCS_YML = """site_name: tldr-zh
docs_dir: {docs}
site_dir: site
theme:
  name: material
  language: zh
  font: false
exclude_docs: |
  README.md
  DONE
"""


def build_site(out: Path, docs: Path, rebuild: bool = False) -> Path:
    """Build ``docs`` as a plain Material site in ``out/site`` (skipped when it exists)."""
    site = out / "site"
    if site.is_dir() and not rebuild:
        return site
    out.mkdir(parents=True, exist_ok=True)
    (out / "mkdocs.yml").write_text(MKDOCS_YML.format(docs=docs), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([str(BIN / "mkdocs"), "build", "-q", "-f", str(out / "mkdocs.yml")],
                   check=True)
    print(f"built {docs} as a Material site in {time.perf_counter() - started:.1f}s")
    return site


def build_demo(out: Path, rebuild: bool = False) -> Path:
    """Build the demo KB (this repository) into ``out/site`` with a fixed today (the hook
    indexes it); skipped when it exists."""
    site = out / "site"
    if site.is_dir() and not rebuild:
        return site
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KB_TODAY": DEMO_TODAY}
    subprocess.run([str(BIN / "mkdocs"), "build", "-q", "-f", str(ROOT / "mkdocs.yml"),
                    "-d", str(site)], check=True, env=env, cwd=ROOT)
    return site


def load_queries(path: Path) -> list[tuple[str, set[str]]]:
    """(query, relevant page ids) pairs from the TSV file."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, pages = line.split("\t")
        out.append((query, {p.strip() for p in pages.split(",") if p.strip()}))
    return out


def page_id(hit: dict) -> str:
    """``common/du/`` → ``common/du`` (the corpus' page naming)."""
    return hit["page"].rstrip("/").removesuffix(".html")


def evaluate(site: Path, queries: list[tuple[str, set[str]]], verbose: bool = False) -> dict:
    """Run the queries through ``kb search --batch``; return top-1, recall@5, MRR@10."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write("\n".join(q for q, _ in queries) + "\n")
        batch = fh.name
    started = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "kb"), "search", "--site", str(site), "--json", "--limit", "10",
         "--batch", batch],
        check=True, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    Path(batch).unlink()
    lines = proc.stdout.splitlines()
    top1 = rec5 = mrr = 0.0
    for (query, relevant), line in zip(queries, lines, strict=True):
        ids = [page_id(h) for h in json.loads(line)]
        rank = next((i for i, p in enumerate(ids, 1) if p in relevant), 0)
        top1 += rank == 1
        rec5 += 0 < rank <= 5
        mrr += 1 / rank if 0 < rank <= 10 else 0
        if verbose:
            print(f"{rank or '-':>2}  {query}  →  {', '.join(ids[:3])}")
    n = len(queries)
    return {"queries": n, "top1": top1 / n, "recall5": rec5 / n, "mrr10": mrr / n,
            "batch_seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rebuild", action="store_true", help="rebuild the Material site")
    ap.add_argument("--no-index", action="store_true", help="reuse the existing index")
    ap.add_argument("--site", type=Path, default=None, help="an already built site to use")
    ap.add_argument("--queries", type=Path, default=QUERIES)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--demo", action="store_true",
                    help="also report the held-out demo-KB query set (bench/demo-queries.tsv)")
    ap.add_argument("--heldout", action="store_true",
                    help="also report the held-out tldr-zh set (bench/tldr-heldout-queries.tsv)")
    ap.add_argument("--fresh", action="store_true",
                    help="also report the blind tldr-zh set (bench/tldr-fresh-queries.tsv)")
    ap.add_argument("--blind", action="store_true",
                    help="also report the blind sets: tldr blind2, demo blind and itkb-zh "
                         "(an independent hospital IT KB built as a plain Material site)")
    ap.add_argument("--all", action="store_true", help="every set: dev, held-out, fresh, "
                    "blind2, demo, demo blind, itkb")
    args = ap.parse_args(argv)
    if args.all:
        args.demo = args.heldout = args.fresh = args.blind = True
    site = args.site or build_site(OUT, PAGES, args.rebuild)
    runs = [("tldr-zh", site, args.queries)]
    if args.heldout:
        runs.append(("tldr held-out", site, HELDOUT_QUERIES))
    if args.fresh:
        runs.append(("tldr fresh", site, FRESH_QUERIES))
    if args.blind:
        runs.append(("tldr blind2", site, BLIND2_QUERIES))
    if args.demo or args.blind:
        demo = build_demo(DEMO_OUT, args.rebuild)
        if args.demo:
            runs.append(("demo KB", demo, DEMO_QUERIES))
        if args.blind:
            runs.append(("demo blind", demo, DEMO_BLIND_QUERIES))
    if args.blind:
        runs.append(("itkb-zh", build_site(ITKB_OUT, ITKB_PAGES, args.rebuild), ITKB_QUERIES))
    indexed: set[Path] = set()
    for name, where, queries in runs:
        if not args.no_index and where not in indexed:
            subprocess.run([str(BIN / "kb"), "index", str(where)], check=True)
            indexed.add(where)
        r = evaluate(where, load_queries(queries), args.verbose)
        print(
            f"{name:14} {r['queries']:3} queries  top-1 {r['top1']:.1%}  recall@5 "
            f"{r['recall5']:.1%}  MRR@10 {r['mrr10']:.3f}  (batch {r['batch_seconds']:.1f}s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
