"""Run every benchmark: `python -m benchmarks` or `python benchmarks/run.py` (`--quick`: smoke run).

Phases (one server process, clients in this process, CPU by `time.process_time`):

1. throughput: each client in `clients.CLIENTS` at each concurrency, in rounds; within a
   round the clients take turns in a rotated order (A/B alternation), so machine drift
   hits all of them alike. Each turn is a fresh event loop: open, warm up (one call per
   worker), then `--duration` seconds of calls measured. Results: requests/s, client CPU
   per request, p50/p99 latency;
2. decode: `json.loads` alone vs `json.loads` + cattrs per livestream body;
3. import: `import dyte_async` vs `import httpx`, fresh interpreters, alternated, bytecode
   compiled beforehand for both (as installed from a wheel); also `import dyte_async` plus
   what precedes a first request (`AsyncDyte(...)`, `.livestreams`, the models);
4. fan-out: 1,000 `get_active` calls at once against the server limited to 50/s, the
   client configured with the same limit: makespan vs the theoretical minimum, and 429s.

Writes `results.json`, `results.md` and `throughput.png` to `--out` (benchmarks/results).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

import anyio

from benchmarks.clients import CLIENTS, MEETING, Client
from benchmarks.report import write_report

HERE = Path(__file__).resolve().parent
SERVER = HERE / "server.py"


# -- the server process ------------------------------------------------------------------------


@contextlib.contextmanager
def server(*args: str) -> Iterator[str]:
    """Start benchmarks/server.py in its own process; yield its base URL."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _server_stats(base: str, path: str = "/__stats", method: str = "GET") -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(base + path, method=method)
    with urllib.request.urlopen(request, timeout=5) as answer:
        return dict(json.loads(answer.read()))


# -- phase 1: throughput -----------------------------------------------------------------------


@dataclass
class Sample:
    requests: int = 0
    errors: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error_kinds: dict[str, int] = field(default_factory=dict)
    #: seconds this process was runnable but waited for a CPU (Linux; None elsewhere)
    cpu_wait: float | None = None


def _cpu_wait() -> float | None:
    """Seconds this process has spent runnable but waiting for a CPU (the scheduler's
    run queue), from /proc/self/schedstat; None where the kernel does not say.

    Client CPU per request (`time.process_time`) cannot show it: a client starved of CPU
    by other processes (a CI run on the same 2 cores) looks as if it waited for the
    network, with few requests per second for its CPU time.
    """
    try:
        with open("/proc/self/schedstat") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


async def _drive(client: Client, base: str, concurrency: int, duration: float) -> Sample:
    sample = Sample()
    async with client.open(base) as call:
        # Warm up: one call per worker opens the connections the pool will keep.
        async def once() -> None:
            await call()

        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(once)
        gc.collect()
        latencies = sample.latencies
        clock = time.perf_counter
        deadline = clock() + duration

        async def worker() -> None:
            while clock() < deadline:
                began = clock()
                try:
                    await call()
                except Exception as exc:
                    sample.errors += 1
                    kind = type(exc).__name__
                    sample.error_kinds[kind] = sample.error_kinds.get(kind, 0) + 1
                    continue
                latencies.append(clock() - began)

        waited0 = _cpu_wait()
        cpu0, wall0 = time.process_time(), clock()
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(worker)
        sample.wall = clock() - wall0
        sample.cpu = time.process_time() - cpu0
        waited1 = _cpu_wait()
        if waited0 is not None and waited1 is not None:
            sample.cpu_wait = waited1 - waited0
    sample.requests = len(latencies)
    return sample


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


