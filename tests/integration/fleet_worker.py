"""One member of a fleet, run as its own OS process by the fleet tests and benchmark.

    python -m tests.integration.fleet_worker BASE_URL REDIS_URL|- KEY REQUESTS PER START

Waits until the wall-clock time START, sends REQUESTS `meetings.get` calls at once (no
retries) under `RateLimit(LIMIT, per=PER)`, and prints one JSON line: calls that succeeded,
429s, other errors, when its last call ended (wall clock), and its Redis round trips.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from dyte_async import AsyncDyte, RateLimit, RateLimitError


async def main(argv: list[str]) -> dict[str, object]:
    base_url, redis_url, key, meeting, requests, limit, per, start = argv
    client = AsyncDyte(
        "fake-org-id",
        "fake-api-key",
        base_url=base_url,
        rate_limit=RateLimit(int(limit), per=float(per)),
        redis=None if redis_url == "-" else redis_url,
        rate_limit_key=key,
        max_retries=0,
        timeout=120,
    )
    counts = {"ok": 0, "rate_limited": 0, "errors": 0}
    first: list[float] = []

    async def one() -> None:
        try:
            await client.meetings.get(meeting)
            counts["ok"] += 1
            first.append(time.time())
        except RateLimitError:
            counts["rate_limited"] += 1
        except Exception:
            counts["errors"] += 1

    async with client:
        await asyncio.sleep(max(0.0, float(start) - time.time()))
        await asyncio.gather(*(one() for _ in range(int(requests))))
        ended = time.time()
        calls = getattr(client._pipeline.limiter, "redis_calls", 0)
        stats = client.stats()
    return {
        **counts,
        "ended": ended,
        "first": min(first, default=ended),
        "redis_calls": calls,
        "fallbacks": stats.limiter_fallbacks,
        "waited": stats.limiter_wait_seconds,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))), flush=True)
