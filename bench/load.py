"""Load test of the search service: N concurrent clients for S seconds against `kb serve`.

    .venv/bin/python bench/load.py                    # builds the demo into a temp folder
    .venv/bin/python bench/load.py --site site        # an already built (and indexed) site
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000/   # a server already running

Each client keeps one HTTP/1.1 connection open and sends /api/search requests back to back,
cycling through a mix of staff queries (Chinese words and phrases, English, codes, pinyin,
typos, filters, second pages, as-you-type prefixes). Prints requests/s, latency p50/p95/p99 and
errors. Goals (issue 6): 0 errors, p95 < 100 ms, >= 200 requests/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]

#: what staff type: words, phrases, codes, pinyin, typos, filters, paging, live prefixes
QUERIES: list[dict[str, str]] = [
    {"q": "口令"}, {"q": "密码 重置"}, {"q": "VPN"}, {"q": "远程办公 VPN"},
    {"q": "打印机"}, {"q": "邮件 容量"}, {"q": "无线网络"}, {"q": "备份"},
    {"q": "机房 出入"}, {"q": "OA 请假"}, {"q": "会议室"}, {"q": "多因素认证"},
    {"q": "信息安全"}, {"q": "802.1X"}, {"q": "XXZX-ZD-007"}, {"q": "mima"},
    {"q": "防火强"}, {"q": "windows 11"}, {"q": "服务台 电话"}, {"q": "数据恢复"},
    {"q": "培训"}, {"q": "等级保护"}, {"q": "公文 流转"}, {"q": "pasword"},
    {"q": "\"统一身份认证\""}, {"q": "账号 -特权"}, {"q": "安全事件 报告"},
    {"q": "VPN", "type": "policy"}, {"q": "网络", "type": "manual"},
    {"q": "备份", "archived": "1"}, {"q": "口令", "page": "2", "size": "5"},
    {"q": "网", "live": "1"}, {"q": "网络", "live": "1"}, {"q": "网络 接入", "live": "1"},
    {"q": "账号", "tag": "VPN"}, {"q": "制度", "status": "effective"},
]


async def client(host: str, port: int, paths: list[str], offset: int, stop_at: float,
                 latencies: list[float], errors: dict[str, int]) -> None:
    """One keep-alive connection sending requests until ``stop_at``."""
    reader = writer = None
    i = offset
    while time.perf_counter() < stop_at:
        path = paths[i % len(paths)]
        i += 1
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                         f"Accept: application/json\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            if b"connection: close" in head.lower():
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError, AttributeError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if writer is not None:
                writer.close()
            writer = None
            continue
        latencies.append(time.perf_counter() - started)
        if status != 200:
            errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
    if writer is not None:
        writer.close()


async def run_load(url: str, clients: int, seconds: float) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    prefix = parts.path.rstrip("/")
    paths = [f"{prefix}/api/search?{urlencode(q)}" for q in QUERIES]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    # warm-up: every query once (caches, first-use costs), not measured
    await asyncio.gather(*(client(host, port, paths, 0, time.perf_counter() + 2.0, [], {})
                           for _ in range(4)))
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(client(host, port, paths, n * 7, stop_at, latencies, errors)
                           for n in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0

    return {"requests": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50": pct(50), "p95": pct(95), "p99": pct(99),
            "mean": statistics.fmean(ordered) * 1000 if ordered else 0, "errors": errors}


def build_demo(out: Path) -> Path:
    env = dict(os.environ, KB_TODAY=os.environ.get("KB_TODAY", "2026-11-27"),
               NO_MKDOCS_2_WARNING="1")
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(out)], cwd=ROOT,
                   env=env, check=True)
    if not (out / ".search-index").is_dir():
        subprocess.run([sys.executable, "-m", "kb.cli", "index", str(out)], cwd=ROOT, check=True)
    return out


def start_server(site: Path, threads: int, workers: int, cache: int,
                 log: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", str(site), "--port", "0",
                             "--threads", str(threads), "--workers", str(workers),
                             "--cache", str(cache), "--log", str(log)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := re.search(r"kb serve: (http://\S+/)", line):
            return proc, m.group(1)
    raise SystemExit("kb serve did not start:\n" + (proc.stdout.read() if proc.stdout else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start kb serve)")
    parser.add_argument("--site", help="built site to serve (default: build the demo)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=4, help="kb serve threads per worker")
    parser.add_argument("--workers", type=int, default=2, help="kb serve worker processes")
    parser.add_argument("--cache", type=int, default=1024,
                        help="kb serve answer cache (0: every query runs the engine)")
    args = parser.parse_args()
    proc = None
    with tempfile.TemporaryDirectory(prefix="kb-load-") as tmp:
        url = args.url
        if not url:
            site = Path(args.site) if args.site else build_demo(Path(tmp) / "site")
            proc, url = start_server(site, args.threads, args.workers, args.cache,
                                     Path(tmp) / "searches.jsonl")
        try:
            res = asyncio.run(run_load(url, args.clients, args.seconds))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
    errors = sum(res["errors"].values())  # type: ignore[union-attr]
    print(f"search API load: {args.clients} clients, {res['seconds']:.1f} s, "
          f"{len(QUERIES)} queries in the mix"
          + ("" if args.url else f", kb serve {args.workers} workers x {args.threads} threads, "
             f"answer cache {args.cache or 'off'}"))
    print(f"  requests   {res['requests']}  ({res['rps']:.0f} requests/s)")
    print(f"  latency    p50 {res['p50']:.1f} ms  p95 {res['p95']:.1f} ms  "
          f"p99 {res['p99']:.1f} ms  mean {res['mean']:.1f} ms")
    print(f"  errors     {errors}  {res['errors'] or ''}")
    ok = errors == 0 and res["p95"] < 100 and res["rps"] >= 200  # type: ignore[operator]
    print(f"  goals      0 errors, p95 < 100 ms, >= 200 requests/s: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
