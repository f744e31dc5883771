"""Start-up cost of search: a one-off ``kb search`` and the search service's first queries.

* ``kb search --site SITE QUERY`` run N times as a fresh process: wall and CPU seconds (of the
  child), with the SQLite word table (default) and with jieba's whole dictionary
  (``KB_SEARCH_FULL_DICTIONARY=1``), and the ``took_ms`` the command prints;
* ``kb serve SITE``: ``took_ms`` of the first queries after start (each query different, so
  none is answered from the service's cache) against the same queries asked again later.

Figures only (the machine is shared: CPU seconds move less than wall seconds).

    .venv/bin/python bench/search_oneoff.py [--site bench/out/demo-eval/site] [-n 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
QUERIES = ["密码", "忘记密码怎么办", "VPN 安装", "备份制度", "mima", "请假", "打印机", "会议室预约"]


def one_off(site: Path, query: str, env: dict) -> tuple[float, float, float]:
    """(wall s, child CPU s, took_ms) of one ``kb search`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run([str(BIN / "kb"), "search", "--site", str(site), query],
                         capture_output=True, text=True, check=True, env=env).stdout
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    took = float(re.search(r"\(([\d.]+) ms\)", out).group(1))
    return wall, cpu, took


def service(site: Path) -> tuple[list[float], list[float]]:
    """took_ms of the first query of each kind after start, and of the same asked again."""
    proc = subprocess.Popen([str(BIN / "kb"), "serve", str(site), "--port", "0", "--workers",
                             "1", "--log", "off"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        base = None
        for line in proc.stdout:  # type: ignore[union-attr]
            m = re.search(r"kb serve: (http://127\.0\.0\.1:\d+/)", line)
            if m:
                base = m.group(1)
                break
        assert base, "kb serve did not start"

        def ask(q: str, size: int) -> float:
            url = base + "api/search?" + urllib.parse.urlencode({"q": q, "size": size})
            with urllib.request.urlopen(url, timeout=30) as resp:
                return json.loads(resp.read())["took_ms"]

        first = [ask(q, 10) for q in QUERIES]
        later = [ask(q, 11) for q in QUERIES]  # another size: not from the cache
        return first, later
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, default=ROOT / "bench" / "out" / "demo-eval" / "site")
    ap.add_argument("-n", type=int, default=5, help="one-off runs per mode")
    args = ap.parse_args(argv)
    for name, extra in (("word table", {}), ("whole dictionary",
                                             {"KB_SEARCH_FULL_DICTIONARY": "1"})):
        env = {**os.environ, **extra}
        one_off(args.site, QUERIES[0], env)  # the first run may write the word table
        runs = [one_off(args.site, QUERIES[i % len(QUERIES)], env) for i in range(args.n)]
        walls, cpus, tooks = zip(*runs)
        print(f"kb search ({name}): wall median {statistics.median(walls):.2f} s "
              f"(min {min(walls):.2f}), CPU median {statistics.median(cpus):.2f} s, "
              f"took_ms median {statistics.median(tooks):.1f}")
    first, later = service(args.site)
    print(f"kb serve: first queries took_ms median {statistics.median(first):.1f} "
          f"(max {max(first):.1f}); same queries later median {statistics.median(later):.1f} "
          f"(max {max(later):.1f})")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
