"""The requests a poll sends, and how their failures are judged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from dyte_async._checks import segment
from dyte_async._convert import (
    details_from,
    list_items,
    livestream_details_items,
    paging_from,
    structure,
)
from dyte_async._pipeline import logger
from dyte_async._poller._reader import Reader
from dyte_async._poller._settings import ERROR_DETAIL_GRACE
from dyte_async.errors import (
    APIConnectionError,
    APIStatusError,
    DyteError,
    NotFoundError,
    ResponseDecodeError,
)
from dyte_async.models import Livestream, LivestreamDetails, LivestreamStatus

__all__ = [
    "err_message",
    "for_meeting",
    "is_transient",
    "is_unreadable",
    "read_active",
    "read_latest",
    "read_list",
    "same",
]

_TRANSIENT_STATUSES: Final = frozenset({408, 425, 429})


def is_transient(exc: DyteError) -> bool:
    """True for failures a later poll may not see: network, timeouts, 5xx, 408, 425, 429.

    These never end a wait before its deadline (an outage may end any time).
    """
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, APIStatusError):
        return exc.status_code >= 500 or exc.status_code in _TRANSIENT_STATUSES
    return False


def is_unreadable(exc: DyteError) -> bool:
    """True for answers we cannot read (`ResponseDecodeError`): tolerated for a while only.

    A garbled answer may be a proxy's hiccup, so a wait goes on polling; but an answer that
    stays unreadable for longer than the client's `timeout` ends the waits on the meeting
    (see `Poller.failed`).
    """
    return isinstance(exc, ResponseDecodeError)


def for_meeting(livestream: Livestream, meeting_id: str) -> Livestream:
    """`livestream` with its `meeting_id` filled in when the answer left it out."""
    if livestream.meeting_id is None:
        return attrs.evolve(livestream, meeting_id=meeting_id)
    return livestream


def same(a: Livestream | None, b: Livestream | None) -> bool:
    """True when `a` and `b` are the same state: both none, or one livestream in one status."""
    if a is None or b is None:
        return a is b
    return a.id == b.id and a.status == b.status


async def read_active(pipeline: Reader, meeting_id: str, deadline: float) -> Livestream:
    """`GET /meetings/{id}/active-livestream`.

    Raises:
        NotFoundError: no active livestream (or no such meeting).
        DyteError: the request failed.
    """
    envelope = await pipeline.send(
        "GET", f"/meetings/{segment(meeting_id, 'meeting_id')}/active-livestream", deadline=deadline
    )
    return for_meeting(structure(envelope.data, Livestream), meeting_id)


async def read_latest(
    pipeline: Reader, meeting_id: str, known: Livestream | None, deadline: float
) -> Livestream | None:
    """The meeting's latest livestream, stopped or not (after a 404 of the active one).

    Args:
        pipeline: the request path.
        meeting_id: the meeting.
        known: the meeting's livestream seen last (read again by id), if any.
        deadline: the wait's deadline.

    Returns:
        The livestream, or None when the meeting has none.
    """
    try:
        if known is not None:
            envelope = await pipeline.send(
                "GET",
                f"/livestreams/{segment(known.id, 'livestream id')}",
                params={"per_page": 1},
                deadline=deadline,
            )
            return for_meeting(details_from(envelope.data).livestream, meeting_id)
        envelope = await pipeline.send(
            "GET",
            f"/meetings/{segment(meeting_id, 'meeting_id')}/livestream",
            params={"per_page": 1},
            deadline=deadline,
        )
    except NotFoundError:
        return None
    latest = _newest(envelope.data)
    return None if latest is None else for_meeting(latest, meeting_id)


def _newest(data: Any) -> Livestream | None:
    """The newest livestream of a ``GET /meetings/{id}/livestream`` answer."""
    if isinstance(data, Mapping) and "livestream" in data and not data["livestream"]:
        return None  # the meeting never streamed
    items: Sequence[LivestreamDetails] = livestream_details_items(data)
    if not items:
        return None
    latest = items[0].livestream
    for details in items[1:]:
        created = details.livestream.created_at
        if created is not None and (latest.created_at is None or created > latest.created_at):
            latest = details.livestream
    return latest


async def read_list(
    pipeline: Reader, status: LivestreamStatus, page_no: int, page_size: int, deadline: float
) -> tuple[list[Livestream], Mapping[str, Any]]:
    """One page of ``GET /livestreams?status=...``, newest first: its items and paging."""
    envelope = await pipeline.send(
        "GET",
        "/livestreams",
        params={
            "status": str(status),
            "sort_order": "DSC",
            "per_page": page_size,
            "page_no": page_no,
        },
        deadline=deadline,
    )
    items = [structure(x, Livestream) for x in list_items(envelope.data, "livestreams")]
    return items, paging_from(envelope.body)


async def err_message(pipeline: Reader, livestream: Livestream, deadline: float) -> str | None:
    """The errored session's `err_message`, best effort (None when it cannot be read).

    It may take `ERROR_DETAIL_GRACE` seconds past `deadline` (not past the client's timeout).
    """
    now = pipeline.clock.now()
    deadline = min(max(deadline, now + ERROR_DETAIL_GRACE), now + pipeline.timeout)
    livestream_id = segment(livestream.id, "livestream id")
    for path in (
        f"/livestreams/{livestream_id}/active-livestream-session",
        f"/livestreams/{livestream_id}",
    ):
        try:
            envelope = await pipeline.send("GET", path, deadline=deadline)
            sessions = details_from(envelope.data).sessions
        except DyteError as exc:
            logger.info("livestream %s: reading the error message failed: %s", livestream.id, exc)
            continue
        if sessions and sessions[0].err_message:  # the newest session: the one that failed
            return sessions[0].err_message
    return None
