"""OpenTelemetry: a span per call, a client span and a duration measurement per attempt,
events for limiter waits and retries, nothing secret, nothing without an SDK.

Against respx (or the in-process `FakeDyte`) on a `FakeClock`, on asyncio and trio, with
the SDK's in-memory span exporter and metric reader given to the client as its providers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
import respx
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, StatusCode

from dyte_async import NotFoundError, RateLimit, RateLimitError
from dyte_async.testing import FakeClock, FakeDyte
from tests.unit.conftest import Factory

pytestmark = pytest.mark.anyio

MEETING = {"id": "m1", "title": "town hall"}


@attrs.define
class Otel:
    """The SDK's in-memory pipeline: what the client is given, and what it recorded."""

    exporter: InMemorySpanExporter = attrs.field(factory=InMemorySpanExporter)
    reader: InMemoryMetricReader = attrs.field(factory=InMemoryMetricReader)
    tracer_provider: TracerProvider = attrs.field(factory=TracerProvider)
    meter_provider: MeterProvider = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    @property
    def options(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def spans(self, kind: SpanKind | None = None) -> list[ReadableSpan]:
        found = self.exporter.get_finished_spans()
        return [s for s in found if kind is None or s.kind == kind]

    def durations(self) -> list[dict[str, Any]]:
        """The data points of `http.client.request.duration` (attributes, count)."""
        collected = self.reader.get_metrics_data()
        if collected is None:
            return []
        data = json.loads(collected.to_json())
        return [
            {"attributes": point["attributes"], "count": point["count"], "unit": metric["unit"]}
            for resource in data["resource_metrics"]
            for scope in resource["scope_metrics"]
            for metric in scope["metrics"]
            if metric["name"] == "http.client.request.duration"
            for point in metric["data"]["data_points"]
        ]


@pytest.fixture
def otel() -> Iterator[Otel]:
    recorded = Otel()
    yield recorded
    recorded.tracer_provider.shutdown()
    recorded.meter_provider.shutdown()


def ok(data: Any = MEETING) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data})


def err(status: int, **headers: str) -> httpx.Response:
    body = {"success": False, "error": {"code": status, "message": f"error {status}"}}
    return httpx.Response(status, json=body, headers=headers)


def events(span: ReadableSpan) -> list[tuple[str, dict[str, Any]]]:
    return [(e.name, dict(e.attributes or {})) for e in span.events]


# --- spans per call and per attempt ---------------------------------------------------------


async def test_a_call_retried_twice_is_one_span_with_three_attempt_spans(
    make: Factory, router: respx.MockRouter, otel: Otel
) -> None:
    router.get("/meetings/m1").mock(side_effect=[err(503), httpx.ConnectError("no"), ok()])
    async with make(**otel.options) as dyte:
        await dyte.meetings.get("m1")

    [call] = otel.spans(SpanKind.INTERNAL)
    attempts = otel.spans(SpanKind.CLIENT)
    assert call.name == "dyte.meetings.get"
    assert call.attributes == {
        "http.request.method": "GET",
        "dyte.operation": "meetings.get",
        "url.template": "/v2/meetings/{meeting_id}",
        "dyte.meeting_id": "m1",
        "dyte.attempts": 3,
    }
    assert call.status.status_code is StatusCode.UNSET
    assert len(attempts) == 3
    for attempt in attempts:
        assert attempt.name == "GET /v2/meetings/{meeting_id}"
        assert attempt.parent is not None
        assert attempt.parent.span_id == call.context.span_id
        assert attempt.context.trace_id == call.context.trace_id
        assert attempt.attributes is not None
        assert attempt.attributes["url.full"] == "https://api.dyte.io/v2/meetings/m1"
        assert attempt.attributes["server.address"] == "api.dyte.io"
        assert attempt.attributes["server.port"] == 443
    first, second, third = (dict(a.attributes or {}) for a in attempts)
    assert "http.request.resend_count" not in first  # only on resends (semconv)
    assert (first["http.response.status_code"], first["error.type"]) == (503, "503")
    assert second["http.request.resend_count"] == 1
    assert second["error.type"] == "ConnectError"
    assert "http.response.status_code" not in second
    assert third["http.request.resend_count"] == 2
    assert third["http.response.status_code"] == 200
    assert "error.type" not in third
    assert [a.status.status_code for a in attempts] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    assert events(call) == [
        (
            "dyte.retry.scheduled",
            {"dyte.retry.attempt": 1, "dyte.retry.delay": 0.5, "dyte.retry.reason": "status 503"},
        ),
        (
            "dyte.retry.scheduled",
            {"dyte.retry.attempt": 2, "dyte.retry.delay": 1.0, "dyte.retry.reason": "ConnectError"},
        ),
    ]


