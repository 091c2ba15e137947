"""What the fleet's wait tests share: a member client on a fake, and a started livestream."""

from __future__ import annotations

from dyte_async import AsyncDyte, RateLimit
from dyte_async.testing import FakeDyte


def member(fake: FakeDyte, redis_url: str | None, key: str) -> AsyncDyte:
    """A client of the fleet `key` on `fake` (in-process), its limit far from binding."""
    return AsyncDyte(
        "fake-org-id",
        "fake-api-key",
        base_url="http://127.0.0.1/v2",
        transport=fake.transport(),
        rate_limit=RateLimit(1000, per=1),
        redis=redis_url,
        rate_limit_key=key,
    )


def started(fake: FakeDyte) -> tuple[str, str]:
    """A new meeting with its livestream started (OFFLINE until set): (meeting, livestream)."""
    meeting = fake.add_meeting(title="fleet", live_stream_on_start=True)["id"]
    fake.start_meeting(meeting)
    livestream = fake.active_livestream(meeting)
    assert livestream is not None
    return str(meeting), str(livestream["id"])
