"""Type-checked only (mypy and pyright, both strict), never run: the typed write fields,
`NULL`, `realtimekit`'s options, the errors' attributes and `to_dict()`.

Every line that ends in an ignore comment MUST be an error. mypy (strict:
`warn_unused_ignores`) and pyright (`reportUnnecessaryTypeIgnoreComment`, with mypy's
comments switched off for it by `tests/typing/pyrightconfig.json`) both report an ignore
that is not needed, so a lost check fails the run: `pyright -p tests/typing` (run by
`tests/integration/test_typing_checks.py`) and the project's `mypy`.
"""

from __future__ import annotations

from typing import Any

from dyte_async import (
    NULL,
    AsyncDyte,
    Livestream,
    LivestreamErroredError,
    LivestreamStatus,
    MeetingFields,
    MeetingStatus,
    MeetingUpdateFields,
    PresetConfig,
    WaitTimeoutError,
)


async def accepted(dyte: AsyncDyte) -> None:
    """What users write, accepted by both checkers."""
    meeting = await dyte.meetings.create(
        title="Town hall",
        preferred_region="ap-south-1",
        live_stream_on_start=True,
        record_on_start=None,  # None: not sent
        recording_config={"max_seconds": 60},
        ai_config={"summarization": {"word_limit": 500}},
    )
    await dyte.meetings.update(meeting.id, status="INACTIVE", title=NULL)
    await dyte.meetings.update(meeting.id, status=MeetingStatus.ACTIVE, persist_chat=False)
    await dyte.meetings.replace(meeting.id, title="Again", summarize_on_end=True, timeout=5)
    await dyte.participants.update(meeting.id, "p1", picture=NULL, name="Ann")
    await dyte.presets.create(name="host", config=PresetConfig(), permissions={"kick": True})
    await dyte.presets.update("preset-1", {"future_key": 1}, ui=NULL)
    await dyte.presets.get_or_create("viewer", config={"view_type": "WEBINAR"})
    fields: MeetingFields = {"title": "From a dict", "persist_chat": True}
    await dyte.meetings.create(**fields)
    changes: MeetingUpdateFields = {"status": "ACTIVE"}
    await dyte.meetings.update(meeting.id, **changes)
    AsyncDyte.realtimekit("acc", "app", "tok", max_retries=0, rate_limit=None, timeout=5.0)

    livestream: Livestream | None = LivestreamErroredError("errored").livestream
    status: LivestreamStatus | None = WaitTimeoutError("late").last_status
    ls = await dyte.livestreams.get_active(meeting.id)
    plain: dict[str, Any] = ls.to_dict(include_secrets=True)
    text: str = ls.to_json(indent=2)
    _ = (livestream, status, plain, text)


async def refused(dyte: AsyncDyte) -> None:
    """Each line is an error in both checkers."""
    await dyte.meetings.create(titel="typo")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    await dyte.meetings.update("m1", title=123)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await dyte.meetings.create(preferred_region="mars-1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await dyte.meetings.create(status="ACTIVE")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    await dyte.meetings.update("m1", status="PAUSED")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await dyte.meetings.replace("m1", live_stream_on_start="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await dyte.participants.update("m1", "p1", preset="host")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    await dyte.presets.create(name=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await dyte.presets.update("preset-1", permisions={})  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    AsyncDyte.realtimekit("acc", "app", "tok", max_retrys=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    AsyncDyte.realtimekit("acc", "app", "tok", timeout="5")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    _ = LivestreamErroredError("x").livestream.status  # type: ignore[union-attr]  # pyright: ignore[reportOptionalMemberAccess]
    ls = await dyte.livestreams.get_active("m1")
    ls.to_dict(True)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
