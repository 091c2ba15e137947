"""The client's spans are not repeated by the httpx or aiohttp OpenTelemetry instrumentors.

Over loopback, against `FakeDyte.serve()`: with an instrumentor on, a plain request of the
same library makes its span (the control), and a call of the client makes only the
client's own (one call span, one attempt span): the client's calls carry the API's
"suppress HTTP instrumentation" key, which both instrumentors honour.
"""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import httpx
import pytest
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dyte_async import AsyncDyte
from dyte_async.testing import FakeDyte

pytestmark = pytest.mark.anyio


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def names(exporter: InMemorySpanExporter) -> list[str]:
    return sorted(s.name for s in exporter.get_finished_spans())


OURS = ["GET /v2/meetings/{meeting_id}", "dyte.meetings.get"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_aiohttp_instrumentor_adds_no_span_to_the_lean_lane(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    fake = FakeDyte()
    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        async with fake.serve() as base_url:
            meeting_id = (await fake.client().meetings.create(title="t")).id
            async with (  # the control
                aiohttp.ClientSession() as session,
                session.get(f"{base_url}/meetings/{meeting_id}") as answer,
            ):
                await answer.read()
            assert len(exporter.get_finished_spans()) == 1
            exporter.clear()
            async with AsyncDyte(
                fake.org_id,
                fake.api_key,
                base_url=base_url,
                allow_insecure_http=True,
                tracer_provider=provider,
            ) as dyte:
                await dyte.meetings.get(meeting_id)
    finally:
        instrumentor.uninstrument()
    assert names(exporter) == OURS


async def test_the_httpx_instrumentor_adds_no_span_to_a_given_http_client(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    fake = FakeDyte()
    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        async with fake.serve() as base_url, httpx.AsyncClient() as http:
            meeting_id = (await fake.client().meetings.create(title="t")).id
            await http.get(f"{base_url}/meetings/{meeting_id}")  # the control
            assert len(exporter.get_finished_spans()) == 1
            exporter.clear()
            async with AsyncDyte(
                fake.org_id,
                fake.api_key,
                base_url=base_url,
                allow_insecure_http=True,
                http_client=http,
                tracer_provider=provider,
            ) as dyte:
                await dyte.meetings.get(meeting_id)
    finally:
        instrumentor.uninstrument()
    assert names(exporter) == OURS
