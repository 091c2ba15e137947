"""Bounded fan-out: run one coroutine per item, `concurrency` at a time, results as they finish."""

from __future__ import annotations

import math
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Generic, TypeVar

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from dyte_async.errors import InvalidArgumentError

__all__ = ["FanOut", "Outcome"]

T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen(kw_only=True)
class Outcome(Generic[T, R]):
    """What one item of a fan-out came to: its result, or the exception it raised.

    Attributes:
        item: the input item.
        result: the coroutine's return value (None when it failed).
        error: the exception it raised (None when it succeeded).
        index: the item's position in the input.
    """

    item: T
    index: int
    result: R | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """True when the coroutine returned without raising."""
        return self.error is None

    def unwrap(self) -> R:
        """The result, or raise the error."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # R may itself be Optional


class FanOut(Generic[T, R]):
    """Runs `fn(item)` for every item with at most `concurrency` running at once.

    Use it as an async context manager, which guarantees that leaving the block early
    (break, error, cancellation) cancels the work still running and leaves no task behind:

        async with dyte.map(dyte.livestreams.stop, meeting_ids, concurrency=20) as outcomes:
            async for outcome in outcomes:
                print(outcome.item, "ok" if outcome.ok else outcome.error)

    `async for outcome in dyte.map(...)` also works when the loop runs to the end.
    Items are read lazily (an iterable or async iterable of any length); an exception in
    `fn` becomes the `error` of that item's `Outcome` and never stops the others.
    """

    def __init__(
        self,
        fn: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int,
    ) -> None:
        if not _positive_int(concurrency):
            raise InvalidArgumentError(
                f"concurrency must be a positive integer, got {concurrency!r}"
            )
        self._fn = fn
        self._items = items
        self._concurrency = concurrency
        self._tg: TaskGroup | None = None
        self._receive: MemoryObjectReceiveStream[Outcome[T, R]] | None = None

    async def __aenter__(self) -> AsyncIterator[Outcome[T, R]]:
        send, receive = anyio.create_memory_object_stream[Outcome[T, R]](math.inf)
        self._receive = receive
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._feed, send)
        return receive

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        assert self._receive is not None
        self._tg.cancel_scope.cancel()
        try:
            return await self._tg.__aexit__(exc_type, exc, tb)
        finally:
            self._receive.close()

    def __aiter__(self) -> AsyncIterator[Outcome[T, R]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Outcome[T, R]]:
        async with self as outcomes:
            async for outcome in outcomes:
                yield outcome

    async def _feed(self, send: MemoryObjectSendStream[Outcome[T, R]]) -> None:
        assert self._tg is not None
        slots = anyio.Semaphore(self._concurrency)
        index = 0
        tg = self._tg
        async with send:
            if isinstance(self._items, AsyncIterable):
                async for item in self._items:
                    await slots.acquire()
                    tg.start_soon(self._run, item, index, slots, send.clone())
                    index += 1
            else:
                for item in self._items:
                    await slots.acquire()
                    tg.start_soon(self._run, item, index, slots, send.clone())
                    index += 1

    async def _run(
        self,
        item: T,
        index: int,
        slots: anyio.Semaphore,
        send: MemoryObjectSendStream[Outcome[T, R]],
    ) -> None:
        async with send:
            try:
                try:
                    result = await self._fn(item)
                except Exception as exc:
                    outcome: Outcome[T, R] = Outcome(item=item, index=index, error=exc)
                else:
                    outcome = Outcome(item=item, index=index, result=result)
                await send.send(outcome)
            finally:
                slots.release()


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
