"""Every Python snippet of README.md runs, as written, against a served FakeDyte.

The fake is served on 127.0.0.1 and `DYTE_BASE_URL`, `DYTE_ORG_ID`, `DYTE_API_KEY` point
at it, so `AsyncDyte()` and `AsyncDyte(org_id="...", api_key="...")` reach it unchanged
(the fake accepts any credentials). Snippets run with top-level `await` allowed. Fragments
that continue an earlier snippet get what they use in scope: `dyte` (a client), and
`meeting_ids` (meetings with a livestream started). A snippet no runner knows fails the
test, so a new README example is either run here or named in `NOT_RUN` with the reason.
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import dyte_async
from dyte_async import AsyncDyte
from dyte_async.testing import FakeDyte

pytestmark = pytest.mark.anyio

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def snippets() -> list[str]:
    """The README's ```python blocks, in order."""
    return FENCE.findall(README.read_text("utf-8"))


def _key(code: str) -> str:
    """A snippet's name: its first line that is not an import, a comment or blank."""
    for line in code.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("from ", "import ", "#", "@")):
            return stripped
    return code.strip().splitlines()[0]


@contextlib.asynccontextmanager
async def _served(monkeypatch: pytest.MonkeyPatch, **options: Any) -> AsyncIterator[FakeDyte]:
    fake = FakeDyte(go_live_after=0.05, offline_after=0.01, rate_limit=None, **options)
    async with fake.serve() as base_url:
        monkeypatch.setenv("DYTE_BASE_URL", base_url)
        monkeypatch.setenv("DYTE_ORG_ID", "readme-org")
        monkeypatch.setenv("DYTE_API_KEY", "readme-key")
        yield fake