def throughput(
    base: str, clients: Sequence[Client], levels: Sequence[int], rounds: int, duration: float
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for concurrency in levels:
        totals = {client.key: Sample() for client in clients}
        for round_no in range(rounds):
            shift = round_no % len(clients)
            order = [*clients[shift:], *clients[:shift]]
            if round_no % 2:
                order.reverse()
            for client in order:
                sample = anyio.run(
                    _drive, client, base, concurrency, duration, backend=client.backend
                )
                total = totals[client.key]
                total.requests += sample.requests
                total.errors += sample.errors
                total.wall += sample.wall
                total.cpu += sample.cpu
                if sample.cpu_wait is not None:
                    total.cpu_wait = (total.cpu_wait or 0.0) + sample.cpu_wait
                total.latencies.extend(sample.latencies)
                for kind, n in sample.error_kinds.items():
                    total.error_kinds[kind] = total.error_kinds.get(kind, 0) + n
                print(
                    f"  c={concurrency:<5} round {round_no + 1}/{rounds} {client.key:<22}"
                    f" {sample.requests / sample.wall:8.0f} req/s"
                    f" {1e6 * sample.cpu / max(1, sample.requests):7.0f} us CPU/req"
                    f" {100 * sample.cpu / sample.wall:4.0f} % on a CPU"
                    + (
                        f" {100 * sample.cpu_wait / sample.wall:3.0f} % waiting for one"
                        if sample.cpu_wait is not None
                        else ""
                    )
                    + (f"  errors {sample.errors}" if sample.errors else ""),
                    flush=True,
                )
        for client in clients:
            total = totals[client.key]
            latencies = sorted(total.latencies)
            rows.append(
                {
                    "client": client.key,
                    "label": client.label,
                    "backend": client.backend,
                    "baseline": client.baseline,
                    "concurrency": concurrency,
                    "requests": total.requests,
                    "errors": total.errors,
                    "error_kinds": total.error_kinds,
                    "seconds": total.wall,
                    "rps": total.requests / total.wall if total.wall else 0.0,
                    "cpu_us_per_request": 1e6 * total.cpu / max(1, total.requests),
                    # shares of the wall time: running, and runnable but not running
                    "cpu_share": total.cpu / total.wall if total.wall else math.nan,
                    "cpu_wait_share": (
                        total.cpu_wait / total.wall
                        if total.wall and total.cpu_wait is not None
                        else None
                    ),
                    "p50_ms": 1e3 * _percentile(latencies, 0.50),
                    "p99_ms": 1e3 * _percentile(latencies, 0.99),
                }
            )
    return rows


# -- phase 2: decode cost ----------------------------------------------------------------------


def decode_cost(number: int) -> dict[str, Any]:
    from benchmarks.server import LIVESTREAM_BODY
    from dyte_async._convert import structure
    from dyte_async.models import Livestream

    body = LIVESTREAM_BODY
    data = json.loads(body)["data"]

    def per_call(statement: Any) -> float:
        runs = timeit.repeat(statement, number=number, repeat=5)
        return 1e6 * min(runs) / number

    result: dict[str, Any] = {
        "json_loads_us": per_call(lambda: json.loads(body)),
        "cattrs_structure_us": per_call(lambda: structure(data, Livestream)),
        "json_loads_and_structure_us": per_call(
            lambda: structure(json.loads(body)["data"], Livestream)
        ),
    }
    with contextlib.suppress(ImportError):
        import orjson

        result["orjson_loads_us"] = per_call(lambda: orjson.loads(body))
        result["orjson_loads_and_structure_us"] = per_call(
            lambda: structure(orjson.loads(body)["data"], Livestream)
        )
    result["structure_over_json_loads"] = (
        result["json_loads_and_structure_us"] / result["json_loads_us"]
    )
    return result


# -- phase 3: import time ----------------------------------------------------------------------

_IMPORT = (
    "import time, sys; t = time.perf_counter(); {statement}; "
    "print(time.perf_counter() - t, int('aiohttp' in sys.modules))"
)
#: what is timed: the import alone, and what a program does before its first request.
_IMPORTS = {
    "httpx": "import httpx",
    "dyte_async": "import dyte_async",
    "dyte_async_ready": (
        "import dyte_async; dyte_async.AsyncDyte('org', 'key').livestreams; dyte_async.Livestream"
    ),
}


def import_time(repeats: int) -> dict[str, Any]:
    """Fresh interpreters, alternated, each module's bytecode already compiled.

    Installed from a wheel, both packages run from compiled bytecode; this source tree is
    often used with PYTHONDONTWRITEBYTECODE=1, which would compile dyte_async on every run
    and not httpx. So both are compiled into a private cache first (PYTHONPYCACHEPREFIX).
    """
    import tempfile

    times: dict[str, list[float]] = {key: [] for key in _IMPORTS}
    aiohttp_loaded = False
    with tempfile.TemporaryDirectory(prefix="dyte-bench-pycache-") as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for round_no in range(repeats + 1):  # round 0 compiles the bytecode: not counted
            for key, statement in _IMPORTS.items():
                out = subprocess.run(
                    [sys.executable, "-c", _IMPORT.format(statement=statement)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=HERE.parent,
                    env=env,
                ).stdout.split()
                if round_no == 0:
                    continue
                times[key].append(float(out[0]))
                aiohttp_loaded = aiohttp_loaded or (key == "dyte_async" and out[1] == "1")
    httpx_ms = 1e3 * statistics.median(times["httpx"])
    dyte_ms = 1e3 * statistics.median(times["dyte_async"])
    ready_ms = 1e3 * statistics.median(times["dyte_async_ready"])
    return {
        "httpx_ms": httpx_ms,
        "dyte_async_ms": dyte_ms,
        "ratio": dyte_ms / httpx_ms,
        "dyte_async_ready_ms": ready_ms,
        "ready_ratio": ready_ms / httpx_ms,
        "repeats": repeats,
        "dyte_async_imports_aiohttp": aiohttp_loaded,
    }


# -- phase 4: rate-limited fan-out -------------------------------------------------------------


async def _fan_out(base: str, calls: int, limit: int, per: float) -> dict[str, Any]:
    from dyte_async import AsyncDyte, RateLimit

    failures: dict[str, int] = {}
    async with AsyncDyte(
        "bench-org", "bench-key", base_url=base + "/v2", rate_limit=RateLimit(limit, per)
    ) as client:
        await anyio.to_thread.run_sync(_server_stats, base, "/__reset", "POST")
        before = client.stats()

        async def one() -> None:
            try:
                await client.livestreams.get_active(MEETING, timeout=300)
            except Exception as exc:
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1

        began = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(calls):
                group.start_soon(one)
        makespan = time.perf_counter() - began
        after = client.stats()
    served = await anyio.to_thread.run_sync(_server_stats, base)
    # The server accepts `limit` arrivals in any `per` window: arrival i + limit comes at
    # least `per` after arrival i, so the last burst of `limit` arrives at least
    # (ceil(calls / limit) - 1) * per after the first, however fast the client.
    minimum = (math.ceil(calls / limit) - 1) * per
    return {
        "calls": calls,
        "limit": f"{limit}/{per:g}s",
        "makespan_s": makespan,
        "theoretical_min_s": minimum,
        "over_min": makespan / minimum - 1 if minimum else math.nan,
        "client_429s": after.rate_limited - before.rate_limited,
        "server_429s": served["rejected"],
        "server_requests": served["requests"],
        "retries": after.retries - before.retries,
        "failures": failures,
    }


def fan_out(calls: int, backends: Sequence[str]) -> list[dict[str, Any]]:
    results = []
    with server("--rate-limit", "50/1") as base:
        for backend in backends:
            result = anyio.run(_fan_out, base, calls, 50, 1.0, backend=backend)
            result["backend"] = backend
            print(
                f"  fan-out on {backend}: {result['makespan_s']:.2f} s for {calls} calls"
                f" (minimum {result['theoretical_min_s']:.0f} s), 429s: {result['server_429s']}",
                flush=True,
            )
            results.append(result)
    return results


# -- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (~3.5 min)")
    parser.add_argument("--levels", default="1,10,100,1000", help="concurrency levels")
    parser.add_argument("--rounds", type=int, default=None, help="A/B rounds per level")
    parser.add_argument("--duration", type=float, default=None, help="seconds per turn")
    parser.add_argument("--clients", default=None, help="comma-separated client keys")
    parser.add_argument("--fan-out-calls", type=int, default=None)
    parser.add_argument("--skip", default="", help="phases to skip: throughput,decode,...")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)

    quick = args.quick
    rounds = args.rounds or (1 if quick else 3)
    duration = args.duration or (0.3 if quick else 1.0)
    levels = [int(x) for x in args.levels.split(",")]
    clients = [c for c in CLIENTS if c.available()]
    if args.clients:
        wanted = args.clients.split(",")
        clients = [c for c in clients if c.key in wanted]
    skip = set(filter(None, args.skip.split(",")))
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "versions": _versions(),
        },
        "settings": {
            "quick": quick,
            "rounds": rounds,
            "duration_s": duration,
            "levels": levels,
        },
    }
    if "throughput" not in skip:
        print("throughput (server: benchmarks/server.py, own process)", flush=True)
        with server() as base:
            results["throughput"] = throughput(base, clients, levels, rounds, duration)
    if "decode" not in skip:
        print("decode cost", flush=True)
        results["decode"] = decode_cost(2_000 if quick else 20_000)
    if "import" not in skip:
        print("import time", flush=True)
        results["import"] = import_time(3 if quick else 7)
    if "fanout" not in skip:
        print("rate-limited fan-out (server limit 50/s)", flush=True)
        calls = args.fan_out_calls or (200 if quick else 1000)
        results["fan_out"] = fan_out(calls, ["asyncio"] if quick else ["asyncio", "trio"])
    results["elapsed_s"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_report(results, args.out)
    print(f"done in {results['elapsed_s']:.0f} s: {args.out}/results.md", flush=True)
    return 0


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in (
        "httpx",
        "httpcore",
        "aiohttp",
        "httpx-aiohttp",
        "anyio",
        "trio",
        "cattrs",
        "orjson",
        "cloudflare",
    ):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


if __name__ == "__main__":
    raise SystemExit(main())
