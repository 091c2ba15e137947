"""Waits across a fleet of OS processes: what shared polls and webhook wake-ups buy.

    python -m benchmarks.bench_fleet_polls [--meetings 1000] [--window 20] [--interval 2]
                                           [--repeat 3] [--cells 1p-alone,...]
                                           [--quick] [--json PATH]

A served `FakeDyte` in its own process holds `--meetings` started livestreams and turns
each LIVE at a random moment within `--window` seconds (seeded). For 1, 4 and 8 waiting
processes, with and without `redis=` (a real `redis-server` on loopback, fakeredis when it
is not installed), the meetings are split between the processes, each running one
`wait_until_live_many` over its share with `poll_interval=--interval`. Reported per cell:

- requests per poll interval while the meetings go LIVE (list pages, active-livestream
  reads and existence checks: everything the fake answered within the window);
- the wake latency: from a meeting going LIVE on the fake to its wait yielding it
  (median, p99, max);
- how many waits saw LIVE (all must).

The ``webhook`` cell measures a wait with ``poll_interval=30`` in one process woken by a
webhook handed to another (`notify`): 20 times, the median and max latency from the
`notify` call to the wait returning.

Each waits cell runs `--repeat` times with different seeds (when the meetings go LIVE):
the existence checks at the end of a run depend on where the polls fall against the last
LIVE transitions, so one run's request count is noisy. The cell reports the mean, and
each run's figure. Prints one JSON document (and writes it with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

import anyio

from tests.redis_server import RedisServer

FAKE = """
import json, random, sys, time, anyio
from dyte_async.testing import FakeDyte

async def main():
    n, window, seed = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    fake = FakeDyte(go_live_after=None, offline_after=None, rate_limit=None, seed=seed)
    ids = []
    for _ in range(n):
        meeting = fake.add_meeting(title="bench", live_stream_on_start=True)["id"]
        fake.start_meeting(meeting)
        ids.append(meeting)
    rng = random.Random(seed)
    live_at = {}
    async with fake.serve() as url:
        print(json.dumps({"url": url, "ids": ids}), flush=True)
        start = float(await anyio.to_thread.run_sync(sys.stdin.readline))
        schedule = sorted((start + rng.uniform(0, window), m) for m in ids)
        await anyio.sleep(max(0.0, start - time.time()))
        before, lists = fake.count(), fake.count("GET /livestreams")
        routes = dict(fake.route_counts)
        for at, meeting in schedule:
            await anyio.sleep(max(0.0, at - time.time()))
            fake.set_status(meeting, "LIVE")
            live_at[meeting] = time.time()
        during = fake.count() - before
        list_reads = fake.count("GET /livestreams") - lists
        by_route = {r: n - routes.get(r, 0) for r, n in fake.route_counts.items()}
        await anyio.to_thread.run_sync(sys.stdin.readline)
        by_route = {r: n for r, n in by_route.items() if n}
        report = {"live_at": live_at, "requests": during, "list_reads": list_reads,
                  "by_route": by_route}
        print(json.dumps(report), flush=True)

anyio.run(main)
"""

WAITER = """
import asyncio, json, sys, time
from dyte_async import AsyncDyte, RateLimit, WaitTimeoutError

async def main():
    options = json.loads(sys.argv[1])
    async with AsyncDyte("fake-org-id", "fake-api-key", base_url=options["url"],
                         rate_limit=RateLimit(100_000, per=60), redis=options["redis"],
                         rate_limit_key=options["key"], timeout=60) as dyte:
        print("ready", flush=True)
        start = float(await asyncio.to_thread(sys.stdin.readline))
        await asyncio.sleep(max(0.0, start - time.time()))
        woke = {}
        try:
            async for lv in dyte.livestreams.wait_until_live_many(
                options["ids"], timeout=options["timeout"], poll_interval=options["interval"]
            ):
                woke[lv.meeting_id] = time.time()
        except WaitTimeoutError:
            pass
        reader = dyte.livestreams._poller.reader
        reads = {k: getattr(reader, k, 0) for k in ("sent", "shared", "direct")}
    print(json.dumps({"woke": woke, "reads": reads}), flush=True)