async def _run(code: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run `code` (top-level await allowed) in `namespace`; return the namespace."""
    compiled = compile(code, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(compiled, namespace)
    if result is not None:
        await result
    return namespace


def _scope(**names: Any) -> dict[str, Any]:
    """The public names of `dyte_async` (what a fragment's missing imports would bring)."""
    public = {name: getattr(dyte_async, name) for name in dyte_async.__all__}
    return {"__name__": "readme", **public, **names}


async def _meetings(dyte: AsyncDyte, count: int) -> list[str]:
    ids = []
    for index in range(count):
        meeting = await dyte.meetings.create(title=f"readme {index}")
        await dyte.livestreams.start(meeting.id)
        ids.append(meeting.id)
    return ids


async def run_plain(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole program: it makes its own client from the environment (`dyte_async`'s public
    names in scope, for the snippets that leave out `from dyte_async import AsyncDyte`)."""
    async with _served(monkeypatch) as fake:
        await _run(code, _scope())
    assert fake.count() > 0


async def run_fragment(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fragment using `dyte` and `meeting_ids`."""
    async with _served(monkeypatch) as fake, AsyncDyte() as dyte:
        meeting_ids = await _meetings(dyte, 3)
        before = fake.count()
        await _run(code, _scope(dyte=dyte, meeting_ids=meeting_ids))
    assert fake.count() > before


async def run_fixture_test(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `dyte_fake` example: a test function, called with a fresh fake."""
    namespace = await _run(code, {"__name__": "readme", "pytest": pytest})
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert tests
    for test in tests:
        fake = FakeDyte()
        await test(fake)
        assert fake.count() > 0


class _Request:
    """What the webhook example reads of a Starlette request."""

    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self._body = body
        self.headers = headers

    async def body(self) -> bytes:
        return self._body


async def run_webhook_receiver(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook receiver: fed a real signed delivery, then a forged one, then a repeat."""
    from starlette.responses import Response

    deliveries: list[tuple[bytes, dict[str, str]]] = []
    async with _served(monkeypatch) as fake, AsyncDyte() as dyte:
        fake.add_webhook(callback=lambda body, headers: deliveries.append((body, headers)))
        meeting = await dyte.meetings.create(title="hooks")
        await dyte.livestreams.start(meeting.id)
        fake.set_status(meeting.id, "LIVE")
        await fake.deliver_webhooks()
        assert deliveries
        namespace = await _run(code, _scope(dyte=dyte, Response=Response))
        receive: Callable[[_Request], Awaitable[Response]] = namespace["receive"]
        body, headers = deliveries[-1]
        assert (await receive(_Request(body, headers))).status_code == 200
        assert (await receive(_Request(body, headers))).status_code == 200  # a repeat: skipped
        forged = body.replace(b"LIVE", b"IDLE")
        assert (await receive(_Request(forged, headers))).status_code == 401


async def run_fleet_client(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The "Many workers" client, its Redis on loopback instead of the host `redis`."""
    from tests.redis_server import RedisServer

    with RedisServer() as server:
        async with _served(monkeypatch) as fake:
            local = code.replace("redis://redis:6379/0", server.url)
            namespace = await _run(local, _scope(org_id="readme-org", api_key="readme-key"))
            async with namespace["dyte"] as dyte:
                await dyte.meetings.create(title="fleet")
            limiter = dyte._pipeline.limiter
            assert getattr(limiter, "redis_calls", 0) >= 1  # paced through Redis
        assert fake.count() > 0


async def run_proxy_clients(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy example: it only makes clients for the API's own base URL (no proxy
    listens here; tests/integration/test_proxy.py sends requests through one)."""
    monkeypatch.delenv("DYTE_BASE_URL", raising=False)
    monkeypatch.setenv("DYTE_ORG_ID", "readme-org")
    monkeypatch.setenv("DYTE_API_KEY", "readme-key")
    namespace = await _run(code, _scope())
    routes = namespace["dyte"]._config.proxy
    assert routes is not None
    assert routes.route_url(namespace["dyte"].base_url) is not None


async def run_per_call(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-call options and raw answer fragments: `dyte`, a `meeting_id` with a
    livestream running, a `trace_id`; what they send and get is checked."""
    async with _served(monkeypatch) as fake, AsyncDyte() as dyte:
        meeting_id = (await _meetings(dyte, 1))[0]
        namespace = await _run(code, _scope(dyte=dyte, meeting_id=meeting_id, trace_id="t-1"))
    if "raw" in namespace:
        assert namespace["raw"].status_code == 200
        assert namespace["raw"].parsed.meeting_id == meeting_id
    else:
        assert namespace["lv"].meeting_id == meeting_id
        last = fake.requests[-1]
        assert (last.headers["x-trace-id"], last.query) == ("t-1", {"debug": "true"})


async def run_otel_client(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The OpenTelemetry client, exporting to memory instead of the console."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    async with _served(monkeypatch):
        local = code.replace("ConsoleSpanExporter()", "exporter")
        namespace = await _run(local, _scope(exporter=exporter))
        async with namespace["dyte"] as dyte:
            await dyte.meetings.create(title="traced")
        namespace["provider"].force_flush()
        namespace["provider"].shutdown()
    names = sorted(span.name for span in exporter.get_finished_spans())
    assert names == ["POST /v2/meetings", "dyte.meetings.create"]


RUNNERS: dict[str, Callable[[str, pytest.MonkeyPatch], Awaitable[None]]] = {
    'async with AsyncDyte(org_id="...", api_key="...") as dyte:  # or AsyncDyte() from the '
    "environment": run_plain,
    "async for ls in dyte.livestreams.wait_until_live_many(meeting_ids, timeout=300, "
    "yield_errors=True):": run_fragment,
    "async with dyte.map(dyte.livestreams.stop, meeting_ids, concurrency=20) as outcomes:": (
        run_fragment
    ),
    "async def test_goes_live(dyte_fake):": run_fixture_test,
    "async with AsyncDyte() as dyte:": run_plain,
    "recent = RecentIds()": run_webhook_receiver,
    'dyte = AsyncDyte(org_id, api_key, rate_limit=RateLimit(2000, per=60), redis="redis://'
    'redis:6379/0")': run_fleet_client,
    'dyte = AsyncDyte(proxy="http://proxy.internal:3128")': run_proxy_clients,
    "fast = dyte.with_options(timeout=5, max_retries=0)": run_per_call,
    "raw = await dyte.with_raw_response(dyte.livestreams.get_active, meeting_id)": run_per_call,
    "provider = TracerProvider()": run_otel_client,
}
"""How each snippet runs, by its first statement (see `_key`)."""

NOT_RUN: dict[str, str] = {}
"""Snippets deliberately not run, with the reason (none so far)."""


def test_every_python_snippet_has_a_runner() -> None:
    keys = [_key(code) for code in snippets()]
    assert keys, "no ```python block found in README.md"
    unknown = [key for key in keys if key not in RUNNERS and key not in NOT_RUN]
    assert not unknown, f"README snippets no test runs (add a runner or a reason): {unknown}"


@pytest.mark.parametrize("index", range(len(snippets())))
async def test_readme_snippet_runs_against_the_fake(
    index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = snippets()[index]
    key = _key(code)
    if key in NOT_RUN:
        pytest.skip(NOT_RUN[key])
    runner = RUNNERS.get(key)
    assert runner is not None, f"no runner for README snippet {key!r}"
    await runner(code, monkeypatch)
