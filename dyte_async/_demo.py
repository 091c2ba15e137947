"""`python -m dyte_async demo`: the whole livestream flow against the embedded fake."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from dyte_async.models import Livestream

if TYPE_CHECKING:
    from dyte_async._client import AsyncDyte

__all__ = ["run_demo"]


def _say(text: str, *, started: float, as_json: bool, **fields: Any) -> None:
    elapsed = time.monotonic() - started
    if as_json:
        print(json.dumps({"t": round(elapsed, 3), "step": text, **fields}, default=str), flush=True)
    else:
        print(f"[{elapsed:6.2f}s] {text}", flush=True)


async def run_demo(
    *,
    meetings: int = 1,
    go_live_after: float = 1.5,
    as_json: bool = False,
    show_secrets: bool = False,
) -> int:
    """Create meetings, start their livestreams, wait for LIVE, print playback URLs, stop.

    Args:
        meetings: how many meetings to run at once (the fan-out path when > 1).
        go_live_after: seconds the fake takes from start to LIVE.
        as_json: print one JSON object per step.
        show_secrets: print the stream key as it is.

    Returns:
        The exit status (0 when every meeting went LIVE and stopped).
    """
    from dyte_async.testing import FakeDyte

    started = time.monotonic()
    fake = FakeDyte(go_live_after=go_live_after, offline_after=min(0.3, go_live_after / 3))
    _say(
        f"embedded fake Dyte ready at {fake.base_url} (no network)",
        started=started,
        as_json=as_json,
    )
    async with fake.client() as dyte:
        if meetings <= 1:
            return await _one(dyte, started=started, as_json=as_json, show_secrets=show_secrets)
        return await _many(dyte, meetings, started=started, as_json=as_json)


async def _one(dyte: AsyncDyte, *, started: float, as_json: bool, show_secrets: bool) -> int:
    meeting = await dyte.meetings.create(title="dyte_async demo")
    _say(f"created meeting {meeting.id}", started=started, as_json=as_json, meeting_id=meeting.id)
    ls: Livestream = await dyte.livestreams.start(meeting.id, name="demo")
    key = ls.stream_key if show_secrets else "<redacted>"
    _say(
        f"started livestream {ls.id}: status {ls.status}, ingest {ls.ingest_server}, "
        f"stream key {key}",
        started=started,
        as_json=as_json,
        status=str(ls.status),
    )
    async for seen in dyte.livestreams.watch(meeting.id, poll_interval=0.25):
        _say(f"status {seen.status}", started=started, as_json=as_json, status=str(seen.status))
        if seen.is_live:
            ls = seen
            break
    _say(
        f"LIVE: playback URL {ls.playback_url}",
        started=started,
        as_json=as_json,
        playback_url=ls.playback_url,
    )
    message = await dyte.livestreams.stop(meeting.id)
    _say(f"stopped: {message}", started=started, as_json=as_json)
    return 0


async def _many(dyte: AsyncDyte, count: int, *, started: float, as_json: bool) -> int:
    created = []
    async with dyte.map(
        lambda i: dyte.meetings.create(title=f"demo {i}"), range(count), concurrency=50
    ) as outcomes:
        async for outcome in outcomes:
            created.append(outcome.unwrap())
    ids = [m.id for m in created]
    _say(f"created {len(ids)} meetings", started=started, as_json=as_json)
    async with dyte.map(lambda mid: dyte.livestreams.start(mid), ids, concurrency=50) as outcomes:
        async for outcome in outcomes:
            outcome.unwrap()
    _say(f"started {len(ids)} livestreams; waiting for LIVE", started=started, as_json=as_json)
    live = 0
    async for ls in dyte.livestreams.wait_until_live_many(ids, timeout=60, poll_interval=0.25):
        live += 1
        _say(
            f"LIVE {live}/{len(ids)}: meeting {ls.meeting_id} at {ls.playback_url}",
            started=started,
            as_json=as_json,
            meeting_id=ls.meeting_id,
            playback_url=ls.playback_url,
        )
    async with dyte.map(dyte.livestreams.stop, ids, concurrency=50) as outcomes:
        async for outcome in outcomes:
            outcome.unwrap()
    stats = dyte.stats()
    _say(
        f"stopped {len(ids)} livestreams; {stats.requests} requests in all",
        started=started,
        as_json=as_json,
        requests=stats.requests,
    )
    return 0 if live == len(ids) else 1