asyncio.run(main())
"""

WEBHOOK_WAITER = """
import asyncio, json, sys, time
from dyte_async import AsyncDyte, RateLimit

async def main():
    url, redis_url, key = sys.argv[1:4]
    async with AsyncDyte("fake-org-id", "fake-api-key", base_url=url, redis=redis_url,
                         rate_limit=RateLimit(100_000, per=60), rate_limit_key=key) as dyte:
        for line in sys.stdin:
            meeting = line.strip()
            if not meeting:
                break
            wait = asyncio.ensure_future(
                dyte.livestreams.wait_until_live(meeting, poll_interval=30, timeout=60))
            while not dyte._wakeups.listening:
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.2)
            print("ready", flush=True)
            await wait
            print(json.dumps({"woke": time.time()}), flush=True)

asyncio.run(main())
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else 0.0


async def waits_cell(
    processes: int, redis_url: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    """The cell's runs (`--repeat`, seeds 7, 8, ...), averaged."""
    runs = [await waits_run(processes, redis_url, args, 7 + i) for i in range(args.repeat)]
    cell = dict(runs[0])
    for key in ("requests_per_interval", "list_reads_per_interval"):
        cell[key] = round(statistics.mean(run[key] for run in runs), 2)
    for key in ("wake_p50_s", "wake_p99_s", "wake_max_s"):
        cell[key] = round(statistics.median(run[key] or 0.0 for run in runs), 3)
    cell["saw_live"] = min(run["saw_live"] for run in runs)
    cell["runs_requests_per_interval"] = [run["requests_per_interval"] for run in runs]
    routes: dict[str, int] = {}
    for run in runs:
        for route, n in run["requests_by_route"].items():
            routes[route] = routes.get(route, 0) + n
    cell["requests_by_route"] = {r: round(n / len(runs), 1) for r, n in routes.items()}
    cell["poll_reads"] = {
        k: round(statistics.mean(run["poll_reads"][k] for run in runs), 1)
        for k in runs[0]["poll_reads"]
    }
    return cell


async def waits_run(
    processes: int, redis_url: str | None, args: argparse.Namespace, seed: int
) -> dict[str, Any]:
    fake = subprocess.Popen(  # noqa: ASYNC220 (a child for the whole cell)
        [sys.executable, "-c", FAKE, str(args.meetings), str(args.window), str(seed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdin is not None
    assert fake.stdout is not None
    try:
        info = json.loads(fake.stdout.readline())
        ids: list[str] = info["ids"]
        key = f"bench-polls-{time.time_ns()}"
        timeout = args.window + 10.0
        results: list[dict[str, Any]] = []
        ready = anyio.Semaphore(0)
        go = anyio.Event()
        start = 0.0

        async def waiter(share: list[str]) -> None:
            options = {
                "url": info["url"],
                "redis": redis_url,
                "key": key,
                "ids": share,
                "timeout": timeout,
                "interval": args.interval,
            }
            process = await anyio.open_process([sys.executable, "-c", WAITER, json.dumps(options)])
            async with process:
                assert process.stdin is not None
                assert process.stdout is not None
                out = b""
                while b"ready" not in out:
                    out += await process.stdout.receive()
                ready.release()
                await go.wait()
                await process.stdin.send(f"{start}\n".encode())
                async for chunk in process.stdout:
                    out += chunk
                await process.wait()
            results.append(json.loads(out.split(b"ready", 1)[1]))

        with anyio.fail_after(timeout + 120):
            async with anyio.create_task_group() as group:
                for i in range(processes):
                    group.start_soon(waiter, ids[i::processes])
                for _ in range(processes):
                    await ready.acquire()
                start = time.time() + 0.5
                fake.stdin.write(f"{start}\n")
                fake.stdin.flush()
                go.set()
        fake.stdin.write("stop\n")
        fake.stdin.flush()
        report = json.loads(fake.stdout.readline())
    finally:
        fake.kill()
        fake.wait(timeout=10)
        for stream in (fake.stdin, fake.stdout):
            if stream is not None:
                stream.close()
    live_at: dict[str, float] = report["live_at"]
    woke = {m: t for r in results for m, t in r["woke"].items()}
    latencies = [woke[m] - live_at[m] for m in woke if m in live_at]
    intervals = args.window / args.interval
    reads = {k: sum(r["reads"][k] for r in results) for k in ("sent", "shared", "direct")}
    return {
        "cell": f"{processes}p-{'redis' if redis_url else 'alone'}",
        "poll_reads": reads,
        "processes": processes,
        "redis": redis_url is not None,
        "meetings": args.meetings,
        "saw_live": len(woke),
        "requests": report["requests"],
        "requests_per_interval": round(report["requests"] / intervals, 2),
        "list_reads_per_interval": round(report["list_reads"] / intervals, 2),
        "requests_by_route": report["by_route"],
        "wake_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "wake_p99_s": round(percentile(latencies, 0.99), 3),
        "wake_max_s": round(max(latencies, default=0.0), 3),
    }


async def webhook_cell(redis_url: str, rounds: int) -> dict[str, Any]:
    from dyte_async import AsyncDyte, LivestreamStatus, RateLimit
    from dyte_async.testing import FakeDyte
    from dyte_async.webhooks import LivestreamStatusUpdate, WebhookMeeting

    fake = FakeDyte(go_live_after=None, rate_limit=None)
    key = f"bench-webhook-{time.time_ns()}"
    latencies: list[float] = []
    async with fake.serve() as url:
        process = await anyio.open_process(
            [sys.executable, "-c", WEBHOOK_WAITER, url, redis_url, key]
        )
        async with (
            process,
            AsyncDyte(
                "fake-org-id",
                "fake-api-key",
                base_url=url,
                redis=redis_url,
                rate_limit=RateLimit(100_000, per=60),
                rate_limit_key=key,
            ) as web,
        ):
            assert process.stdin is not None
            assert process.stdout is not None
            lines = process.stdout
            buffer = b""

            async def line() -> bytes:
                nonlocal buffer
                while b"\n" not in buffer:
                    buffer += await lines.receive()
                head, _, buffer = buffer.partition(b"\n")
                return head

            for _ in range(rounds):
                meeting = fake.add_meeting(title="hook", live_stream_on_start=True)["id"]
                fake.start_meeting(meeting)
                stream = (fake.active_livestream(meeting) or {})["id"]
                await process.stdin.send(f"{meeting}\n".encode())
                assert await line() == b"ready"
                fake.set_status(meeting, "LIVE")
                sent = time.time()
                web.livestreams.notify(
                    LivestreamStatusUpdate(
                        event="livestreaming.statusUpdate",
                        stream_id=stream,
                        status=LivestreamStatus.LIVE,
                        meeting=WebhookMeeting(id=meeting),
                    )
                )
                latencies.append(json.loads(await line())["woke"] - sent)
            await process.stdin.send(b"\n")
            await process.wait()
    return {
        "cell": "webhook",
        "rounds": rounds,
        "poll_interval_s": 30,
        "wake_p50_s": round(statistics.median(latencies), 4),
        "wake_max_s": round(max(latencies), 4),
    }


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per waits cell")
    parser.add_argument("--quick", action="store_true", help="a small run (smoke)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument(
        "--cells", help="only these cells, comma-separated (e.g. 1p-alone,4p-redis,webhook)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.meetings, args.window, args.repeat = 100, 5.0, 1
    wanted = set(args.cells.split(",")) if args.cells else None
    cells: list[dict[str, Any]] = []
    with RedisServer() as redis:
        for processes in (1, 4, 8):
            for url in (None, redis.url):
                name = f"{processes}p-{'redis' if url else 'alone'}"
                if wanted is None or name in wanted:
                    cells.append(await waits_cell(processes, url, args))
        if wanted is None or "webhook" in wanted:
            cells.append(await webhook_cell(redis.url, 5 if args.quick else 20))
        kind = redis.kind
    base = next((c for c in cells if c["cell"] == "1p-alone"), None)
    for cell in cells:
        if base is not None and "requests_per_interval" in cell:
            ratio = cell["requests_per_interval"] / base["requests_per_interval"]
            cell["vs_one_process"] = round(ratio, 2)
    report = {"redis": kind, "interval_s": args.interval, "cells": cells}
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        await anyio.Path(args.json).write_text(text + "\n")
    return report


if __name__ == "__main__":
    anyio.run(main)
