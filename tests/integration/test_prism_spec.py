"""Opt-in: every public method of the client against Prism serving the official spec.

Prism (`npm i @stoplight/prism-cli`) in dynamic mode answers each request with a body
generated from the spec's schemas (random strings in string fields, random booleans,
any number of fraction digits): what the spec allows, not only its examples. Every call
must then succeed, except where the generated answer itself says it failed: a 2xx with
`"success": false` (the spec types `success` as a plain boolean) is `APIStatusError`;
a wait may end with `WaitTimeoutError` or `LivestreamErroredError` (the status is random).

Skipped unless Prism is found: `DYTE_PRISM` (the `prism` executable) or `prism` on PATH;
the spec is `DYTE_SPEC` or /work/shared/spec/dyte-v2.yaml. Measured before issue 12's
fixes: 130 of 440 calls failed otherwise on Python 3.10 (decoding: timestamps, integers
as floats, informational fields), 67 on 3.13; after: none.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from dyte_async import (
    APIStatusError,
    AsyncDyte,
    LivestreamErroredError,
    RetryPolicy,
    WaitTimeoutError,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SPEC = Path(os.environ.get("DYTE_SPEC", "/work/shared/spec/dyte-v2.yaml"))
STARTUP = 90.0
CALLS = 5

M1, M2, L1, S1, P1, PR1 = (
    "97440c6a-140b-40a9-9499-b23fd7a3868a",
    "0b4d5c2a-6bde-4a8e-9f6c-2a7c1d3e4f50",
    "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "5c1f8a2e-7b3d-4e9a-8f6c-1d2e3f4a5b6c",
    "8d9e0f1a-2b3c-4d5e-8f7a-9b0c1d2e3f4a",
    "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def prism() -> Iterator[str]:
    """Prism serving the spec in dynamic mode on 127.0.0.1; its base URL."""
    executable = os.environ.get("DYTE_PRISM") or shutil.which("prism")
    if not executable:
        pytest.skip("Prism not found: set DYTE_PRISM or put prism on PATH (opt-in)")
    if not SPEC.is_file():
        pytest.skip(f"the spec is not at {SPEC}: set DYTE_SPEC")
    port = _free_port()
    command = [executable, "mock", "-d", "-h", "127.0.0.1", "-p", str(port), str(SPEC)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prism did not start in {STARTUP:.0f} s")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait(10)


def _minimal(schema: Any, spec: dict[str, Any]) -> Any:
    """The smallest instance of `schema` with every required field (first enum value,
    default, or a plain value of the type)."""
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_minimal(part, spec))
        return merged
    if "oneOf" in schema or "anyOf" in schema:
        return _minimal((schema.get("oneOf") or schema["anyOf"])[0], spec)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {
            k: _minimal(properties[k], spec) for k in schema.get("required", ()) if k in properties
        }
    return {"array": [], "integer": 1, "number": 1, "boolean": True}.get(kind, "x")


def _preset_body() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML reads the spec")
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    body = spec["components"]["requestBodies"]["CreatePresetBody"]
    created = _minimal(body["content"]["application/json"]["schema"], spec)
    assert isinstance(created, dict)
    return created


async def _take(iterable: Any, limit: int = 3, seconds: float = 3.0) -> list[Any]:
    """The first `limit` items (at most `seconds`), the iterator closed after them."""
    items: list[Any] = []
    iterator = aiter(iterable)
    try:
        with anyio.move_on_after(seconds):
            async for item in iterator:
                items.append(item)
                if len(items) >= limit:
                    break
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
    return items


Call = Callable[[AsyncDyte], Awaitable[Any]]

METHODS: dict[str, Call] = {
    "active_sessions.get": lambda c: c.active_sessions.get(M1),
    "active_sessions.kick": lambda c: c.active_sessions.kick(M1, participant_ids=[P1]),
    "active_sessions.kick(custom)": lambda c: c.active_sessions.kick(
        M1, custom_participant_ids=["c-1"]
    ),
    "active_sessions.kick_all": lambda c: c.active_sessions.kick_all(M1),
    "active_sessions.mute": lambda c: c.active_sessions.mute(M1, participant_ids=[P1]),
    "active_sessions.mute_all": lambda c: c.active_sessions.mute_all(M1, allow_unmute=True),
    "livestreams.analytics_daywise": lambda c: c.livestreams.analytics_daywise(),
    "livestreams.analytics_overall": lambda c: c.livestreams.analytics_overall(),
    "livestreams.create": lambda c: c.livestreams.create(name="x"),
    "livestreams.disable": lambda c: c.livestreams.disable(L1),
    "livestreams.enable": lambda c: c.livestreams.enable(L1),
    "livestreams.get": lambda c: c.livestreams.get(L1),
    "livestreams.get_active": lambda c: c.livestreams.get_active(M1),
    "livestreams.get_active_session": lambda c: c.livestreams.get_active_session(L1),
    "livestreams.get_session": lambda c: c.livestreams.get_session(S1),
    "livestreams.list": lambda c: _take(c.livestreams.list(per_page=2)),
    "livestreams.list_for_meeting": lambda c: _take(c.livestreams.list_for_meeting(M1)),
    "livestreams.list_for_session": lambda c: _take(c.livestreams.list_for_session(S1)),
    "livestreams.reset_stream_key": lambda c: c.livestreams.reset_stream_key(L1),
    "livestreams.start": lambda c: c.livestreams.start(M1, name="x"),
    "livestreams.stop": lambda c: c.livestreams.stop(M1),
    "livestreams.wait_for_status": lambda c: c.livestreams.wait_for_status(
        M1, "LIVE", timeout=0.5, poll_interval=0.05
    ),
    "livestreams.wait_until_live": lambda c: c.livestreams.wait_until_live(
        M1, timeout=0.5, poll_interval=0.05
    ),
    "livestreams.wait_until_live_many": lambda c: _take(
        c.livestreams.wait_until_live_many(
            [M1, M2], timeout=0.5, poll_interval=0.05, yield_errors=True
        )
    ),
    "livestreams.watch": lambda c: _take(
        c.livestreams.watch(M1, poll_interval=0.05), limit=2, seconds=0.5
    ),
    "meetings.create": lambda c: c.meetings.create(title="x"),
    "meetings.get": lambda c: c.meetings.get(M1),
    "meetings.list": lambda c: _take(c.meetings.list(per_page=2)),
    "meetings.replace": lambda c: c.meetings.replace(M1, title="x"),
    "meetings.update": lambda c: c.meetings.update(M1, title="x"),
    "participants.add": lambda c: c.participants.add(
        M1, preset_name="host", custom_participant_id="c-1", name="n"
    ),
    "participants.delete": lambda c: c.participants.delete(M1, P1),
    "participants.get": lambda c: c.participants.get(M1, P1),
    "participants.list": lambda c: _take(c.participants.list(M1, per_page=2)),
    "participants.refresh_token": lambda c: c.participants.refresh_token(M1, P1),
    "participants.update": lambda c: c.participants.update(M1, P1, name="n"),
    "presets.create": lambda c: c.presets.create(_preset_body()),
    "presets.delete": lambda c: c.presets.delete(PR1),
    "presets.ensure_livestream_presets": lambda c: c.presets.ensure_livestream_presets(),
    "presets.get": lambda c: c.presets.get(PR1),
    "presets.get_or_create": lambda c: c.presets.get_or_create("x", _preset_body()),
    "presets.list": lambda c: _take(c.presets.list(per_page=2)),
    "presets.update": lambda c: c.presets.update(PR1, name="x"),
}


@pytest.mark.parametrize("method", list(METHODS))
async def test_every_method_decodes_what_the_spec_allows(
    method: str, prism: str, anyio_backend: str
) -> None:
    failures: list[str] = []
    client = AsyncDyte(
        "org", "key", base_url=prism, rate_limit=None, retry=RetryPolicy(max_retries=0)
    )
    async with client:
        for _ in range(1 if "wait" in method or "watch" in method else CALLS):
            try:
                await METHODS[method](client)
            except APIStatusError as exc:
                if not 200 <= exc.status_code < 300:  # a 2xx saying success: false
                    failures.append(repr(exc))
            except (WaitTimeoutError, LivestreamErroredError):
                if "wait" not in method:
                    raise
    assert not failures, json.dumps(failures, indent=1)
