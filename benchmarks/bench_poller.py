"""The poller under 10,000 waiters, against FakeDyte over a real socket on 127.0.0.1.

    python -m benchmarks.bench_poller [--waiters 10000] [--interval 2] [--window 10]
                                      [--backend asyncio|trio] [--scenario ...] [--json PATH]

Scenarios (each with a fresh fake and a fresh client):

- ``distinct``: N tasks, each `wait_until_live` on its own meeting (the poller moves them
  to the org-wide list automatically);
- ``same``: N tasks, all `wait_until_live` on one meeting (coalesced to one poll);
- ``many``: one `wait_until_live_many` over N meetings.

For each: requests per poll interval while nothing changes (steady) and while the
meetings go LIVE at random moments within `--window` seconds, the time from a meeting
going LIVE (on the fake) to its waiter waking (median, p99, max), the memory per waiter
(tracemalloc, taken once every waiter is registered, with the task itself counted) and
the client's CPU time. A baseline gives the memory of a bare task blocked on an event.

The fake runs in a child process: its `GET /livestreams` filters every livestream on each
page (about 20 ms a page at 10,000), which would otherwise share the waiters' event loop.
Both processes read CLOCK_MONOTONIC, so their times compare. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from dyte_async import AsyncDyte

SCENARIOS = ("distinct", "same", "many")
LIST = "GET /livestreams"
ACTIVE = "GET /meetings/{meeting_id}/active-livestream"


# -- the child: the fake, driven over stdin/stdout ------------------------------------------


async def serve(n: int, seed: int) -> None:
    from dyte_async.testing import FakeDyte

    fake = FakeDyte(go_live_after=None, offline_after=None, rate_limit=None, seed=seed)
    meetings = []
    for _ in range(n):
        meeting = fake.add_meeting(title="bench", live_stream_on_start=True)
        fake.start_meeting(meeting["id"])
        meetings.append(meeting["id"])

    def reply(obj: Any) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    async def flip(ids: list[str], window: float, flip_seed: int) -> None:
        rng = random.Random(flip_seed)
        plan = sorted((rng.uniform(0, window), m) for m in ids)
        start = time.monotonic()
        went_live: dict[str, float] = {}
        for at, meeting_id in plan:
            await anyio.sleep(max(0.0, start + at - time.monotonic()))
            fake.set_status(meeting_id, "LIVE")
            went_live[meeting_id] = time.monotonic()
        reply({"went_live": went_live})

    async with fake.serve() as base_url, anyio.create_task_group() as tg:
        reply(
            {
                "base_url": base_url,
                "org_id": fake.org_id,
                "api_key": fake.api_key,
                "meetings": meetings,
            }
        )
        stdin = anyio.wrap_file(sys.stdin)
        async for line in stdin:
            command = json.loads(line)
            op = command["op"]
            if op == "requests":  # the request log since the last call, then forget it
                reply(
                    {
                        "requests": [
                            (r.at, r.route, r.query.get("page_no"), r.status) for r in fake.requests
                        ]
                    }
                )
                fake.reset_counters()
            elif op == "go":
                ids = meetings if command["which"] == "all" else meetings[:1]
                tg.start_soon(flip, ids, command["window"], command["seed"])
            elif op == "quit":
                break
        tg.cancel_scope.cancel()


# -- the parent ----------------------------------------------------------------------------


class Child:
    """The fake's process and its line protocol."""

    def __init__(self, process: anyio.abc.Process) -> None:
        self.process = process
        assert process.stdout is not None
        assert process.stdin is not None
        self._out = BufferedByteReceiveStream(process.stdout)
        self._in = process.stdin

    async def send(self, **command: Any) -> None:
        await self._in.send((json.dumps(command) + "\n").encode())

    async def receive(self) -> Any:
        line = await self._out.receive_until(b"\n", 1 << 30)
        return json.loads(line)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def per_interval(
    times: Sequence[float], start: float, end: float, interval: float
) -> dict[str, float]:
    """Requests per `interval`-long bucket between `start` and `end`: mean and max."""
    buckets = max(1, math.ceil((end - start) / interval))
    counts = [0] * buckets
    for t in times:
        if start <= t < end:
            counts[min(buckets - 1, int((t - start) / interval))] += 1
    return {
        "mean": round(sum(counts) / buckets, 2),
        "max": max(counts),
        "total": sum(counts),
        "intervals": buckets,
    }


async def baseline_task_memory(n: int) -> float:
    """Bytes per task blocked on an `anyio.Event` (what any waiting task costs)."""
    event = anyio.Event()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(event.wait)
        await anyio.sleep(0.2)
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        event.set()
    return used / n


