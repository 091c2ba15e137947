"""Lazy pagination over `page_no` / `per_page`: pages, items, limits, and misbehaving servers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyte_async import AsyncPaginator, InternalServerError, Livestream, Page
from tests import spec_examples as ex
from tests.unit.harness import mocked

pytestmark = pytest.mark.anyio

#: Stop a runaway paginator instead of hanging the test run.
MAX_CALLS = 20


def livestreams(n: int) -> list[dict[str, Any]]:
    item = ex.ALL_LIVESTREAMS_200["data"][0]
    return [{**item, "id": f"ls-{i}"} for i in range(1, n + 1)]


class PagedServer:
    """`GET /livestreams` over `items`, paged as the spec says (1-based inclusive offsets)."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        *,
        ignore_page_no: bool = False,
        paging: bool = True,
        paging_in_data: bool = False,
    ) -> None:
        self.items = items
        self.ignore_page_no = ignore_page_no
        self.paging = paging
        self.paging_in_data = paging_in_data
        self.pages_asked: list[tuple[int, int | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if len(self.pages_asked) >= MAX_CALLS:
            raise AssertionError("the paginator does not stop")
        params = request.url.params
        page_no = int(params["page_no"])
        per_page = int(params["per_page"]) if "per_page" in params else None
        self.pages_asked.append((page_no, per_page))
        size = per_page or 2
        start = 0 if self.ignore_page_no else (page_no - 1) * size
        chunk = self.items[start : start + size]
        paging = {
            "total_count": len(self.items),
            "start_offset": start + 1,
            "end_offset": start + len(chunk),
        }
        body: dict[str, Any] = {"success": True, "data": chunk}
        if self.paging and self.paging_in_data:
            body["data"] = {"data": chunk, "paging": paging}
        elif self.paging:
            body["paging"] = paging
        return httpx.Response(200, json=body)


def ids(items: Any) -> list[str]:
    return [item.id for item in items]


async def test_async_for_walks_three_pages_in_order() -> None:
    server = PagedServer(livestreams(5))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        seen = [ls.id async for ls in m.dyte.livestreams.list(per_page=2)]
    assert seen == ["ls-1", "ls-2", "ls-3", "ls-4", "ls-5"]
    assert server.pages_asked == [(1, 2), (2, 2), (3, 2)]


async def test_pages_gives_page_objects_with_counts_and_offsets() -> None:
    server = PagedServer(livestreams(5))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        pages = [page async for page in m.dyte.livestreams.list(per_page=2).pages()]
    assert [type(p) for p in pages] == [Page, Page, Page]
    assert [ids(p.items) for p in pages] == [["ls-1", "ls-2"], ["ls-3", "ls-4"], ["ls-5"]]
    assert [(p.total_count, p.start_offset, p.end_offset) for p in pages] == [
        (5, 1, 2),
        (5, 3, 4),
        (5, 5, 5),
    ]
    assert [p.page_no for p in pages] == [1, 2, 3]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert ids(pages[1]) == ["ls-3", "ls-4"]  # a Page iterates over its items
    assert all(isinstance(item, Livestream) for p in pages for item in p)


async def test_to_list_with_a_limit_fetches_only_the_pages_it_needs() -> None:
    server = PagedServer(livestreams(5))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = await m.dyte.livestreams.list(per_page=2).to_list(limit=3)
    assert ids(items) == ["ls-1", "ls-2", "ls-3"]
    assert server.pages_asked == [(1, 2), (2, 2)]


async def test_to_list_without_limit_collects_everything_and_limit_zero_fetches_nothing() -> None:
    server = PagedServer(livestreams(5))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        everything = await m.dyte.livestreams.list(per_page=2).to_list()
        assert len(server.pages_asked) == 3
        nothing = await m.dyte.livestreams.list(per_page=2).to_list(limit=0)
    assert ids(everything) == [f"ls-{i}" for i in range(1, 6)]
    assert nothing == []
    assert len(server.pages_asked) == 3


async def test_a_paginator_is_lazy() -> None:
    server = PagedServer(livestreams(5))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        paginator = m.dyte.livestreams.list(per_page=2)
        assert server.pages_asked == []
        pages = paginator.pages()
        assert isinstance(pages, AsyncGenerator)
        async with aclosing(pages):
            async for page in pages:
                assert ids(page) == ["ls-1", "ls-2"]
                break
        assert server.pages_asked == [(1, 2)]
        first = await paginator.first_page()
    assert server.pages_asked == [(1, 2), (1, 2)]
    assert ids(first) == ["ls-1", "ls-2"]


@pytest.fixture
def page_generators_closed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Wraps `AsyncPaginator.pages` to record each page generator's close."""
    closed: list[int] = []
    original = AsyncPaginator.pages

    async def pages(self: AsyncPaginator[Any]) -> AsyncGenerator[Page[Any], None]:
        try:
            async with aclosing(original(self)) as inner:
                async for page in inner:
                    yield page
        finally:
            closed.append(1)

    monkeypatch.setattr(AsyncPaginator, "pages", pages)
    return closed


async def test_to_list_with_a_limit_closes_its_page_generator(
    page_generators_closed: list[int],
) -> None:
    server = PagedServer(livestreams(5))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = await m.dyte.livestreams.list(per_page=2).to_list(limit=3)
        assert len(items) == 3
        assert page_generators_closed == [1]


async def test_closing_the_item_iterator_closes_its_page_generator(
    page_generators_closed: list[int],
) -> None:
    server = PagedServer(livestreams(5))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = aiter(m.dyte.livestreams.list(per_page=2))
        assert isinstance(items, AsyncGenerator)
        async with aclosing(items):
            first = await anext(items)
        assert first.id == "ls-1"
        assert page_generators_closed == [1]


async def test_an_empty_page_ends_the_walk() -> None:
    server = PagedServer(livestreams(4), paging=False)
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = await m.dyte.livestreams.list(per_page=2).to_list()
    assert ids(items) == ["ls-1", "ls-2", "ls-3", "ls-4"]
    assert server.pages_asked == [(1, 2), (2, 2), (3, 2)]


async def test_an_empty_first_page_yields_nothing() -> None:
    async with mocked() as m:
        m.router.get("/livestreams").respond(
            200,
            json={
                "success": True,
                "data": [],
                "paging": {"total_count": 0, "start_offset": 0, "end_offset": 0},
            },
        )
        pages = [page async for page in m.dyte.livestreams.list().pages()]
    assert pages == []
    assert m.router.calls.call_count == 1


async def test_a_short_page_ends_the_walk_without_paging() -> None:
    server = PagedServer(livestreams(3), paging=False)
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = await m.dyte.livestreams.list(per_page=2).to_list()
    assert ids(items) == ["ls-1", "ls-2", "ls-3"]
    assert server.pages_asked == [(1, 2), (2, 2)]


async def test_reaching_total_count_ends_the_walk_without_an_extra_request() -> None:
    server = PagedServer(livestreams(4))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = await m.dyte.livestreams.list(per_page=2).to_list()
    assert len(items) == 4
    assert server.pages_asked == [(1, 2), (2, 2)]


async def test_a_server_ignoring_page_no_with_repeating_offsets_does_not_loop() -> None:
    server = PagedServer(livestreams(5), ignore_page_no=True)
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = await m.dyte.livestreams.list(per_page=2).to_list()
    assert ids(items) == ["ls-1", "ls-2"]  # no item twice
    assert len(server.pages_asked) == 2


async def test_a_server_ignoring_page_no_without_paging_does_not_loop() -> None:
    server = PagedServer(livestreams(5), ignore_page_no=True, paging=False)
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = await m.dyte.livestreams.list(per_page=2).to_list()
    assert ids(items) == ["ls-1", "ls-2"]


async def test_paging_nested_in_data_is_read() -> None:
    sessions = [{**ex.LIVESTREAM_SESSION_200["data"], "id": f"s-{i}"} for i in range(1, 4)]
    server = PagedServer(sessions, paging_in_data=True)
    async with mocked() as m:
        m.router.get("/sessions/ms-1/livestream-sessions").mock(side_effect=server)
        pages = [
            page async for page in m.dyte.livestreams.list_for_session("ms-1", per_page=2).pages()
        ]
    assert [ids(p) for p in pages] == [["s-1", "s-2"], ["s-3"]]
    assert [p.total_count for p in pages] == [3, 3]
    assert server.pages_asked == [(1, 2), (2, 2)]


async def test_every_list_endpoint_pages_the_same_way() -> None:
    meetings = [{**ex.MEETING_X_EXAMPLE, "id": f"m-{i}"} for i in range(1, 4)]
    participants = [{**ex.PARTICIPANT_200["data"], "id": f"p-{i}"} for i in range(1, 4)]
    meeting_server = PagedServer(meetings)
    participant_server = PagedServer(participants)
    async with mocked() as m:
        m.router.get("/meetings").mock(side_effect=meeting_server)
        m.router.get("/meetings/m-1/participants").mock(side_effect=participant_server)
        got_meetings = await m.dyte.meetings.list(per_page=2).to_list()
        got_participants = await m.dyte.participants.list("m-1", per_page=2).to_list()
    assert ids(got_meetings) == ["m-1", "m-2", "m-3"]
    assert ids(got_participants) == ["p-1", "p-2", "p-3"]
    assert meeting_server.pages_asked == participant_server.pages_asked == [(1, 2), (2, 2)]


async def test_a_failing_page_raises_from_the_iteration() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(int(request.url.params["page_no"]))
        if calls[-1] == 2:
            return httpx.Response(500, json=ex.generic_error(500, "boom"))
        return PagedServer(livestreams(5))(request)

    async with mocked(max_retries=0) as m:
        m.router.get("/livestreams").mock(side_effect=handler)
        seen: list[str] = []

        async def walk() -> None:
            async for ls in m.dyte.livestreams.list(per_page=2):
                seen.append(ls.id)

        with pytest.raises(InternalServerError):
            await walk()
    assert seen == ["ls-1", "ls-2"]
    assert calls == [1, 2]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(total=st.integers(min_value=0, max_value=12), per_page=st.integers(min_value=1, max_value=5))
async def test_any_total_and_page_size_yield_every_item_once_in_the_fewest_requests(
    total: int, per_page: int
) -> None:
    server = PagedServer(livestreams(total))
    async with mocked() as m:
        m.router.get("/livestreams").mock(side_effect=server)
        items = await m.dyte.livestreams.list(per_page=per_page).to_list()
    assert ids(items) == [f"ls-{i}" for i in range(1, total + 1)]
    expected_pages = max(1, -(-total // per_page))
    assert [p for p, _ in server.pages_asked] == list(range(1, expected_pages + 1))