async def test_a_failed_call_has_its_error_type_and_an_error_status(
    make: Factory, router: respx.MockRouter, otel: Otel
) -> None:
    router.get("/meetings/m1").mock(return_value=err(404))
    async with make(**otel.options) as dyte:
        with pytest.raises(NotFoundError):
            await dyte.meetings.get("m1")

    [call] = otel.spans(SpanKind.INTERNAL)
    [attempt] = otel.spans(SpanKind.CLIENT)
    assert call.attributes is not None
    assert call.attributes["error.type"] == "NotFoundError"
    assert call.status.status_code is StatusCode.ERROR
    assert attempt.attributes is not None
    assert attempt.attributes["error.type"] == "404"
    assert attempt.status.status_code is StatusCode.ERROR


async def test_a_refused_retry_is_an_event_with_its_reason(
    make: Factory, router: respx.MockRouter, otel: Otel
) -> None:
    router.get("/meetings/m1").mock(return_value=err(429, **{"Retry-After": "600"}))
    async with make(**otel.options) as dyte:
        with pytest.raises(RateLimitError):
            await dyte.meetings.get("m1")

    [call] = otel.spans(SpanKind.INTERNAL)
    assert events(call) == [
        (
            "dyte.retry.refused",
            {"dyte.retry.refused_by": "cap", "dyte.retry.reason": "status 429"},
        )
    ]


async def test_a_wait_for_the_rate_limiter_is_an_event_with_its_length(
    make: Factory, router: respx.MockRouter, clock: FakeClock, otel: Otel
) -> None:
    router.get("/meetings/m1").mock(return_value=ok())
    async with make(rate_limit=RateLimit(1, per=10.0), **otel.options) as dyte:
        await dyte.meetings.get("m1")
        await dyte.meetings.get("m1")

    first, second = otel.spans(SpanKind.INTERNAL)
    assert events(first) == []
    [(name, attributes)] = events(second)
    assert name == "dyte.rate_limiter.wait"
    assert attributes["dyte.wait.seconds"] == pytest.approx(10.0)


async def test_calls_made_inside_a_call_are_its_children(
    make: Factory, router: respx.MockRouter, otel: Otel
) -> None:
    """`start` after an ambiguous failure asks whether the livestream is active: that read
    is a call of its own, under `start`'s span."""
    active = {"id": "ls1", "status": "LIVE", "meeting_id": "m1"}
    router.post("/meetings/m1/livestreams").mock(side_effect=httpx.ReadTimeout("slow"))
    router.get("/meetings/m1/active-livestream").mock(return_value=ok(active))
    async with make(**otel.options) as dyte:
        await dyte.livestreams.start("m1")

    by_name = {s.name: s for s in otel.spans(SpanKind.INTERNAL)}
    start, check = by_name["dyte.livestreams.start"], by_name["dyte.livestreams.get_active"]
    assert check.parent is not None
    assert check.parent.span_id == start.context.span_id
    assert [name for name, _ in events(start)] == ["dyte.write.recovered"]


class _RootsNamed(Sampler):
    """Samples the root spans of one name, drops every other root."""

    def __init__(self, name: str) -> None:
        self.name = name

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        name = args[2] if len(args) > 2 else kwargs["name"]
        decision = Decision.RECORD_AND_SAMPLE if name == self.name else Decision.DROP
        return SamplingResult(decision)

    def get_description(self) -> str:
        return f"roots named {self.name}"


