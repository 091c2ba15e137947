"""What a route handler receives, and the success envelopes it answers with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from dyte_async.testing._params import page_params
from dyte_async.testing._state import FakeState, Livestream, Meeting
from dyte_async.testing._wire import ApiError, WireResponse, json_response

__all__ = ["Ctx", "Handler", "find_livestream", "find_meeting", "ok", "paged"]


@attrs.frozen
class Ctx:
    """One matched request.

    Attributes:
        state: the fake's records.
        params: path parameters by the spec's names (e.g. `meeting_id`).
        query: query parameters (the last value wins when repeated).
        body: the parsed JSON body, or `MISSING`.
        default_per_page: `per_page` when the request gives none.
        max_per_page: the largest `per_page` honoured.
    """

    state: FakeState
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    default_per_page: int
    max_per_page: int

    def page(self) -> tuple[int, int]:
        """Return `(page_no, per_page)` of this request (see `page_params`)."""
        return page_params(
            self.query, default_per_page=self.default_per_page, max_per_page=self.max_per_page
        )


Handler = Callable[[Ctx], WireResponse]


def ok(data: Any, *, status: int = 200) -> WireResponse:
    """Return `{"success": true, "data": data}`."""
    return json_response(status, {"success": True, "data": data})


def paged(data: Any, paging: dict[str, int]) -> WireResponse:
    """Return the PagingResponse shape: `{"success": true, "data": data, "paging": paging}`."""
    return json_response(200, {"success": True, "data": data, "paging": paging})


def find_meeting(ctx: Ctx) -> Meeting:
    """Return the meeting named by the `meeting_id` path parameter.

    Raises:
        ApiError: 404 when there is none.
    """
    meeting_id = ctx.params["meeting_id"]
    meeting = ctx.state.meetings.get(meeting_id)
    if meeting is None:
        raise ApiError(404, f"No meeting found for meeting_id {meeting_id}")
    return meeting


def find_livestream(ctx: Ctx) -> Livestream:
    """Return the livestream named by the `livestream_id` path parameter.

    Raises:
        ApiError: 404 when there is none.
    """
    livestream_id = ctx.params["livestream_id"]
    livestream = ctx.state.livestreams.get(livestream_id)
    if livestream is None:
        raise ApiError(404, f"No livestream found for livestream_id {livestream_id}")
    return livestream
