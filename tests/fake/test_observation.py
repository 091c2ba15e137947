"""The request log, counters, the pytest fixture, `client()` and the command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import attrs
import pytest

import dyte_async.testing
from dyte_async.testing import FakeClock, FakeDyte, RecordedRequest
from tests.fake.conftest import basic_auth, in_process

START = "POST /meetings/{meeting_id}/livestreams"


@pytest.mark.anyio
async def test_requests_are_recorded(fake: FakeDyte, clock: FakeClock) -> None:
    meeting = fake.add_meeting(title="t")
    fake.fail_next(route=START)
    async with in_process(fake, headers={"x-trace": "1"}) as client:
        clock.advance(5)
        await client.post(f"/meetings/{meeting['id']}/livestreams", json={"name": "a"})
        await client.post(f"/meetings/{meeting['id']}/livestreams?x=1&x=2", json={"name": "b"})
        await client.get("/nowhere")
    first, second, third = fake.requests
    assert first == RecordedRequest(
        method="POST",
        path=f"/meetings/{meeting['id']}/livestreams",
        route=START,
        query={},
        json={"name": "a"},
        headers=first.headers,
        status=503,
        client="in-process",
        at=clock.now(),
        org_id="fake-org-id",
    )
    assert first.headers["authorization"] == "<redacted>"
    assert first.headers["x-trace"] == "1"
    assert second.status == 201
    assert second.query == {"x": "2"}
    assert third.route is None
    assert third.status == 404
    assert third.org_id == "fake-org-id"  # an unknown path under /v2: still checked
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.status = 1  # type: ignore[misc]


@pytest.mark.anyio
async def test_counts_and_reset(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        for _ in range(3):
            await client.get("/livestreams")
        await client.post("/meetings", json={})
        await client.get("/unknown")
    assert fake.count() == 5
    assert fake.count("GET /livestreams") == 3
    assert fake.count("POST /meetings") == 1
    assert fake.count("GET /meetings") == 0
    assert fake.route_counts == {"GET /livestreams": 3, "POST /meetings": 1}
    with pytest.raises(ValueError, match="unknown route"):
        fake.count("GET /livestream")
    fake.reset_counters()
    assert fake.count() == 0
    assert not fake.route_counts
    assert fake.requests == []


@pytest.mark.anyio
async def test_rejected_and_dropped_requests_are_recorded(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, rate_limit=(1, 60.0))
    async with in_process(fake) as client:
        client.headers.pop("authorization")
        await client.get("/livestreams")
        await client.get("/livestreams")
    assert [r.status for r in fake.requests] == [401, 429]


def test_dyte_fake_fixture(dyte_fake: FakeDyte) -> None:
    assert isinstance(dyte_fake, FakeDyte)
    assert dyte_fake.count() == 0
    assert dyte_fake.base_url == "https://fake.dyte.invalid/v2"


def test_exports_are_sorted_and_complete() -> None:
    exported = dyte_async.testing.__all__
    assert exported == sorted(exported)
    names = {n for n in vars(dyte_async.testing) if n.isidentifier() and not n.startswith("_")}
    public = names - {"annotations"}
    assert set(exported) == public


@pytest.mark.anyio
async def test_client_is_wired_to_the_fake(fake: FakeDyte) -> None:
    from dyte_async import AsyncDyte

    dyte = fake.client(max_retries=0)
    try:
        assert isinstance(dyte, AsyncDyte)
    finally:
        await dyte.aclose()


def test_repr_is_short(fake: FakeDyte) -> None:
    assert repr(fake) == "FakeDyte(org_id='fake-org-id', meetings=0, livestreams=0, requests=0)"


def test_command_line_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "dyte_async.testing", "--port", "0", "--go-live-after", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line.startswith("FakeDyte serving at http://127.0.0.1:")
        base_url = first_line.rsplit(" ", 1)[1].strip()
        fake = FakeDyte()
        request = urllib.request.Request(
            f"{base_url}/livestreams", headers={"Authorization": basic_auth(fake)}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["success"] is True
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
