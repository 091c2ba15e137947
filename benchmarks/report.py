"""Turn benchmarks/results/results.json into results.md and throughput.png."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The targets, checked in the report.
TARGET_VS_HTTPX = 2.0  # dyte_async at c=100 and 1000: >= 2x raw httpx (httpcore)
TARGET_VS_AIOHTTP = {1: 0.9, 100: 0.8, 1000: 0.8}  # default layers on, vs raw aiohttp
TARGET_LAYERS_US = 60.0  # CPU per request over raw aiohttp at c=100
TARGET_OVERHEAD = 0.15  # CPU of our layers on top of their transport
TARGET_FANOUT = 0.10  # makespan within 10 % of the minimum
TARGET_IMPORT = 1.2  # import dyte_async / import httpx

DEFAULT_DYTE = {"asyncio": "dyte[aiohttp]", "trio": "trio:dyte"}
#: dyte_async with its default layers on (the rate limiter on, not binding).
LAYERED_DYTE = {"asyncio": "dyte[aiohttp]+limiter", "trio": "trio:dyte+limiter"}
PEER = "cloudflare[aiohttp]"


def _index(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(row["client"], row["concurrency"]): row for row in rows}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def _fmt(value: float, digits: int = 0) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def throughput_tables(rows: Sequence[dict[str, Any]], levels: Sequence[int]) -> list[str]:
    index = _index(rows)
    clients = list(dict.fromkeys(row["client"] for row in rows))
    labels = {row["client"]: row["label"] for row in rows}
    out = ["## Throughput (requests/s; ratios vs raw httpx and raw aiohttp on asyncio)", ""]
    head = "| client | " + " | ".join(f"c={c}" for c in levels) + " |"
    out += [head, "|---|" + "---|" * len(levels)]
    for key in clients:
        cells = []
        for c in levels:
            row = index.get((key, c))
            if row is None:
                cells.append("")
                continue
            httpx_row, aio_row = index.get(("httpx", c)), index.get(("aiohttp", c))
            cell = _fmt(row["rps"])
            if httpx_row and aio_row and key not in ("httpx", "aiohttp"):
                cell += (
                    f" ({_ratio(row['rps'], httpx_row['rps'])} httpx,"
                    f" {_ratio(row['rps'], aio_row['rps'])} aiohttp)"
                )
            if row["errors"]:
                cell += f" **{row['errors']} errors**"
            cells.append(cell)
        out.append(f"| {labels[key]} | " + " | ".join(cells) + " |")
    out += ["", "## Client CPU per request (us) and latency p50 / p99 (ms)", ""]
    out += [head, "|---|" + "---|" * len(levels)]
    for key in clients:
        cells = []
        for c in levels:
            row = index.get((key, c))
            cells.append(
                ""
                if row is None
                else f"{_fmt(row['cpu_us_per_request'])} us; "
                f"{_fmt(row['p50_ms'], 2)} / {_fmt(row['p99_ms'], 2)}"
            )
        out.append(f"| {labels[key]} | " + " | ".join(cells) + " |")
    if any(row.get("cpu_wait_share") is not None for row in rows):
        out += [
            "",
            "## The client process: on a CPU / waiting for one (% of the wall time)",
            "",
            "Waiting for a CPU (the scheduler's run queue: other processes on the machine) "
            "is not waiting for the network: a starved client shows few requests per second "
            "and a long p50 for its CPU per request. Compare ratios only between cells that "
            "waited alike.",
            "",
            head,
            "|---|" + "---|" * len(levels),
        ]
        for key in clients:
            cells = []
            for c in levels:
                row = index.get((key, c))
                waited = None if row is None else row.get("cpu_wait_share")
                cells.append(
                    ""
                    if row is None or waited is None
                    else f"{100 * row['cpu_share']:.0f} % / {100 * waited:.0f} %"
                )
            out.append(f"| {labels[key]} | " + " | ".join(cells) + " |")
    out += [
        "",
        "## CPU of our layers on top of the same transport",
        "",
        "dyte_async's `get_active` (auth header, rate limiter, retry bookkeeping, deadline, "
        "envelope and cattrs decode, and the watchdog on httpcore) against raw httpx on the "
        "same transport reading the bytes. Below zero: on the client it builds, dyte_async "
        "hands requests to the transport itself instead of `AsyncClient.send`, which costs "
        "more than all of its own layers.",
        "",
        head,
        "|---|" + "---|" * len(levels),
    ]
    for key in clients:
        baseline = next((row["baseline"] for row in rows if row["client"] == key), None)
        if not baseline:
            continue
        cells = []
        for c in levels:
            row, base = index.get((key, c)), index.get((baseline, c))
            if not row or not base:
                cells.append("")
                continue
            extra = row["cpu_us_per_request"] - base["cpu_us_per_request"]
            share = 100 * extra / base["cpu_us_per_request"]
            cells.append(f"{extra:+,.0f} us ({share:+.0f} %)")
        out.append(
            f"| {labels[key]} vs {labels.get(baseline, baseline)} | " + " | ".join(cells) + " |"
        )
    return out


def targets(results: dict[str, Any]) -> list[str]:
    out = ["## Targets", ""]
    rows = results.get("throughput", [])
    index = _index(rows)
    for c, wanted in TARGET_VS_AIOHTTP.items():
        layered, aio = index.get((LAYERED_DYTE["asyncio"], c)), index.get(("aiohttp", c))
        if layered and aio:
            ratio = layered["rps"] / aio["rps"]
            extra = layered["cpu_us_per_request"] - aio["cpu_us_per_request"]
            line = (
                f"- c={c}: dyte_async, default layers on (limiter on, not binding): "
                f"{ratio:.2f}x raw aiohttp (target >= {wanted:g}x: {_ok(ratio >= wanted)}); "
                f"CPU {extra:+.0f} us per request over raw aiohttp"
            )
            if c == 100:
                line += f" (target <= {TARGET_LAYERS_US:g} us: {_ok(extra <= TARGET_LAYERS_US)})"
            peer = index.get((PEER, c))
            if peer:
                line += f"; {layered['rps'] / peer['rps']:.1f}x the Cloudflare SDK on aiohttp"
            out.append(line)
        trio_layered = index.get((LAYERED_DYTE["trio"], c))
        if trio_layered and aio:
            out.append(
                f"- c={c}, trio (limiter on): {trio_layered['rps'] / aio['rps']:.2f}x raw "
                f"aiohttp on asyncio, {trio_layered['rps']:,.0f} requests/s"
            )
    for c in (100, 1000):
        dyte, httpx_row, aio = (
            index.get((DEFAULT_DYTE["asyncio"], c)),
            index.get(("httpx", c)),
            index.get(("aiohttp", c)),
        )
        if dyte and httpx_row and aio:
            vs_httpx = dyte["rps"] / httpx_row["rps"]
            vs_aio = dyte["rps"] / aio["rps"]
            out.append(
                f"- c={c}: dyte_async, limiter off, {vs_httpx:.2f}x raw httpx "
                f"(target >= {TARGET_VS_HTTPX:g}x: {_ok(vs_httpx >= TARGET_VS_HTTPX)}), "
                f"{vs_aio:.2f}x raw aiohttp"
            )
        trio_dyte, trio_httpx = index.get((DEFAULT_DYTE["trio"], c)), index.get(("trio:httpx", c))
        if trio_dyte and trio_httpx:
            out.append(
                f"- c={c}, trio: dyte_async {trio_dyte['rps'] / trio_httpx['rps']:.2f}x raw httpx "
                "on trio (httpcore on both: no 2x possible from the transport)"
            )
    for key in DEFAULT_DYTE.values():
        worst = None
        for row in rows:
            if row["client"] != key or not row["baseline"]:
                continue
            base = index.get((row["baseline"], row["concurrency"]))
            if base:
                share = row["cpu_us_per_request"] / base["cpu_us_per_request"] - 1
                worst = share if worst is None else max(worst, share)
        if worst is not None:
            out.append(
                f"- CPU of our layers ({key}), worst level: {100 * worst:+.0f} % "
                f"(target <= {100 * TARGET_OVERHEAD:.0f} %: {_ok(worst <= TARGET_OVERHEAD)})"
            )
    if "import" in results:
        ratio = results["import"]["ratio"]
        out.append(
            f"- import dyte_async / import httpx: {ratio:.2f}x "
            f"(target <= {TARGET_IMPORT:g}x: {_ok(ratio <= TARGET_IMPORT)})"
        )
    for run in results.get("fan_out", []):
        over = run["over_min"]
        out.append(
            f"- fan-out on {run['backend']}: {100 * over:+.1f} % over the minimum "
            f"(target <= {100 * TARGET_FANOUT:.0f} %: {_ok(over <= TARGET_FANOUT)}), "
            f"{run['server_429s']} 429s (target 0: {_ok(run['server_429s'] == 0)})"
        )
    return out


def _ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def render(results: dict[str, Any]) -> str:
    settings = results["settings"]
    machine = results["machine"]
    out = [
        "# dyte_async benchmarks",
        "",
        f"Python {machine['python']} on {machine['platform']}, {machine['cpus']} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
        + ".",
        f"Rounds {settings['rounds']} x {settings['duration_s']} s per client and level"
        + (" (quick run: indicative only)" if settings["quick"] else "")
        + f"; total {results.get('elapsed_s', 0):.0f} s. "
        "Server: benchmarks/server.py in its own process, answering at once with a "
        "spec-shaped livestream; 100 connections per client.",
        "",
    ]
    out += [*targets(results), ""]
    if "throughput" in results:
        out += [*throughput_tables(results["throughput"], settings["levels"]), ""]
    if "decode" in results:
        d = results["decode"]
        out += [
            "## Decode cost per livestream body",
            "",
            f"- `json.loads`: {d['json_loads_us']:.1f} us; cattrs structure alone: "
            f"{d['cattrs_structure_us']:.1f} us; both: {d['json_loads_and_structure_us']:.1f} us "
            f"({d['structure_over_json_loads']:.1f}x json.loads alone)",
        ]
        if "orjson_loads_us" in d:
            out.append(
                f"- orjson.loads: {d['orjson_loads_us']:.1f} us; orjson + structure: "
                f"{d['orjson_loads_and_structure_us']:.1f} us"
            )
        out.append("")
    if "import" in results:
        i = results["import"]
        out += [
            "## Import time (median of fresh interpreters)",
            "",
            f"- `import httpx` {i['httpx_ms']:.0f} ms, "
            f"`import dyte_async` {i['dyte_async_ms']:.0f} ms "
            f"({i['ratio']:.2f}x); aiohttp imported by `import dyte_async`: "
            f"{i['dyte_async_imports_aiohttp']}",
        ]
        if "dyte_async_ready_ms" in i:
            out.append(
                f"- `import dyte_async` + `AsyncDyte(...)` + `.livestreams` + the models "
                f"(all a first request needs but aiohttp): {i['dyte_async_ready_ms']:.0f} ms "
                f"({i['ready_ratio']:.2f}x `import httpx`)"
            )
        out += [
            "- both from compiled bytecode (a private cache, compiled before timing)",
            "",
        ]
    for run in results.get("fan_out", []):
        out += [
            f"## Rate-limited fan-out ({run['backend']})",
            "",
            f"- {run['calls']} `get_active` calls at once, server and client limit {run['limit']}: "
            f"makespan {run['makespan_s']:.2f} s, theoretical minimum "
            f"{run['theoretical_min_s']:.2f} s ({100 * run['over_min']:+.1f} %); "
            f"429s: {run['server_429s']} (client saw {run['client_429s']}), retries "
            f"{run['retries']}, failures {run['failures'] or 'none'}",
            "",
        ]
    return "\n".join(out)


def chart(results: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install 'dyte-async[bench]')")
        return False
    rows = results.get("throughput", [])
    if not rows:
        return False
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for key in dict.fromkeys(row["client"] for row in rows):
        mine = sorted((r for r in rows if r["client"] == key), key=lambda r: r["concurrency"])
        xs = [r["concurrency"] for r in mine]
        style = "-" if key.startswith(("dyte", "trio:dyte")) else "--"
        left.plot(xs, [r["rps"] for r in mine], style, marker="o", label=mine[0]["label"])
        right.plot(xs, [r["cpu_us_per_request"] for r in mine], style, marker="o")
    for axis, title in ((left, "requests/s"), (right, "client CPU per request (us)")):
        axis.set_xscale("log")
        axis.set_xlabel("concurrency")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    right.set_yscale("log")
    left.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def write_report(results: dict[str, Any], out: Path) -> None:
    (out / "results.md").write_text(render(results) + "\n")
    chart(results, out / "throughput.png")


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results"
    write_report(json.loads((folder / "results.json").read_text()), folder)
