"""`dyte_fake` is configured by overriding `dyte_fake_options` and by the marker."""

from __future__ import annotations

from typing import Any

import pytest

from dyte_async import AuthenticationError
from dyte_async.testing import FakeClock, FakeDyte

pytestmark = pytest.mark.anyio


@pytest.fixture
def dyte_fake_options() -> dict[str, Any]:
    return {"clock": "fake", "go_live_after": 0.5, "offline_after": 0.1}


async def test_the_options_fixture_configures_the_fake(dyte_fake: FakeDyte) -> None:
    assert isinstance(dyte_fake.clock, FakeClock)
    async with dyte_fake.client() as dyte:
        meeting = await dyte.meetings.create(title="t")
        await dyte.livestreams.start(meeting.id)
        live = await dyte.livestreams.wait_until_live(meeting.id, timeout=120)
    assert live.status == "LIVE"
    assert 0.5 <= dyte_fake.clock.now() - 1000.0 < 5.0


@pytest.mark.dyte_fake(strict_auth=True, go_live_after=None)
async def test_the_marker_wins_over_the_options(dyte_fake: FakeDyte) -> None:
    assert dyte_fake.strict_auth
    assert isinstance(dyte_fake.clock, FakeClock)  # still from the options fixture
    async with dyte_fake.client(api_key="wrong", max_retries=0) as dyte:
        with pytest.raises(AuthenticationError):
            await dyte.meetings.create(title="t")


async def test_each_test_gets_its_own_clock(dyte_fake: FakeDyte) -> None:
    assert dyte_fake.clock.now() == 1000.0


@pytest.mark.dyte_fake(no_such_option=1)
def test_an_unknown_option_is_a_type_error(request: pytest.FixtureRequest) -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        request.getfixturevalue("dyte_fake")
