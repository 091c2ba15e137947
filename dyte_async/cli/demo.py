"""`dyte-async demo`: the whole livestream flow against the embedded fake, step by step.

One meeting: create it, add a host (a join token for the front end), start its livestream,
watch the status change (INVOKED, OFFLINE, LIVE) with timestamps, print the playback URL,
stop it and show the finished session. With `--meetings N`, N meetings at once through
`dyte.map` and `wait_until_live_many` (the fan-out path).
"""

from __future__ import annotations

import datetime
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from dyte_async.cli.output import emit, redact
from dyte_async.errors import DyteError, LivestreamErroredError, NotFoundError, WaitTimeoutError
from dyte_async.models import LivestreamStatus

if TYPE_CHECKING:
    from dyte_async._client import AsyncDyte

__all__ = ["run_demo"]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_TIMEOUT = 60.0
POLL_INTERVAL = 0.2


class _Reporter:
    """Prints each step with the wall-clock time and the seconds since the demo began."""

    def __init__(self, *, as_json: bool) -> None:
        self._as_json = as_json
        self._started = time.monotonic()

    def __call__(self, text: str, **fields: Any) -> None:
        elapsed = time.monotonic() - self._started
        now = datetime.datetime.now().astimezone()
        if self._as_json:
            record = {"at": now.isoformat(timespec="milliseconds"), "t": round(elapsed, 3)}
            emit(json.dumps({**record, "step": text, **fields}, default=str))
        else:
            stamp = f"{now:%H:%M:%S}.{now.microsecond // 1000:03d}"
            emit(f"{stamp} {f'+{elapsed:.2f}s':>8}  {text}")


async def run_demo(
    *,
    meetings: int = 1,
    go_live_after: float = 1.5,
    timeout: float | None = None,
    as_json: bool = False,
    show_secrets: bool = False,
) -> int:
    """Run the livestream flow against an embedded FakeDyte, printing each step.

    Args:
        meetings: how many meetings at once (the fan-out path when > 1).
        go_live_after: seconds the fake takes from start to LIVE.
        timeout: seconds to wait for LIVE (default 60).
        as_json: print one JSON object per step.
        show_secrets: print the stream key and the join token as they are.

    Returns:
        The exit status: 0 when every livestream went LIVE and stopped, else 1.
    """
    # The demo is the one place besides `--fake` that needs the fake: imported here only.
    from dyte_async.testing import FakeDyte

    say = _Reporter(as_json=as_json)
    # No rate limit on either side: the demo shows the flow and must end in seconds
    # whatever `meetings` is.
    fake = FakeDyte(
        go_live_after=go_live_after,
        offline_after=min(0.3, go_live_after / 3),
        rate_limit=None,
    )
    say(f"embedded fake Dyte ready at {fake.base_url} (in memory, no network)")
    wait = timeout if timeout is not None else DEFAULT_TIMEOUT
    async with fake.client(rate_limit=None) as dyte:
        try:
            if meetings <= 1:
                return await _one(dyte, say, timeout=wait, show_secrets=show_secrets)
            return await _many(dyte, say, meetings, timeout=wait)
        except DyteError as exc:
            say(f"FAILED {type(exc).__name__}: {exc}", error=type(exc).__name__)
            return 1


def _span(start: datetime.datetime | None, end: datetime.datetime | None) -> str:
    if start is None or end is None:
        return "for an unknown time"
    return f"from {start.astimezone():%H:%M:%S} for {(end - start).total_seconds():.2f}s"


