"""Start (or stop) the livestreams of every meeting in a CSV file, 20 at a time.

    python examples/fanout_csv.py meetings.csv start
    python examples/fanout_csv.py meetings.csv stop

The CSV has a `meeting_id` column. Each row's outcome is printed as it finishes; one
failure never stops the others; the exit status is 1 when any failed.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter

import anyio

from dyte_async import AsyncDyte


def read_meeting_ids(path: str) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["meeting_id"].strip() for row in csv.DictReader(fh) if row.get("meeting_id")]


async def run(dyte: AsyncDyte, meeting_ids: list[str], action: str) -> Counter[str]:
    """Apply `action` ("start" or "stop") to every meeting; count outcomes by kind."""
    fn = dyte.livestreams.start if action == "start" else dyte.livestreams.stop
    counts: Counter[str] = Counter()
    async with dyte.map(fn, meeting_ids, concurrency=20) as outcomes:
        async for outcome in outcomes:
            kind = "ok" if outcome.ok else type(outcome.error).__name__
            counts[kind] += 1
            print(f"{outcome.item}: {kind}", flush=True)
    return counts


async def main(path: str, action: str) -> int:
    async with AsyncDyte() as dyte:
        counts = await run(dyte, read_meeting_ids(path), action)
    print(dict(counts))
    return 0 if set(counts) <= {"ok"} else 1


if __name__ == "__main__":
    raise SystemExit(anyio.run(main, sys.argv[1], sys.argv[2]))
