"""The livestream calls' argument checks and recovery rules: what a retried write means."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dyte_async._pipeline import Pipeline
from dyte_async._response import Envelope
from dyte_async._writes import Recover, Settle
from dyte_async.errors import InvalidArgumentError, NotFoundError
from dyte_async.resources._base import segment

__all__ = ["STOPPED", "TimeArg", "sort_order", "start_recovery", "stop_message"]

_SORT_ORDERS = {"ASC": "ASC", "DSC": "DSC", "DESC": "DSC"}

# A stop's retry that finds nothing live: the lost first attempt stopped it.
STOPPED = Settle(statuses=frozenset({404}), meaning="the livestream was already stopped")

TimeArg = datetime | str | int | float | None


def sort_order(value: str | None) -> str | None:
    """The spec's spelling of a `sort_order` argument ("DESC" is sent as "DSC").

    Raises:
        InvalidArgumentError: neither ASC nor DESC (nor DSC), in any case.
    """
    if value is None:
        return None
    order = _SORT_ORDERS.get(str(value).upper())
    if order is None:
        raise InvalidArgumentError(f"sort_order must be ASC or DESC, got {value!r}")
    return order


def start_recovery(pipeline: Pipeline, meeting_id: str) -> tuple[Recover, Settle]:
    """How a start that may have taken effect is settled (never two livestreams).

    Args:
        pipeline: the client's pipeline (the reads are sent through it).
        meeting_id: the meeting being started.

    Returns:
        `(recover, settle)` for `Pipeline.send`: after an ambiguous failure, `recover`
        reads the meeting's active livestream (None when there is none: send again); a 409
        to a resent POST settles on the active livestream.

    Raises:
        InvalidArgumentError: a bad `meeting_id`.
    """
    active_path = f"/meetings/{segment(meeting_id, 'meeting_id')}/active-livestream"

    async def active(deadline: float) -> Envelope:
        return await pipeline.send("GET", active_path, deadline=deadline)

    async def recover(deadline: float) -> Envelope | None:
        try:
            return await active(deadline)
        except NotFoundError:
            return None

    settle = Settle(statuses=frozenset({409}), meaning="a livestream is active", resolve=active)
    return recover, settle


def stop_message(data: Any) -> str:
    """The message of a stop's answer; `""` when it has none (`{"data": {}}` is valid)."""
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        return str(data["message"])
    if isinstance(data, str):
        return data
    return ""