async def test_a_call_sampled_out_stays_the_parent_of_the_calls_inside_it(
    make: Factory, router: respx.MockRouter
) -> None:
    """A sampled-out `start` still parents its recovery read, which a parent-based sampler
    then drops with it (it does not become a root of its own, sampled on its own)."""
    recorded = Otel(
        tracer_provider=TracerProvider(
            sampler=ParentBased(root=_RootsNamed("dyte.livestreams.get_active"))
        )
    )
    active = {"id": "ls1", "status": "LIVE", "meeting_id": "m1"}
    router.post("/meetings/m1/livestreams").mock(side_effect=httpx.ReadTimeout("slow"))
    router.get("/meetings/m1/active-livestream").mock(return_value=ok(active))
    async with make(**recorded.options) as dyte:
        await dyte.livestreams.start("m1")
        assert recorded.spans() == []
        await dyte.livestreams.get_active("m1")  # the control: sampled as a root
    assert [s.name for s in recorded.spans(SpanKind.INTERNAL)] == ["dyte.livestreams.get_active"]
    assert len(recorded.durations()) == 2  # every attempt measured all the same


# --- the metric -----------------------------------------------------------------------------


async def test_every_attempt_is_measured_with_the_conventions_attributes(
    make: Factory, router: respx.MockRouter, otel: Otel
) -> None:
    router.get("/meetings/m1").mock(side_effect=[err(503), ok()])
    async with make(**otel.options) as dyte:
        await dyte.meetings.get("m1")

    points = sorted(otel.durations(), key=lambda p: p["attributes"]["http.response.status_code"])
    common = {
        "http.request.method": "GET",
        "server.address": "api.dyte.io",
        "server.port": 443,
        "url.template": "/v2/meetings/{meeting_id}",
    }
    assert points == [
        {"attributes": {**common, "http.response.status_code": 200}, "count": 1, "unit": "s"},
        {
            "attributes": {**common, "http.response.status_code": 503, "error.type": "503"},
            "count": 1,
            "unit": "s",
        },
    ]


# --- nothing secret -------------------------------------------------------------------------


async def test_no_credential_token_or_stream_key_is_recorded(otel: Otel) -> None:
    api_key = "k3y-Sup3rS3cret-0123456789abcdef0123"
    fake = FakeDyte(org_id="org-1", api_key=api_key, clock=FakeClock())
    async with fake.client(**otel.options) as dyte:
        meeting = await dyte.meetings.create(title="secrets")
        added = await dyte.participants.add(
            meeting.id, preset_name="livestream_host", custom_participant_id="p1"
        )
        started = await dyte.livestreams.start(meeting.id)
        stream_key = started.stream_key
        token = added.token
        # a query parameter named like a secret is redacted in `url.full`
        await dyte._pipeline.send("GET", "/meetings", params={"access_token": "qs-s3cr3t-v4lue"})

    assert stream_key
    assert token
    recorded = json.dumps(
        [
            {
                "name": s.name,
                "attributes": dict(s.attributes or {}),
                "events": [(e.name, dict(e.attributes or {})) for e in s.events],
            }
            for s in otel.spans()
        ]
    ) + json.dumps(otel.durations())
    for secret in (api_key, stream_key, token, "qs-s3cr3t-v4lue", "Basic ", "Authorization"):
        assert secret not in recorded
    assert "access_token=REDACTED" in recorded


async def test_a_client_with_other_options_records_as_its_original(
    make: Factory, router: respx.MockRouter, otel: Otel
) -> None:
    router.get("/meetings/m1").mock(return_value=ok())
    async with make(**otel.options) as dyte:
        fast = dyte.with_options(timeout=5, query={"signature": "s1gn3d-v4lue"})
        await fast.meetings.get("m1")

    [attempt] = otel.spans(SpanKind.CLIENT)
    assert attempt.attributes is not None
    assert attempt.attributes["url.full"] == (
        "https://api.dyte.io/v2/meetings/m1?signature=REDACTED"
    )


