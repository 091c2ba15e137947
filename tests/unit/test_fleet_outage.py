"""`Outage`: one WARNING per outage of the fleet's Redis, Redis asked again after a while,
one INFO when it answers again (on the injected clock)."""

from __future__ import annotations

import logging

import pytest

from dyte_async._fleet._outage import RETRY_AFTER, Outage
from dyte_async.testing import FakeClock


def down(outage: Outage) -> bool:
    return outage.down  # read anew each time (mypy would narrow the property)


def test_an_outage_is_logged_once_and_redis_is_asked_again_after_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(100.0)
    outage = Outage(clock, "redis://127.0.0.1:6379/0", "shared polls", "polling alone")
    assert not down(outage)
    with caplog.at_level(logging.INFO, logger="dyte_async"):
        outage.failed(ConnectionRefusedError("secret-host"))
        assert down(outage)
        clock.advance(RETRY_AFTER - 0.01)
        assert down(outage)
        clock.advance(0.02)
        assert not down(outage)  # asked again
        outage.failed(TimeoutError())  # still down: no second WARNING
        assert down(outage)
        outage.recovered()
        outage.recovered()  # no outage: nothing to say
        assert not down(outage)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        (
            "WARNING",
            "shared polls: Redis at redis://127.0.0.1:6379/0 did not answer "
            "(ConnectionRefusedError); polling alone until it does",
        ),
        ("INFO", "shared polls: Redis at redis://127.0.0.1:6379/0 answers again"),
    ]
    assert "secret-host" not in caplog.text  # the error's type only
