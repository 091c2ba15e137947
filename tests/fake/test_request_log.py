"""The request log is bounded in entries and in memory; `count()` still counts everything."""

from __future__ import annotations

from typing import Any

import pytest

from dyte_async.testing import FakeClock, FakeDyte
from dyte_async.testing._log import MAX_LOGGED_JSON_BYTES
from tests.fake.conftest import in_process

pytestmark = pytest.mark.anyio


async def test_the_log_keeps_the_latest_entries(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, request_log_size=5, rate_limit=None)
    async with in_process(fake) as client:
        for index in range(20):
            await client.get(f"/meetings?page_no={index + 1}")
    assert [r.query["page_no"] for r in fake.requests] == [str(i) for i in range(16, 21)]
    assert [r.status for r in fake.requests] == [200] * 5
    assert fake.count() == 20
    assert fake.count("GET /meetings") == 20
    fake.reset_counters()
    assert fake.count() == 0
    assert fake.requests == []


async def test_the_log_stays_within_its_byte_budget(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, request_log_bytes=200_000, rate_limit=None)
    body = {"title": "t" * 1000, "tags": list(range(2000))}
    async with in_process(fake) as client:
        for _ in range(50):
            await client.post("/meetings", json={"title": body["title"]})
            await client.post("/presets", json=body)
    assert 1 <= len(fake.requests) < 100
    assert fake._log_bytes <= 200_000
    assert fake.count() == 100
    assert fake.requests[-1].route == "POST /presets"


async def test_one_entry_is_kept_even_over_the_budget(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, request_log_bytes=1)
    async with in_process(fake) as client:
        await client.get("/meetings")
        await client.get("/presets")
    assert [r.route for r in fake.requests] == ["GET /presets"]


async def test_large_bodies_are_logged_without_their_json(fake: FakeDyte) -> None:
    big = {"title": "x" * (MAX_LOGGED_JSON_BYTES + 10)}
    async with in_process(fake) as client:
        await client.post("/meetings", json={"title": "small"})
        await client.post("/meetings", json=big)
    assert fake.requests[0].json == {"title": "small"}
    assert fake.requests[1].json is None


async def test_a_log_cleared_by_hand_keeps_working(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        await client.get("/meetings")
        fake.requests.clear()
        await client.get("/presets")
    assert [r.route for r in fake.requests] == ["GET /presets"]


@pytest.mark.parametrize("kwargs", [{"request_log_size": 0}, {"request_log_bytes": 0}])
def test_log_bounds_must_be_positive(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        FakeDyte(**kwargs)
