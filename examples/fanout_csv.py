"""Start (or stop) the livestreams of every meeting in a CSV file, 20 at a time.

    DYTE_ORG_ID=... DYTE_API_KEY=... python examples/fanout_csv.py meetings.csv start
    DYTE_ORG_ID=... DYTE_API_KEY=... python examples/fanout_csv.py meetings.csv stop

The CSV has a `meeting_id` column. Each row's outcome is printed as it finishes; one
failure never stops the others; the exit status is 1 when any failed, 2 for bad usage.
(`dyte-async livestreams start --from-file meetings.csv --failed-out failed.csv` does the
same from the shell, and writes the meetings to run again with `--from-file failed.csv`.)
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from dyte_async import AsyncDyte

ACTIONS = ("start", "stop")


def read_meeting_ids(path: str) -> list[str]:
    """The `meeting_id` column of a CSV file, blank cells skipped."""
    with open(path, newline="", encoding="utf-8") as fh:
        ids = (row.get("meeting_id") or "" for row in csv.DictReader(fh))
        return [mid.strip() for mid in ids if mid.strip()]


async def run(dyte: AsyncDyte, meeting_ids: list[str], action: str) -> Counter[str]:
    """Apply `action` ("start" or "stop") to every meeting; count outcomes by kind."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
    fn: Callable[[str], Awaitable[Any]] = (
        dyte.livestreams.start if action == "start" else dyte.livestreams.stop
    )
    counts: Counter[str] = Counter()
    async with dyte.map(fn, meeting_ids, concurrency=20) as outcomes:
        async for outcome in outcomes:
            kind = "ok" if outcome.ok else type(outcome.error).__name__
            counts[kind] += 1
            print(f"{outcome.item}: {kind}", flush=True)
    return counts


async def main(path: str, action: str) -> int:
    """Read the CSV, run `action` over it with a client from the environment, print totals."""
    meeting_ids = read_meeting_ids(path)
    async with AsyncDyte() as dyte:
        counts = await run(dyte, meeting_ids, action)
    print(dict(counts))
    return 0 if set(counts) <= {"ok"} else 1


def cli(argv: Sequence[str]) -> int:
    """`python examples/fanout_csv.py FILE start|stop`."""
    if len(argv) != 2 or argv[1] not in ACTIONS:
        print(f"usage: fanout_csv.py FILE {'|'.join(ACTIONS)}", file=sys.stderr)
        return 2
    return anyio.run(main, argv[0], argv[1])


if __name__ == "__main__":
    raise SystemExit(cli(sys.argv[1:]))
