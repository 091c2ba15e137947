"""Type-checked only (mypy --strict), never run: the public API as users write it."""

from __future__ import annotations

import contextlib

import httpx

from dyte_async import (
    AsyncDyte,
    AsyncPaginator,
    ClientStats,
    DyteError,
    Livestream,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
    Meeting,
    Page,
    Participant,
    RateLimit,
    RawResponse,
    RetryPolicy,
)


async def flow() -> None:
    async with AsyncDyte(
        org_id="o",
        api_key="k",
        timeout=30.0,
        retry=RetryPolicy(max_retries=3),
        rate_limit=RateLimit(100, 60.0),
        max_concurrency=50,
    ) as dyte:
        meeting: Meeting = await dyte.meetings.create(title="t", live_stream_on_start=False)
        ls: Livestream = await dyte.livestreams.start(meeting.id, name="x", timeout=5)
        status: LivestreamStatus = ls.status
        _ = status is LivestreamStatus.LIVE
        active: Livestream = await dyte.livestreams.get_active(meeting.id)
        message: str = await dyte.livestreams.stop(active.meeting_id or meeting.id)
        pages: AsyncPaginator[Livestream] = dyte.livestreams.list(status="LIVE", per_page=10)
        async for page in pages.pages():
            first: Page[Livestream] = page
            _ = first.total_count
        everything: list[Livestream] = await pages.to_list(limit=5)
        details: LivestreamDetails = await dyte.livestreams.get(ls.id)
        session: LivestreamSession | None = details.session
        participant: Participant = await dyte.participants.add(
            meeting.id, preset_name="p", custom_participant_id="c"
        )
        token: str = await dyte.participants.refresh_token(meeting.id, participant.id)
        live: Livestream = await dyte.livestreams.wait_until_live(meeting.id, timeout=60)
        idle: Livestream = await dyte.livestreams.wait_for_status(meeting.id, {"IDLE"})
        async for changed in dyte.livestreams.watch(meeting.id, poll_interval=1.0):
            _ = changed.status
            break
        async for many in dyte.livestreams.wait_until_live_many(["a", "b"], timeout=60):
            _ = many.playback_url
        host, viewer = await dyte.presets.ensure_livestream_presets()
        _ = (live, idle, host.name, viewer.id)
        stats: ClientStats = dyte.stats()
        async with dyte.map(dyte.livestreams.stop, ["a", "b"], concurrency=2) as outcomes:
            async for outcome in outcomes:
                result: str | None = outcome.result
                error: Exception | None = outcome.error
                _ = (result, error)
        _ = (message, everything, session, token, stats)
    with contextlib.suppress(DyteError):
        AsyncDyte.realtimekit("acc", "app", "tok", max_retries=0)


def every_option(http: httpx.AsyncClient, transport: httpx.AsyncBaseTransport) -> list[AsyncDyte]:
    """Each option of `AsyncDyte(...)` by name, with the types users pass."""
    return [
        AsyncDyte(
            "org",
            "key",
            base_url="https://api.dyte.io/v2",
            timeout=30.0,
            connect_timeout=2.0,
            attempt_timeout=10.0,
            max_retries=0,
            rate_limit=None,
            max_concurrency=10,
            http_client=http,
            http_backend="httpcore",
            allow_insecure_http=True,
            clock=None,
            headers={"X-Trace": "t"},
        ),
        AsyncDyte(transport=transport, retry=RetryPolicy(), http_backend="aiohttp"),
        AsyncDyte.realtimekit("acc", "app", "tok", timeout=5.0, rate_limit=RateLimit(10, 1.0)),
        AsyncDyte("org", "key", proxy="https://proxy.example:8443", trust_env=False),
        AsyncDyte("org", "key", proxy=httpx.URL("http://127.0.0.1:3128")),
        AsyncDyte.realtimekit("acc", "app", "tok", proxy="http://127.0.0.1:3128", trust_env=True),
    ]


async def per_call_options(dyte: AsyncDyte) -> None:
    quick = dyte.with_options(timeout=5.0, max_retries=0, headers={"X-Trace": "t"}, query={"a": 1})
    ls: Livestream = await quick.livestreams.get_active("m")
    raw: RawResponse[Livestream] = await dyte.with_raw_response(dyte.livestreams.get_active, "m")
    code: int | None = raw.status_code
    request_id: str | None = raw.request_id
    headers: httpx.Headers = raw.headers
    _ = (ls, code, request_id, headers, raw.parsed.status, raw.attempts, raw.elapsed)
    stopped: RawResponse[str] = await dyte.with_raw_response(dyte.livestreams.stop, "m")
    _ = stopped.parsed.upper()