async def run_scenario(
    scenario: str, n: int, interval: float, window: float, seed: int
) -> dict[str, Any]:
    meetings_needed = 1 if scenario == "same" else n
    command = [sys.executable, "-m", "benchmarks.bench_poller", "--serve", str(meetings_needed)]
    async with await anyio.open_process(command, stderr=None) as process:
        child = Child(process)
        config = await child.receive()
        meetings: list[str] = config["meetings"]
        woke: dict[str, float] = {}
        wake_times: list[float] = []
        async with AsyncDyte(
            config["org_id"],
            config["api_key"],
            base_url=config["base_url"],
            rate_limit=None,
        ) as dyte:
            livestreams = dyte.livestreams

            async def one(meeting_id: str) -> None:
                await livestreams.wait_until_live(
                    meeting_id, timeout=window + 60, poll_interval=interval
                )
                woke[meeting_id] = time.monotonic()

            async def same(meeting_id: str) -> None:
                await livestreams.wait_until_live(
                    meeting_id, timeout=window + 60, poll_interval=interval
                )
                wake_times.append(time.monotonic())

            async def many() -> None:
                async for ls in livestreams.wait_until_live_many(
                    meetings, timeout=window + 60, poll_interval=interval
                ):
                    woke[ls.meeting_id or ""] = time.monotonic()

            went_live: dict[str, float] = {}

            async def read_went_live() -> None:
                went_live.update((await child.receive())["went_live"])

            gc.collect()
            tracemalloc.start()
            memory_before = tracemalloc.get_traced_memory()[0]
            async with anyio.create_task_group() as tg:
                if scenario == "distinct":
                    for meeting_id in meetings:
                        tg.start_soon(one, meeting_id)
                elif scenario == "same":
                    for _ in range(n):
                        tg.start_soon(same, meetings[0])
                else:
                    tg.start_soon(many)
                # Every waiter registered and the first poll round done.
                await anyio.sleep(min(interval, 1.0) + 0.5)
                gc.collect()
                memory = tracemalloc.get_traced_memory()[0] - memory_before
                tracemalloc.stop()
                await child.send(op="requests")
                await child.receive()
                steady_start = time.monotonic()
                cpu_before = time.process_time()
                await anyio.sleep(4 * interval)
                steady_end = time.monotonic()
                cpu_steady = time.process_time()
                await child.send(
                    op="go", which="one" if scenario == "same" else "all", window=window, seed=seed
                )
                # Read the reply as soon as it comes: the child must never block on stdout.
                tg.start_soon(read_went_live)
            done = time.monotonic()
            cpu_window = time.process_time() - cpu_steady
            stats = dyte.stats()
        await child.send(op="requests")
        requests = (await child.receive())["requests"]
        await child.send(op="quit")

    times = [r[0] for r in requests if r[1] in (LIST, ACTIVE)]
    steady_times = [t for t in times if t < steady_end]
    if scenario == "same":
        live_at = went_live[meetings[0]]
        lags = [t - live_at for t in wake_times]
    else:
        lags = [woke[m] - went_live[m] for m in meetings if m in woke]
    window_start = min(went_live.values())
    routes: dict[str, int] = {}
    for r in requests:
        routes[r[1]] = routes.get(r[1], 0) + 1
    # A list round: from its first LIVE page to its ERRORED page (all pages in between).
    rounds = []
    begun: float | None = None
    for at, route, page_no, _ in sorted(requests, key=lambda r: r[0]):
        if route == LIST and page_no == "1" and begun is None:
            begun = at
        elif route == LIST and begun is not None and at - begun > 0 and page_no == "1":
            rounds.append(at - begun)  # the ERRORED page of the round (page 1 again)
            begun = None
    slowest = sorted(
        ((woke[m] - went_live[m], went_live[m] - window_start) for m in meetings if m in woke),
        reverse=True,
    )[:5]
    return {
        "scenario": scenario,
        "waiters": n,
        "meetings": len(meetings),
        "poll_interval_s": interval,
        "window_s": window,
        "woken": len(lags),
        "requests_per_interval_steady": per_interval(
            steady_times, steady_start, steady_end, interval
        ),
        "requests_per_interval_going_live": per_interval(times, window_start, done, interval),
        "requests_by_route": routes,
        "wake_latency_ms": {
            "median": round(statistics.median(lags) * 1000, 1) if lags else None,
            "p99": round(percentile(lags, 0.99) * 1000, 1),
            "max": round(max(lags) * 1000, 1) if lags else None,
        },
        "slowest_wakes_s": [
            {"lag": round(lag, 3), "went_live_at": round(at, 3)} for lag, at in slowest
        ],
        "list_round_s": {
            "median": round(statistics.median(rounds), 3) if rounds else None,
            "max": round(max(rounds), 3) if rounds else None,
            "rounds": len(rounds),
        },
        "memory_per_waiter_bytes": round(memory / n),
        "client_cpu_s": {
            "steady_per_interval": round((cpu_steady - cpu_before) / 4, 4),
            "going_live_total": round(cpu_window, 3),
        },
        "client_stats": {"requests": stats.requests, "retries": stats.retries},
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results = []
    for scenario in args.scenario:
        results.append(
            await run_scenario(scenario, args.waiters, args.interval, args.window, args.seed)
        )
    return {
        "python": sys.version.split()[0],
        "backend": args.backend,
        "cpus": os.cpu_count(),
        "baseline_task_memory_bytes": round(await baseline_task_memory(args.waiters)),
        "results": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_poller")
    parser.add_argument("--waiters", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=2.0, help="poll_interval (s)")
    parser.add_argument("--window", type=float, default=10.0, help="LIVE spread (s)")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.serve is not None:
        anyio.run(serve, args.serve, args.seed)
        return 0
    report = anyio.run(main_async, args, backend=args.backend)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
