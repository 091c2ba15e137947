"""Lazy pagination over the API's `page_no` / `per_page` lists."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any, Generic, TypeVar

from dyte_async._convert import paging_from
from dyte_async._response import Envelope
from dyte_async.models import Page

__all__ = ["AsyncPaginator", "FetchPage", "int_or_none", "page_from"]

T = TypeVar("T")

#: Fetches page `page_no` (1-based).
FetchPage = Callable[[int], Awaitable[Page[T]]]


class AsyncPaginator(Generic[T]):
    """Every item of a list endpoint, fetched a page at a time, only when needed.

    `async for item in paginator` walks all items; `async for page in paginator.pages()`
    gives `Page` objects; `await paginator.to_list(limit=None)` collects them.

    A walk ends at an empty page, at a page shorter than `per_page` (when known), when
    the API's `total_count` has been reached, or when a page's offsets repeat the previous
    page's (a server that ignores `page_no` cannot make it loop forever).
    """

    def __init__(self, fetch: FetchPage[T], *, per_page: int | None = None) -> None:
        self._fetch = fetch
        self._per_page = per_page

    async def pages(self) -> AsyncGenerator[Page[T], None]:
        """Yield each page in order, fetching lazily."""
        page_no = 1
        seen = 0
        previous: Page[T] | None = None
        while True:
            page = await self._fetch(page_no)
            if not page.items or (previous is not None and _repeats(page, previous)):
                return
            previous = page
            yield page
            seen += len(page.items)
            if self._is_last(page, seen):
                return
            page_no += 1

    def _is_last(self, page: Page[T], seen: int) -> bool:
        if page.total_count is not None:
            end = page.end_offset if page.end_offset is not None else seen
            if end >= page.total_count or seen >= page.total_count:
                return True
        return self._per_page is not None and len(page.items) < self._per_page

    async def __aiter__(self) -> AsyncIterator[T]:
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                for item in page.items:
                    yield item

    async def to_list(self, limit: int | None = None) -> list[T]:
        """Collect items into a list.

        Args:
            limit: stop after this many items (and fetch no further page).
        """
        out: list[T] = []
        if limit is not None and limit <= 0:
            return out
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                for item in page.items:
                    out.append(item)
                    if limit is not None and len(out) >= limit:
                        return out
        return out

    async def first_page(self) -> Page[T]:
        """Only the first page."""
        return await self._fetch(1)


def _repeats(page: Page[T], previous: Page[T]) -> bool:
    """True when `page` is the previous page again (a server ignoring `page_no`)."""
    if page.start_offset is not None and previous.end_offset is not None:
        return page.start_offset <= previous.end_offset
    return page.items == previous.items


def int_or_none(value: Any) -> int | None:
    """`value` as an int when it is a whole number (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def page_from(envelope: Envelope, items: Iterable[T], page_no: int) -> Page[T]:
    """A `Page` of `items` with the answer's paging numbers (wherever it put them)."""
    paging = paging_from(envelope.body)
    return Page(
        items=tuple(items),
        total_count=int_or_none(paging.get("total_count")),
        start_offset=int_or_none(paging.get("start_offset")),
        end_offset=int_or_none(paging.get("end_offset")),
        page_no=page_no,
    )
