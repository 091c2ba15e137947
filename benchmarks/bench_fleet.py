"""A fleet of OS processes sharing one rate limit, against a fake that enforces it.

    python -m benchmarks.bench_fleet [--limit 100] [--per 5] [--total 600] [--quick]
                                     [--json PATH]

Every cell runs its processes (`tests/integration/fleet_worker.py`) against one served
`FakeDyte` that answers 429 beyond ``limit`` requests in any ``per`` seconds (counted on
arrival, over a sliding window), with a real `redis-server` on loopback (fakeredis when it
is not installed, said in the output). Cells:

- ``fleet-4`` / ``fleet-8``: 4 or 8 processes, the total split evenly, sharing the limit
  through Redis (`redis=`);
- ``uneven``: 4 processes, 75 % of the work in one (the issue's 900/100/100/100 shape);
- ``local-4``: 4 processes, each with the in-process limiter at the full limit (what a
  fleet gets today: 429s);
- ``split-uneven``: the uneven load with a static split (limit / 4 each, in-process);
- ``throughput``: one process, 100 in flight, a limit that never binds, in-process
  limiter against `redis=` (requests/s; the server in its own process);
- ``outage``: one process with `redis=` whose Redis is stopped one second into the run:
  every call must still end, none past its deadline.

For each: 429s, makespan against the theoretical minimum (``ceil(total / limit) - 1``
windows: the first ``limit`` start at once), Redis round trips per request, and the
p50/p99 limiter wait. Prints one JSON document (and writes it with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from typing import Any

import anyio

from tests.redis_server import RedisServer

SERVE = """
import sys, anyio, json
from dyte_async.testing import FakeDyte

async def main():
    limit = json.loads(sys.argv[1])
    fake = FakeDyte(rate_limit=None if limit is None else tuple(limit))
    meeting = fake.add_meeting(title="bench")["id"]
    async with fake.serve() as url:
        print(json.dumps({"url": url, "meeting": meeting}), flush=True)
        await anyio.sleep(3600)