async def _one(dyte: AsyncDyte, say: _Reporter, *, timeout: float, show_secrets: bool) -> int:
    meeting = await dyte.meetings.create(title="dyte_async demo")
    say(f"created meeting {meeting.id}", meeting_id=meeting.id)

    host = await dyte.participants.add(
        meeting.id, preset_name="livestream_host", custom_participant_id="host-1", name="Host"
    )
    token = redact(host.token, show=show_secrets)
    say(f"added participant {host.id} (join token {token})", participant_id=host.id, token=token)

    ls = await dyte.livestreams.start(meeting.id, name="demo")
    key = redact(ls.stream_key, show=show_secrets)
    say(
        f"started livestream {ls.id}: status {ls.status}; push to {ls.ingest_server} "
        f"with stream key {key}",
        livestream_id=ls.id,
        status=str(ls.status),
        ingest_server=ls.ingest_server,
        stream_key=key,
    )

    try:
        with anyio.fail_after(timeout):
            async with dyte.livestreams.watch(meeting.id, poll_interval=POLL_INTERVAL) as updates:
                async for seen in updates:
                    say(f"status {seen.status}", status=str(seen.status))
                    if seen.is_live or seen.status is LivestreamStatus.ERRORED:
                        ls = seen
                        break
    except TimeoutError:
        say(f"not LIVE after {timeout:g}s", error="timeout")
        await dyte.livestreams.stop(meeting.id)
        return 1
    if not ls.is_live:
        await dyte.livestreams.stop(meeting.id)
        return 1
    say(f"LIVE: playback URL {ls.playback_url}", playback_url=ls.playback_url)

    message = await dyte.livestreams.stop(meeting.id)
    say(f"stopped: {message}", message=message)

    details = await dyte.livestreams.get(ls.id)
    session = details.session
    say(
        f"livestream {details.livestream.id} is {details.livestream.status}; "
        f"{len(details.sessions)} session(s)"
        + (
            f", the last live {_span(session.started_time, session.stopped_time)}"
            if session
            else ""
        ),
        status=str(details.livestream.status),
        sessions=len(details.sessions),
    )
    return 0


async def _map(
    dyte: AsyncDyte, fn: Callable[[T], Awaitable[R]], items: Iterable[T]
) -> tuple[list[R], Counter[str]]:
    """Run `fn` over `items` through `dyte.map`; results in input order, errors by type."""
    results: dict[int, R] = {}
    errors: Counter[str] = Counter()
    async with dyte.map(fn, items, concurrency=50) as outcomes:
        async for outcome in outcomes:
            if outcome.error is not None:
                errors[type(outcome.error).__name__] += 1
            else:
                results[outcome.index] = outcome.unwrap()
    return [results[i] for i in sorted(results)], errors


def _errors(errors: Counter[str]) -> str:
    return f" ({', '.join(f'{n} {name}' for name, n in errors.items())} failed)" if errors else ""


async def _many(dyte: AsyncDyte, say: _Reporter, count: int, *, timeout: float) -> int:
    created, errors = await _map(
        dyte, lambda i: dyte.meetings.create(title=f"dyte_async demo {i}"), range(count)
    )
    ids = [m.id for m in created]
    say(f"created {len(ids)} meetings, 50 at a time{_errors(errors)}", meetings=len(ids))

    started, start_errors = await _map(dyte, dyte.livestreams.start, ids)
    errors += start_errors
    say(f"started {len(started)} livestreams{_errors(start_errors)}", started=len(started))

    live: list[str] = []
    waits = dyte.livestreams.wait_until_live_many(
        [ls.meeting_id for ls in started if ls.meeting_id],
        timeout=timeout,
        poll_interval=POLL_INTERVAL,
        yield_errors=True,
    )
    try:
        async with waits:
            async for seen in waits:
                if isinstance(seen, (LivestreamErroredError, NotFoundError)):
                    name = type(seen).__name__
                    errors[name] += 1
                    say(f"ERRORED: {seen}", error=name)
                    continue
                live.append(seen.id)
                say(
                    f"LIVE {len(live)}/{len(started)}: meeting {seen.meeting_id} "
                    f"at {seen.playback_url}",
                    meeting_id=seen.meeting_id,
                    playback_url=seen.playback_url,
                )
    except WaitTimeoutError as exc:
        say(f"{len(exc.pending)} not LIVE after {timeout:g}s", pending=len(exc.pending))
        errors["WaitTimeoutError"] += len(exc.pending)

    stopped, stop_errors = await _map(dyte, dyte.livestreams.stop, ids)
    errors += stop_errors
    stats = dyte.stats()
    say(
        f"stopped {len(stopped)} livestreams{_errors(stop_errors)}; {stats.requests} requests "
        f"in all, {stats.retries} retries",
        stopped=len(stopped),
        requests=stats.requests,
    )
    ok = not errors and len(live) == count
    return 0 if ok else 1
