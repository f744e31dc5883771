"""Load test of 阅知确认 (issue 21): N clients confirming and reading status against ``kb serve``,
with the store in SQLite (default) and in PostgreSQL (a temporary cluster of Debian's server).

    .venv/bin/python bench/acks.py                      # both stores, 32 clients, 20 s each
    .venv/bin/python bench/acks.py --store sqlite --seconds 10 --site site

Each client keeps one HTTP/1.1 connection and repeats, as a new user each time (the proxy's
headers sent directly, as nginx would): ``GET /api/ack?doc_id=`` (status and a token), then
``POST /api/ack`` (the confirmation). Prints requests/s, p50/p95/p99 per kind, errors (anything
but 200 for a GET and 201 for a POST, or no answer), and "lost": confirmations answered 201 that
are not in the store afterwards (must be 0). Figures only: the clients share the 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import build_demo  # noqa: E402

SECRET = "bench-proxy-secret-5d1e77a0c4"
DOC, VERSION = "XXZX-ZD-004", "3.1"


async def _exchange(reader, writer, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    return status, await reader.readexactly(length)


async def client(n: int, host: str, port: int, stop_at: float, lat: dict[str, list[float]],
                 errors: dict[str, int], confirmed: list[str]) -> None:
    reader = writer = None
    i = 0
    origin = f"http://{host}:{port}"
    while time.perf_counter() < stop_at:
        user = f"bench-{n}-{i}"
        i += 1
        common = (f"Host: {host}:{port}\r\nX-KB-Proxy-Secret: {SECRET}\r\n"
                  f"X-Remote-User: {user}\r\nAccept: application/json\r\n")
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            started = time.perf_counter()
            status, body = await _exchange(reader, writer, (
                f"GET /api/ack?doc_id={DOC} HTTP/1.1\r\n{common}\r\n").encode())
            lat["GET"].append(time.perf_counter() - started)
            if status != 200:
                errors[f"GET {status}"] = errors.get(f"GET {status}", 0) + 1
                continue
            token = json.loads(body)["token"]
            payload = json.dumps({"doc_id": DOC, "version": VERSION}).encode()
            started = time.perf_counter()
            status, body = await _exchange(reader, writer, (
                f"POST /api/ack HTTP/1.1\r\n{common}Origin: {origin}\r\nX-KB-Token: {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            ).encode() + payload)
            lat["POST"].append(time.perf_counter() - started)
            if status == 201:
                confirmed.append(user)
            else:
                errors[f"POST {status}"] = errors.get(f"POST {status}", 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError, AttributeError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if writer is not None:
                writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def run(url: str, clients: int, seconds: float) -> dict:
    host, port = url.split("//")[1].rstrip("/").split(":")
    lat: dict[str, list[float]] = {"GET": [], "POST": []}
    errors: dict[str, int] = {}
    confirmed: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(client(n, host, int(port), started + seconds, lat, errors, confirmed)
                           for n in range(clients)))
    return {"seconds": time.perf_counter() - started, "lat": lat, "errors": errors,
            "confirmed": confirmed}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``kb serve`` and its worker processes so far."""
    import os
    import subprocess

    pids = [pid, *map(int, subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                          text=True).stdout.split())]
    total = 0.0
    for p in pids:
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def start_server(site: Path, db: str, workers: int, threads: int, secret: Path):
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "kb.cli", "serve", str(site), "--port", "0", "--log", "off",
         "--workers", str(workers), "--threads", str(threads), "--ack-proxy-secret-file",
         str(secret), "--ack-db", db], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := re.search(r"kb serve: (http://127\S+/)", line):
            return proc, m.group(1)
    raise SystemExit("kb serve did not start")


def bench_store(name: str, db: str, site: Path, args, secret: Path) -> bool:
    from kb.acks.records import AckStore
    from kb.store.db import open_engine

    proc, url = start_server(site, db, args.workers, args.threads, secret)
    try:
        cpu = server_cpu(proc.pid)
        res = asyncio.run(run(url, args.clients, args.seconds))
        cpu = server_cpu(proc.pid) - cpu
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    store = AckStore(open_engine(db))
    stored = {r.user_id for r in store.confirmations(DOC)}
    store.close()
    lost = len(set(res["confirmed"]) - stored)
    total = len(res["lat"]["GET"]) + len(res["lat"]["POST"])
    errors = sum(res["errors"].values())
    print(f"{name}: {args.clients} clients, {res['seconds']:.1f} s, kb serve {args.workers} "
          f"workers x {args.threads} threads")
    print(f"  requests   {total}  ({total / res['seconds']:.0f} requests/s; "
          f"{len(res['confirmed']) / res['seconds']:.0f} confirmations/s)")
    for kind in ("GET", "POST"):
        values = res["lat"][kind]
        print(f"  {kind:<5}      {len(values)}  p50 {pct(values, 50):.1f} ms  "
              f"p95 {pct(values, 95):.1f} ms  p99 {pct(values, 99):.1f} ms")
    print(f"  server CPU {cpu:.1f} s: {cpu * 1000 / max(1, len(res['confirmed'])):.1f} ms per "
          "confirmation (its GET and POST; what a busy machine's wall time hides)")
    print(f"  errors     {errors}  {res['errors'] or ''}")
    print(f"  stored     {len(stored)} confirmations; answered 201: {len(res['confirmed'])}; "
          f"lost {lost}")
    return errors == 0 and lost == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--site", help="built demo site (default: build it)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="kb-acks-bench-") as tmp:
        site = Path(args.site) if args.site else build_demo(Path(tmp) / "site")
        secret = Path(tmp) / "secret"
        secret.write_text(SECRET, encoding="utf-8")
        if args.store in ("sqlite", "both"):
            ok &= bench_store("SQLite (WAL, synchronous=FULL)", str(Path(tmp) / "acks.db"), site,
                              args, secret)
        if args.store in ("postgres", "both"):
            from kb.store.pgtemp import TempPostgres, find_binaries

            if find_binaries()[0] is None:
                print(f"PostgreSQL: skipped: {find_binaries()[1]}")
            else:
                with TempPostgres() as pg:
                    ok &= bench_store("PostgreSQL 15 (temporary cluster, fsync on)", pg.url,
                                      site, args, secret)
    print(f"goals: 0 errors, 0 lost: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
