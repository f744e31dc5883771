"""PDF benchmark: seconds per PDF page, ours next to mkdocs-to-pdf 0.12.1 on the same content.

    .venv/bin/python bench/pdf_bench.py [--to-pdf-venv /tmp/kbpdfbench/venv-to-pdf]

Ours (a copy of the demo project, empty PDF cache):
  1. ``mkdocs build`` without PDFs (baseline), 2. ``kb pdf`` of every manual chapter,
  3. ``mkdocs build`` with every PDF (chapters, whole manuals, policies, handouts),
  4. the same build again, unchanged: must render 0 PDFs.
PDF seconds = build with PDFs − build without; per page = that / pages of the PDFs made.

mkdocs-to-pdf (the same pages copied into one docs/ folder, plain Material, no hooks) runs in a
SEPARATE throwaway venv (created under /tmp when missing; never the project's venv): build
without and with its ``to-pdf`` plugin, in the same run. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / ".venv/bin/python"
ENV = {**os.environ, "KB_TODAY": "2026-11-27", "NO_MKDOCS_2_WARNING": "1",
       "PYTHONWARNINGS": "ignore"}


def pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def set_pdf(config: Path, on: bool) -> None:
    text = re.sub(r"\n    pdf: (true|false)\n", f"\n    pdf: {'true' if on else 'false'}\n",
                  config.read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")


def ours(work: Path) -> dict[str, float]:
    project = work / "ours"
    project.mkdir()
    for name in ("mkdocs.yml", "hooks", "docs", "policies", "manuals"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, project / name)
    config = project / "mkdocs.yml"
    build = [str(PY), "-m", "mkdocs", "build", "-q", "-f", str(config)]
    set_pdf(config, False)
    base = min(timed([*build, "-d", str(work / "o0")], project) for _ in range(2))
    chapters = sorted(str(p.relative_to(project)) for p in (project / "manuals").glob("*/[0-9]*.md"))
    out = work / "chapters"
    t_chapters = timed([str(PY), "-m", "kb.cli", "pdf", *chapters, "-f", str(config),
                        "-o", str(out)], project)
    chapter_pages = sum(pages(p) for p in out.glob("*.pdf"))
    shutil.rmtree(project / ".cache")
    set_pdf(config, True)
    t_all = timed([*build, "-d", str(work / "o1")], project)
    pdfs = list((work / "o1").rglob("*.pdf"))
    all_pages = sum(pages(p) for p in pdfs)
    t_again = timed([*build, "-d", str(work / "o2")], project)
    report = json.loads((project / ".cache/kb-pdf/last-run.json").read_text(encoding="utf-8"))
    return {"base": base, "chapters": len(chapters), "chapter_pages": chapter_pages,
            # kb pdf = a build + the chapter PDFs: subtract the build without PDFs
            "chapter_s": t_chapters - base, "pdfs": len(pdfs), "pages": all_pages,
            "all_s": t_all - base, "again_s": t_again - base,
            "again_rendered": len(report["rendered"]), "again_reused": len(report["reused"]),
            "again_step": report["seconds"]}


TO_PDF_CONFIG = """site_name: 信息中心知识库
theme: {{name: material, language: zh, font: false}}
plugins:
  - search
{plugin}
markdown_extensions: [abbr, admonition, attr_list, def_list, footnotes, md_in_html, tables, toc,
  pymdownx.details, pymdownx.highlight, pymdownx.inlinehilite, pymdownx.superfences,
  pymdownx.tabbed, pymdownx.tasklist, pymdownx.mark, pymdownx.keys]
"""


def to_pdf(work: Path, venv: Path) -> dict[str, float]:
    if not (venv / "bin/mkdocs").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin/pip"), "install", "-q", "mkdocs-to-pdf==0.12.1",
                        "mkdocs==1.6.1", "mkdocs-material==9.8.2", "pymdown-extensions==13.1.2"],
                       check=True)
    project = work / "to-pdf"
    shutil.copytree(ROOT / "docs", project / "docs", ignore=shutil.ignore_patterns("overrides"))
    for root in ("policies", "manuals"):
        shutil.copytree(ROOT / root, project / "docs" / root)
    config = project / "mkdocs.yml"
    build = [str(venv / "bin/mkdocs"), "build", "-q", "-f", str(config)]
    config.write_text(TO_PDF_CONFIG.format(plugin=""), encoding="utf-8")
    base = min(timed([*build, "-d", str(work / "t0")], project) for _ in range(2))
    config.write_text(TO_PDF_CONFIG.format(plugin="  - to-pdf"), encoding="utf-8")
    t_pdf = timed([*build, "-d", str(work / "t1")], project)
    pdfs = list((work / "t1").rglob("*.pdf"))
    return {"base": base, "pdf_s": t_pdf - base, "pdfs": len(pdfs),
            "pages": sum(pages(p) for p in pdfs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--to-pdf-venv", default="/tmp/kbpdfbench/venv-to-pdf", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-pdf-bench-") as tmp:
        work = Path(tmp)
        o = ours(work)
        t = to_pdf(work, args.to_pdf_venv)
    print(f"cores: {os.cpu_count()}")
    print(f"ours    site build without PDFs       {o['base']:.1f} s")
    print(f"ours    chapters ({o['chapters']} PDFs, {o['chapter_pages']} pages)      "
          f"{o['chapter_s']:.1f} s  = {o['chapter_s'] / o['chapter_pages']:.3f} s/page")
    print(f"ours    whole demo ({o['pdfs']} PDFs, {o['pages']} pages)   "
          f"{o['all_s']:.1f} s  = {o['all_s'] / o['pages']:.3f} s/page")
    print(f"ours    unchanged rebuild: {o['again_rendered']} PDFs rendered, "
          f"{o['again_reused']} from cache; PDF render/copy step {o['again_step']:.2f} s "
          f"(build {o['again_s'] + o['base']:.1f} s vs {o['base']:.1f} s without PDFs)")
    print(f"to-pdf  site build without PDF        {t['base']:.1f} s")
    print(f"to-pdf  whole site ({t['pdfs']} PDF, {t['pages']} pages)      "
          f"{t['pdf_s']:.1f} s  = {t['pdf_s'] / max(t['pages'], 1):.3f} s/page")
    print(f"ratio   ours/to-pdf per page: chapters "
          f"{(o['chapter_s'] / o['chapter_pages']) / (t['pdf_s'] / max(t['pages'], 1)):.2f}, "
          f"whole demo {(o['all_s'] / o['pages']) / (t['pdf_s'] / max(t['pages'], 1)):.2f}")


if __name__ == "__main__":
    main()
