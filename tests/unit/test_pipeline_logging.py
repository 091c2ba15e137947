"""Observability of the request path: the `dyte_async` log lines, DYTE_LOG, no secrets."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from dyte_async import AsyncDyte, DyteError, RetryPolicy
from dyte_async._client import _configure_logging_from_env
from dyte_async._pipeline import logger
from dyte_async.testing import FakeClock

pytestmark = pytest.mark.anyio

BASE = "https://api.dyte.io/v2"
ORG_ID = "org-7c1e0a52"
API_KEY = "sk_live_9f8e7d6c5b4a3f2e1d0c"
BASIC = base64.b64encode(f"{ORG_ID}:{API_KEY}".encode()).decode()
STREAM_KEY = "live_stream_key_5ac0ffee5ac0ffee"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.participant-token-secret"
SECRETS = (API_KEY, BASIC, STREAM_KEY, TOKEN)

LIVESTREAM = {
    "id": "ls1",
    "status": "INVOKED",
    "ingest_server": "rtmps://ingest.example/live",
    "stream_key": STREAM_KEY,
    "playback_url": "https://playback.example/ls1.m3u8",
}


def ok(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data})


def err(status: int, message: str = "failed") -> httpx.Response:
    body = {"success": False, "error": {"code": status, "message": message}}
    return httpx.Response(status, json=body)


@pytest.fixture
async def dyte(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[AsyncDyte]:
    client = AsyncDyte(
        ORG_ID,
        API_KEY,
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        retry=RetryPolicy(jitter=0.0),
    )
    yield client
    await client.aclose()


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "dyte_async" and r.levelno == level]


async def test_one_debug_line_per_attempt_and_one_info_line_per_retry(dyte, router, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="dyte_async")
    router.get("/meetings/m1/active-livestream").mock(
        side_effect=[err(503), httpx.ConnectError("refused"), ok(LIVESTREAM)]
    )
    await dyte.livestreams.get_active("m1")
    debug = lines(caplog, logging.DEBUG)
    info = lines(caplog, logging.INFO)
    assert len(debug) == 3
    pattern = r"GET /meetings/m1/active-livestream -> {} \(attempt {}, \d+\.\d{{3}}s\)"
    assert re.fullmatch(pattern.format("503", 1), debug[0])
    assert re.fullmatch(pattern.format("ConnectError", 2), debug[1])
    assert re.fullmatch(pattern.format("200", 3), debug[2])
    assert len(info) == 2
    assert re.fullmatch(
        r"GET /meetings/m1/active-livestream: retry 1/2 in 0\.50s after status 503 "
        r"\(\d+\.\d\ds elapsed\)",
        info[0],
    )
    assert "retry 2/2 in 1.00s after ConnectError" in info[1]


async def test_refusals_and_recoveries_are_logged(dyte, router, caplog) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    router.get("/meetings/a/active-livestream").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "600"})
    )
    router.post("/meetings/b/livestreams").mock(
        side_effect=httpx.RemoteProtocolError("Server disconnected")
    )
    router.get("/meetings/b/active-livestream").mock(return_value=ok(LIVESTREAM))
    await dyte.livestreams.start("b")
    with pytest.raises(DyteError):
        await dyte.livestreams.get_active("a")
    info = lines(caplog, logging.INFO)
    assert any("Retry-After exceeds the cap" in line for line in info)
    assert any("recovered after RemoteProtocolError" in line for line in info)
    assert lines(caplog, logging.DEBUG) == []  # INFO level: no per-attempt lines


async def test_no_secret_in_any_log_record(dyte, router, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx's and httpcore's
    router.post("/meetings/m1/livestreams").mock(
        side_effect=[httpx.ReadTimeout("timed out"), ok(LIVESTREAM, 201)]
    )
    router.get("/meetings/m1/active-livestream").mock(
        side_effect=[err(503), err(404), ok(LIVESTREAM)]
    )
    router.post("/meetings/m1/participants").mock(
        return_value=ok({"id": "p1", "token": TOKEN, "custom_participant_id": "u1"}, 201)
    )
    router.get("/meetings/m2/active-livestream").mock(return_value=err(401, "bad key"))
    livestream = await dyte.livestreams.start("m1")
    assert livestream.stream_key == STREAM_KEY
    assert await dyte.livestreams.get_active("m1")
    participant = await dyte.participants.add(
        "m1", preset_name="viewer", custom_participant_id="u1"
    )
    assert participant.token == TOKEN
    with pytest.raises(DyteError) as info:
        await dyte.livestreams.get_active("m2")
    assert caplog.records
    assert any(r.name == "dyte_async" and r.levelno == logging.DEBUG for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + (record.exc_text or "")
        for secret in SECRETS:
            assert secret not in text, (record.name, text)
    for shown in (str(info.value), repr(info.value), repr(dyte), repr(livestream)):
        for secret in SECRETS:
            assert secret not in shown


@pytest.fixture
def clean_logger() -> Iterator[None]:
    handlers, level = logger.handlers[:], logger.level
    logger.handlers.clear()
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.mark.parametrize(("value", "level"), [("debug", logging.DEBUG), ("INFO", logging.INFO)])
@pytest.mark.usefixtures("clean_logger")
def test_dyte_log_switches_logging_on(monkeypatch, value, level) -> None:
    monkeypatch.setenv("DYTE_LOG", value)
    _configure_logging_from_env()
    assert logger.level == level
    assert len(logger.handlers) == 1
    _configure_logging_from_env()  # idempotent
    assert len(logger.handlers) == 1


@pytest.mark.usefixtures("clean_logger")
def test_without_dyte_log_nothing_is_configured(monkeypatch) -> None:
    monkeypatch.delenv("DYTE_LOG", raising=False)
    _configure_logging_from_env()
    assert logger.handlers == []
    assert logger.level == logging.NOTSET
