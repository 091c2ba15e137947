"""Arguments the API would refuse are refused before anything is sent."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from dyte_async import AsyncDyte, AsyncPaginator, DyteError, InvalidArgumentError
from dyte_async._checks import segment
from tests import spec_examples as ex
from tests.unit.harness import mocked

pytestmark = pytest.mark.anyio

GOOD = "bbb03399-24e3-4b0c-90ec-172e97e636be"

Call = Callable[[AsyncDyte, Any], Any]

#: Every method that takes an id as a path segment, with the bad id in that place.
ID_CALLS: list[tuple[str, Call]] = [
    ("livestreams.start", lambda d, v: d.livestreams.start(v)),
    ("livestreams.get_active", lambda d, v: d.livestreams.get_active(v)),
    ("livestreams.stop", lambda d, v: d.livestreams.stop(v)),
    ("livestreams.list_for_meeting", lambda d, v: d.livestreams.list_for_meeting(v)),
    ("livestreams.get", lambda d, v: d.livestreams.get(v)),
    ("livestreams.get_active_session", lambda d, v: d.livestreams.get_active_session(v)),
    ("livestreams.get_session", lambda d, v: d.livestreams.get_session(v)),
    ("livestreams.list_for_session", lambda d, v: d.livestreams.list_for_session(v)),
    ("livestreams.reset_stream_key", lambda d, v: d.livestreams.reset_stream_key(v)),
    ("livestreams.enable", lambda d, v: d.livestreams.enable(v)),
    ("livestreams.disable", lambda d, v: d.livestreams.disable(v)),
    ("meetings.get", lambda d, v: d.meetings.get(v)),
    ("meetings.update", lambda d, v: d.meetings.update(v, title="x")),
    ("meetings.replace", lambda d, v: d.meetings.replace(v, title="x")),
    (
        "participants.add",
        lambda d, v: d.participants.add(v, preset_name="host", custom_participant_id="c"),
    ),
    ("participants.list", lambda d, v: d.participants.list(v)),
    ("participants.get(meeting)", lambda d, v: d.participants.get(v, "p")),
    ("participants.get(participant)", lambda d, v: d.participants.get(GOOD, v)),
    ("participants.refresh_token", lambda d, v: d.participants.refresh_token(GOOD, v)),
    ("participants.update", lambda d, v: d.participants.update(GOOD, v, name="x")),
    ("participants.delete", lambda d, v: d.participants.delete(GOOD, v)),
]

BAD_IDS: list[Any] = ["", "   ", ".", "..", None, 123, b"bytes-id"]


async def _run(make: Callable[[], Any]) -> Any:
    """Call `make()` and drive what it returns: await a coroutine, walk a paginator."""
    result = make()
    if isinstance(result, AsyncPaginator):
        return await result.to_list()
    assert isinstance(result, Awaitable)
    return await result


@pytest.mark.parametrize(("name", "call"), ID_CALLS, ids=[n for n, _ in ID_CALLS])
async def test_a_bad_id_is_refused_with_nothing_sent(name: str, call: Call) -> None:
    async with mocked() as m:
        m.router.route().respond(200, json={"success": True, "data": {}})
        for bad in BAD_IDS:
            with pytest.raises(InvalidArgumentError) as info:
                await _run(functools.partial(call, m.dyte, bad))
            assert isinstance(info.value, ValueError)
            assert isinstance(info.value, DyteError)
    assert m.router.calls.call_count == 0


#: Every method that takes a livestream name, with the name given.
NAME_CALLS: list[tuple[str, Call]] = [
    ("livestreams.start", lambda d, v: d.livestreams.start(GOOD, name=v)),
    ("livestreams.create", lambda d, v: d.livestreams.create(name=v)),
]


@pytest.mark.parametrize(("method", "call"), NAME_CALLS, ids=[n for n, _ in NAME_CALLS])
@pytest.mark.parametrize(
    "name", ["town hall", "a/b", "émission", "name!", "semi;colon", "dot.ted", "tab\tbed"]
)
async def test_a_livestream_name_outside_the_specs_pattern_is_refused(
    name: str, method: str, call: Call
) -> None:
    async with mocked() as m:
        m.router.route().respond(201, json=ex.START_LIVESTREAM_201)
        with pytest.raises(InvalidArgumentError, match="name"):
            await call(m.dyte, name)
    assert m.router.calls.call_count == 0


@pytest.mark.parametrize("name", ["", "prdmmp-xhycsl", "Town_Hall-2024", "A1_b2-C3"])
async def test_a_livestream_name_inside_the_pattern_is_sent(name: str) -> None:
    async with mocked() as m:
        m.router.route().respond(201, json=ex.START_LIVESTREAM_201)
        await m.dyte.livestreams.start(GOOD, name=name)
    assert m.router.calls.call_count == 1


@pytest.mark.parametrize("sort_order", ["UP", "descending", ""])
async def test_an_unknown_sort_order_is_refused(sort_order: Any) -> None:
    async with mocked() as m:
        with pytest.raises(InvalidArgumentError, match="sort_order"):
            await _run(lambda: m.dyte.livestreams.list(sort_order=sort_order))
    assert m.router.calls.call_count == 0


#: Every list method, with `per_page` given.
PAGED_CALLS: list[tuple[str, Call]] = [
    ("livestreams.list", lambda d, v: d.livestreams.list(per_page=v)),
    ("meetings.list", lambda d, v: d.meetings.list(per_page=v)),
    ("participants.list", lambda d, v: d.participants.list(GOOD, per_page=v)),
]


@pytest.mark.parametrize(("method", "call"), PAGED_CALLS, ids=[n for n, _ in PAGED_CALLS])
@pytest.mark.parametrize("per_page", [0, -1, True])
async def test_a_non_positive_per_page_is_refused(per_page: Any, method: str, call: Call) -> None:
    async with mocked() as m:
        with pytest.raises(InvalidArgumentError, match="per_page"):
            await _run(functools.partial(call, m.dyte, per_page))
    assert m.router.calls.call_count == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"preset_name": "", "custom_participant_id": "c"},
        {"preset_name": "host", "custom_participant_id": ""},
    ],
)
async def test_add_participant_requires_preset_and_custom_id(fields: dict[str, Any]) -> None:
    async with mocked() as m:
        with pytest.raises(InvalidArgumentError):
            await m.dyte.participants.add(GOOD, **fields)
    assert m.router.calls.call_count == 0


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("a/b", "a%2Fb"),
        ("../admin", "..%2Fadmin"),
        ("id?x=1", "id%3Fx%3D1"),
        ("id#frag", "id%23frag"),
        ("sp ace", "sp%20ace"),
        ("100%", "100%25"),
    ],
)
async def test_path_segments_are_url_quoted(value: str, quoted: str) -> None:
    async with mocked() as m:
        m.router.route().respond(200, json=ex.ACTIVE_LIVESTREAM_200)
        await m.dyte.livestreams.get_active(value)
    (request,) = m.requests
    assert request.url.raw_path == f"/v2/meetings/{quoted}/active-livestream".encode()
    assert request.url.host == "api.dyte.io"


async def test_a_body_that_cannot_be_json_is_refused_with_nothing_sent() -> None:
    async with mocked() as m:
        m.router.route().respond(201, json=ex.MEETING_200)
        with pytest.raises(InvalidArgumentError):
            await m.dyte.meetings.create(title="x", recording_config={"bad": object()})
    assert m.router.calls.call_count == 0


def test_a_remembered_segment_still_refuses_a_bad_id_every_time() -> None:
    # `segment` remembers the ids it quoted (the same few, call after call): never a
    # refusal, and never an id under another argument's name.
    for _ in range(3):
        assert segment("m/1", "meeting_id") == "m%2F1"
        with pytest.raises(InvalidArgumentError, match="meeting_id"):
            segment("..", "meeting_id")
        with pytest.raises(InvalidArgumentError, match="session_id"):
            segment("..", "session_id")
        with pytest.raises(InvalidArgumentError, match="must be a non-empty id string"):
            segment(5, "meeting_id")
