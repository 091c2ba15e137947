"""The examples import and run against FakeDyte."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from dyte_async.testing import FakeClock, FakeDyte
from examples import fanout_csv
from examples.starlette_app import create_app

START = "POST /meetings/{meeting_id}/livestreams"


# -- examples/starlette_app.py -----------------------------------------------------------


@contextlib.asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan entered, and an HTTP client of it (no server, no socket)."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):
        yield http


@pytest.mark.anyio
async def test_the_starlette_app_starts_a_livestream_and_answers_its_playback_url() -> None:
    # A virtual clock: the wait for LIVE (polls every 2 s) takes no real time.
    fake = FakeDyte(clock=FakeClock(), go_live_after=5.0)
    meeting = fake.add_meeting(title="web")["id"]
    idle = fake.add_meeting(title="never live")["id"]
    app = create_app(make_client=fake.client)
    async with running(app) as http:
        answer = await http.post(f"/meetings/{meeting}/live")
        assert answer.status_code == 200
        active = fake.active_livestream(meeting)
        assert active is not None
        assert active["status"] == "LIVE"
        assert answer.json() == {
            "livestream_id": active["id"],
            "playback_url": active["playback_url"],
        }

        # Already streaming: the 409 of the second start is expected; the same answer.
        again = await http.post(f"/meetings/{meeting}/live")
        assert again.status_code == 200
        assert again.json() == answer.json()
        assert fake.count(START) == 2

        missing = await http.post("/meetings/no-such-meeting/live")
        assert missing.status_code == 404
        assert missing.json() == {"error": "no such meeting"}

        dyte = app.state.dyte
        await dyte.livestreams.start(idle)
        fake.set_status(idle, "ERRORED", err_message="encoder gone")
        errored = await http.post(f"/meetings/{idle}/live")
        assert errored.status_code == 502
        assert errored.json()["error"].startswith("livestream failed")
    # The lifespan closed the shared client.
    assert dyte.is_closed


@pytest.mark.anyio
async def test_the_starlette_app_answers_504_when_not_live_in_time() -> None:
    fake = FakeDyte(clock=FakeClock(), go_live_after=None)
    meeting = fake.add_meeting(title="slow")["id"]
    async with running(create_app(make_client=fake.client)) as http:
        answer = await http.post(f"/meetings/{meeting}/live")
    assert answer.status_code == 504
    assert answer.json() == {"error": "not live yet, try again"}
    active = fake.active_livestream(meeting)
    assert active is not None
    assert active["status"] != "LIVE"


# -- examples/fanout_csv.py --------------------------------------------------------------


def write_csv(path: Path, meeting_ids: list[str]) -> str:
    rows = ["meeting_id,title", *(f"{mid},meeting {mid}" for mid in meeting_ids), ",blank id"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.anyio
async def test_fanout_csv_starts_and_stops_every_meeting_of_a_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeDyte(rate_limit=None)
    known = [fake.add_meeting(title=f"m{i}")["id"] for i in range(30)]
    path = write_csv(tmp_path / "meetings.csv", [*known, "no-such-meeting"])
    meeting_ids = fanout_csv.read_meeting_ids(path)
    assert meeting_ids == [*known, "no-such-meeting"]

    async with fake.client() as dyte:
        started = await fanout_csv.run(dyte, meeting_ids, "start")
        assert started == {"ok": 30, "NotFoundError": 1}
        assert all(fake.active_livestream(mid) is not None for mid in known)
        stopped = await fanout_csv.run(dyte, meeting_ids, "stop")
        assert stopped == {"ok": 30, "NotFoundError": 1}
        assert all(fake.active_livestream(mid) is None for mid in known)
        with pytest.raises(ValueError, match="action"):
            await fanout_csv.run(dyte, meeting_ids, "restart")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 62
    assert "no-such-meeting: NotFoundError" in lines
    assert f"{known[0]}: ok" in lines


@pytest.mark.anyio
async def test_fanout_csv_main_uses_the_environment_over_a_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeDyte()
    known = [fake.add_meeting(title=f"m{i}")["id"] for i in range(3)]
    path = write_csv(tmp_path / "meetings.csv", known)
    async with fake.serve() as base_url:
        monkeypatch.setenv("DYTE_ORG_ID", fake.org_id)
        monkeypatch.setenv("DYTE_API_KEY", fake.api_key)
        monkeypatch.setenv("DYTE_BASE_URL", base_url)
        assert await fanout_csv.main(path, "start") == 0
        assert await fanout_csv.main(path, "start") == 1  # already streaming: 409s
    out = capsys.readouterr().out.splitlines()
    assert out[3] == "{'ok': 3}"
    assert out[-1] == "{'ConflictError': 3}"
    assert fake.count(START) == 6
    assert {r.client for r in fake.requests} == {"127.0.0.1"}


def test_fanout_csv_refuses_an_unknown_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "meetings.csv", ["m1"])
    assert fanout_csv.cli([path, "strat"]) == 2
    assert fanout_csv.cli([path]) == 2
    assert "usage: fanout_csv.py FILE start|stop" in capsys.readouterr().err
