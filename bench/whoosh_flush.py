"""Writing index segments: Whoosh's public writer against our fast path (issue 18 item 3).

The pages of ``../shared/corpora/tldr-zh`` are cycled to N pages (numbered titles), analysed
once (not timed), and the same documents are written three ways into fresh index folders, each
timed for ``add_document`` of every section plus ``commit`` (the flush):

``public``   ``ix.writer(limitmb=512)``: Whoosh's writer and posting pool, public API only
``pool``     our in-memory posting pool with Whoosh's own flush (no private method overridden)
``ours``     :class:`search.whoosh_compat.SegmentWriter`: pool and flush (what the index uses)

Each is run ``--repeat`` times; the best and median wall and CPU seconds are printed, and the
files of the three segments are compared (they must be equal, byte for byte).

    .venv/bin/python bench/whoosh_flush.py [--pages 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import markdown

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from whoosh import index as whoosh_index  # noqa: E402
from whoosh import writing  # noqa: E402

from search.documents import analyze_sliced  # noqa: E402
from search.extract import ARTICLE_OPEN, slice_page  # noqa: E402
from search.schema import make_schema  # noqa: E402
from search.whoosh_compat import SegmentWriter, _MemoryPool, segment_files  # noqa: E402

TLDR = ROOT.parent / "shared" / "corpora" / "tldr-zh" / "pages.zh"


def pages(n: int) -> list[list[dict]]:
    """The analysed section documents of ``n`` pages made from the tldr-zh corpus."""
    sources = sorted(TLDR.rglob("*.md"))
    out = []
    for i in range(n):
        src = sources[i % len(sources)]
        text = src.read_text("utf-8")
        title = f"{src.stem} {i}"
        body = markdown.markdown(text.split("\n", 1)[-1], extensions=["toc"])
        html = (f"<html><head><title>{title}</title></head><body>"
                f'{ARTICLE_OPEN}"><h1>{title}</h1>{body}</article></body></html>')
        docs, _ = analyze_sliced(f"p{i}/index.html", slice_page(html) or "")
        out.append(docs)
    return out


class PoolOnly(writing.SegmentWriter):
    def __init__(self, ix, **kwargs) -> None:
        super().__init__(ix, **kwargs)
        self.pool = _MemoryPool()


def write(folder: Path, docs: list[list[dict]], how: str) -> tuple[float, float]:
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), make_schema())
    wall, cpu = time.perf_counter(), time.process_time()
    if how == "public":
        writer = ix.writer(limitmb=512)
    else:
        writer = (PoolOnly if how == "pool" else SegmentWriter)(ix, limitmb=512)
    for page in docs:
        for doc in page:
            writer.add_document(**doc)
    writer.commit()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    docs = pages(args.pages)
    sections = sum(len(p) for p in docs)
    print(f"{args.pages} pages, {sections} sections analysed in "
          f"{time.perf_counter() - t0:.1f} s (not timed below)")
    work = Path(tempfile.mkdtemp(prefix="whoosh-flush-"))
    times: dict[str, list[tuple[float, float]]] = {"public": [], "pool": [], "ours": []}
    try:
        for r in range(args.repeat):
            for how in times:  # interleaved: a busy machine slows all three alike
                times[how].append(write(work / f"{how}-{r}", docs, how))
        files = {how: segment_files(work / f"{how}-0") for how in times}
        same = files["public"] == files["pool"] == files["ours"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'writer':8} {'wall best':>10} {'wall median':>12} {'cpu best':>9} {'cpu median':>11}"
          f" {'ms/page (cpu best)':>19}")
    for how, runs in times.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{how:8} {min(walls):10.2f} {statistics.median(walls):12.2f} {min(cpus):9.2f}"
              f" {statistics.median(cpus):11.2f} {1000 * min(cpus) / args.pages:19.2f}")
    base = min(c for _, c in times["ours"])
    for how in ("public", "pool"):
        extra = min(c for _, c in times[how]) - base
        print(f"{how} costs {extra:+.2f} s CPU over ours ({1000 * extra / args.pages:+.2f} ms/page)")
    print("segment files identical:", same)


if __name__ == "__main__":
    main()