anyio.run(main)
"""


class Server:
    """A served FakeDyte in a child process (so it never shares the clients' CPU time)."""

    def __init__(self, limit: tuple[int, float] | None) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", SERVE, json.dumps(limit)], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        info = json.loads(self._process.stdout.readline())
        self.url: str = info["url"]
        self.meeting: str = info["meeting"]

    def close(self) -> None:
        self._process.kill()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def run_cell(
    name: str,
    loads: list[int],
    *,
    limit: int,
    per: float,
    redis_url: str | None,
    per_process_limit: int | None = None,
    concurrency: int | None = None,
    server_limit: tuple[int, float] | None = None,
    during: Any = None,
) -> dict[str, Any]:
    server = Server((limit, per) if server_limit is None else server_limit)
    key = f"bench-{name}-{time.time_ns()}"
    start = time.time() + 3.0
    results: list[dict[str, Any]] = []
    try:

        async def member(requests: int) -> None:
            options: dict[str, Any] = {
                "base_url": server.url,
                "redis": redis_url,
                "key": key,
                "meeting": server.meeting,
                "requests": requests,
                "limit": per_process_limit or limit,
                "per": per,
                "start": start,
                "timeout": 300,
            }
            if concurrency is not None:
                options["concurrency"] = concurrency
            done = await anyio.run_process(
                [sys.executable, "-m", "tests.integration.fleet_worker", json.dumps(options)],
                check=True,
            )
            results.append(json.loads(done.stdout))

        with anyio.fail_after(600):
            async with anyio.create_task_group() as group:
                for requests in loads:
                    group.start_soon(member, requests)
                if during is not None:
                    group.start_soon(during, start)
    finally:
        server.close()
    total = sum(loads)
    makespan = max(r["ended"] for r in results) - start
    minimum = (math.ceil(total / limit) - 1) * per
    waits = [w for r in results for w in r["waits"]]
    durations = [d for r in results for d in r["durations"]]
    return {
        "cell": name,
        "processes": len(loads),
        "loads": loads,
        "requests": total,
        "ok": sum(r["ok"] for r in results),
        "rate_limited": sum(r["rate_limited"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "makespan_s": round(makespan, 2),
        "minimum_s": minimum,
        "makespan_over_minimum": round(makespan / minimum, 3) if minimum else None,
        "requests_per_s": round(total / makespan, 1),
        "redis_calls_per_request": round(sum(r["redis_calls"] for r in results) / total, 2),
        "fallbacks": sum(r["fallbacks"] for r in results),
        "limiter_wait_p50_s": round(percentile(waits, 0.5), 3),
        "limiter_wait_p99_s": round(percentile(waits, 0.99), 3),
        "call_p99_s": round(percentile(durations, 0.99), 3),
        "call_max_s": round(max(durations, default=0.0), 3),
    }


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--per", type=float, default=5.0)
    parser.add_argument("--total", type=int, default=600)
    parser.add_argument("--quick", action="store_true", help="a small run (smoke)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument(
        "--only",
        choices=("limit", "throughput"),
        help="only the limit cells, or only the throughput and outage cells",
    )
    args = parser.parse_args(argv)
    limit, per, total = args.limit, args.per, args.total
    if args.quick:
        limit, per, total = 20, 1.0, 80
    cells: list[dict[str, Any]] = []
    with RedisServer() as redis:
        even4, even8 = [total // 4] * 4, [total // 8] * 8
        big = total * 3 // 4
        uneven = [big] + [(total - big) // 3] * 3
        common: dict[str, Any] = {"limit": limit, "per": per}
        if args.only != "throughput":
            cells.append(await run_cell("fleet-4", even4, redis_url=redis.url, **common))
            cells.append(await run_cell("fleet-8", even8, redis_url=redis.url, **common))
            cells.append(await run_cell("uneven", uneven, redis_url=redis.url, **common))
            cells.append(await run_cell("local-4", even4, redis_url=None, **common))
            cells.append(
                await run_cell(
                    "split-uneven",
                    uneven,
                    redis_url=None,
                    per_process_limit=max(1, limit // 4),
                    **common,
                )
            )
        if args.only == "limit":
            return await _report(cells, redis.kind, limit, per, args.json)
        n = 2000 if args.quick else 10_000
        for name, url in (("throughput-local", None), ("throughput-redis", redis.url)):
            cells.append(
                await run_cell(
                    name,
                    [n],
                    limit=1_000_000,
                    per=60.0,
                    redis_url=url,
                    concurrency=100,
                    server_limit=(10**9, 1.0),
                )
            )

        async def stop_redis(start: float) -> None:
            await anyio.sleep(max(0.0, start - time.time()) + 0.5)
            redis.stop()

        cells.append(
            await run_cell(
                "outage",
                [n],
                limit=1_000_000,
                per=60.0,
                redis_url=redis.url,
                concurrency=100,
                server_limit=(10**9, 1.0),
                during=stop_redis,
            )
        )
        kind = redis.kind
    return await _report(cells, kind, limit, per, args.json)


async def _report(
    cells: list[dict[str, Any]], kind: str, limit: int, per: float, path: str | None
) -> dict[str, Any]:
    by_name = {c["cell"]: c for c in cells}
    report: dict[str, Any] = {"redis": kind, "limit": f"{limit} per {per:g} s", "cells": cells}
    if "throughput-local" in by_name:
        local = by_name["throughput-local"]["requests_per_s"]
        remote = by_name["throughput-redis"]["requests_per_s"]
        report["throughput_redis_over_local"] = round(remote / local, 3)
    ratios = [
        by_name[name]["makespan_over_minimum"]
        for name in ("fleet-4", "fleet-8", "uneven")
        if name in by_name and by_name[name]["makespan_over_minimum"]
    ]
    if ratios:
        report["median_makespan_over_minimum"] = statistics.median(ratios)
    text = json.dumps(report, indent=2)
    print(text)
    if path:
        await anyio.Path(path).write_text(text + "\n")
    return report


if __name__ == "__main__":
    anyio.run(main)
