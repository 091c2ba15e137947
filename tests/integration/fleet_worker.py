"""One member of a fleet, run as its own OS process by the fleet tests and benchmark.

    python -m tests.integration.fleet_worker '{"base_url": ..., "redis": ... or null, ...}'

Options (JSON): base_url, redis (URL or null for the in-process limiter), key, meeting,
requests, limit, per, start (wall-clock time to begin at), concurrency (calls in flight,
default all at once).

Waits until `start`, sends `requests` `meetings.get` calls (no retries) under
`RateLimit(limit, per=per)`, and prints one JSON line: calls that succeeded, 429s, other
errors, its first and last answers (wall clock), Redis round trips, fallbacks, and every
call's limiter wait and duration.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from dyte_async import AsyncDyte, RateLimit, RateLimitError
from dyte_async._ratelimit import Limiter, Slot


class _Recording:
    """The client's limiter, recording each slot's wait."""

    def __init__(self, limiter: Limiter, waits: list[float]) -> None:
        self._limiter = limiter
        self._waits = waits
        self.waited_total = 0.0

    async def acquire_slot(self, *, deadline: float | None = None) -> Slot:
        slot = await self._limiter.acquire_slot(deadline=deadline)
        self._waits.append(slot.waited)
        return slot

    def release(self, slot: Slot) -> None:
        self._limiter.release(slot)

    def pause_for(self, seconds: float) -> None:
        self._limiter.pause_for(seconds)

    async def aclose(self) -> None:
        await self._limiter.aclose()


async def main(options: dict[str, Any]) -> dict[str, object]:
    client = AsyncDyte(
        "fake-org-id",
        "fake-api-key",
        base_url=options["base_url"],
        rate_limit=RateLimit(int(options["limit"]), per=float(options["per"])),
        redis=options.get("redis"),
        rate_limit_key=options.get("key"),
        max_retries=0,
        timeout=float(options.get("timeout", 300)),
        max_concurrency=max(100, int(options.get("concurrency", 100))),
    )
    counts = {"ok": 0, "rate_limited": 0, "errors": 0}
    answers: list[float] = []
    durations: list[float] = []
    waits: list[float] = []
    limiter = client._pipeline.limiter
    client._pipeline.limiter = _Recording(limiter, waits)
    gate = asyncio.Semaphore(int(options.get("concurrency", options["requests"])))

    async def one() -> None:
        async with gate:
            began = time.perf_counter()
            try:
                await client.meetings.get(options["meeting"])
                counts["ok"] += 1
                answers.append(time.time())
            except RateLimitError:
                counts["rate_limited"] += 1
            except Exception:
                counts["errors"] += 1
            durations.append(time.perf_counter() - began)

    async with client:
        await asyncio.sleep(max(0.0, float(options["start"]) - time.time()))
        began = time.time()
        await asyncio.gather(*(one() for _ in range(int(options["requests"]))))
        ended = time.time()
    return {
        **counts,
        "began": began,
        "ended": ended,
        "first": min(answers, default=ended),
        "redis_calls": getattr(limiter, "redis_calls", 0),
        "fallbacks": getattr(limiter, "fallbacks", 0),
        "waits": waits,
        "durations": durations,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))), flush=True)