# --- the no-op paths ------------------------------------------------------------------------


async def test_without_an_sdk_nothing_is_recorded(make: Factory, router: respx.MockRouter) -> None:
    # This process never sets a global provider (the global path runs in a subprocess below).
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    router.get("/meetings/m1").mock(return_value=ok())
    async with make() as dyte:
        telemetry = dyte._pipeline._telemetry
        assert telemetry is not None  # opentelemetry-api is installed here
        assert telemetry.begin("GET", "/meetings/m1") is None
        await dyte.meetings.get("m1")


async def test_a_caller_suppressing_instrumentation_gets_nothing_recorded(
    make: Factory, router: respx.MockRouter, otel: Otel
) -> None:
    router.get("/meetings/m1").mock(return_value=ok())
    key = otel_context._SUPPRESS_INSTRUMENTATION_KEY
    token = otel_context.attach(otel_context.set_value(key, True))
    try:
        async with make(**otel.options) as dyte:
            await dyte.meetings.get("m1")
    finally:
        otel_context.detach(token)
    assert otel.spans() == []
    assert otel.durations() == []


# --- the poller ------------------------------------------------------------------------------


async def test_polls_are_spans_only_inside_a_traced_caller(otel: Otel) -> None:
    fake = FakeDyte(clock=FakeClock(), go_live_after=5.0)
    async with fake.client(**otel.options) as dyte:
        meeting = await dyte.meetings.create(title="polls")
        await dyte.livestreams.start(meeting.id)
        otel.exporter.clear()
        await dyte.livestreams.wait_until_live(meeting.id, poll_interval=1.0)
        assert otel.spans() == []  # no trace of its own per poll
        assert any(
            p["attributes"]["url.template"].endswith("active-livestream") for p in otel.durations()
        )

        await dyte.livestreams.stop(meeting.id)
        await dyte.livestreams.start(meeting.id)
        otel.exporter.clear()
        tracer = otel.tracer_provider.get_tracer("test")
        with tracer.start_as_current_span("handler") as handler:
            await dyte.livestreams.wait_until_live(meeting.id, poll_interval=1.0)

    polls = [s for s in otel.spans(SpanKind.INTERNAL) if s.name.startswith("dyte.")]
    assert polls
    for poll in polls:
        assert poll.attributes is not None
        assert poll.attributes["dyte.poll"] is True
        assert poll.parent is not None
        assert poll.parent.span_id == handler.get_span_context().span_id


# --- the global providers --------------------------------------------------------------------

GLOBAL_SDK = """
import asyncio, httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from dyte_async import AsyncDyte

def answer(request):
    return httpx.Response(200, json={"success": True, "data": {"id": "m1"}})

async def main():
    async with AsyncDyte("org", "key", transport=httpx.MockTransport(answer)) as dyte:
        await dyte.meetings.get("m1")  # before the SDK: nothing
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        await dyte.meetings.get("m1")
    print(sorted(s.name for s in exporter.get_finished_spans()))

asyncio.run(main())
"""


def test_the_global_providers_are_used_once_set() -> None:
    out = subprocess.run(
        [sys.executable, "-c", GLOBAL_SDK], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(["GET /v2/meetings/{meeting_id}", "dyte.meetings.get"])


def test_a_client_without_opentelemetry_records_nothing() -> None:
    """opentelemetry-api not importable: the client has no telemetry and works."""
    code = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "from dyte_async import AsyncDyte\n"
        "print(AsyncDyte('org', 'key')._pipeline._telemetry)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "None"


def test_a_query_secret_and_user_info_are_not_in_url_full() -> None:
    from dyte_async._telemetry._routes import url_for_telemetry

    assert (
        url_for_telemetry("https://u:p@api.dyte.io/v2/x?page_no=2&token=abc&Signature=zz")
        == "https://api.dyte.io/v2/x?page_no=2&token=REDACTED&Signature=REDACTED"
    )
    assert url_for_telemetry("https://api.dyte.io/v2/x?page_no=2") == (
        "https://api.dyte.io/v2/x?page_no=2"
    )
