"""Get-or-create of presets by name: one create per name in a client, races across
processes answered by reading the winner, and the name look-up behind both."""

from __future__ import annotations

import re
from typing import Any, Final

import anyio
import attrs

from dyte_async._convert import list_items, structure
from dyte_async._pagination import AsyncPaginator
from dyte_async._pipeline import Pipeline, logger
from dyte_async._response import Envelope
from dyte_async.errors import (
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from dyte_async.models import Page, Preset, PresetSummary
from dyte_async.resources._base import page_from, segment

__all__ = ["GetOrCreate", "preset_path", "summaries"]

#: `per_page` of the name look-ups behind `get_or_create` (the fewest round trips).
_LOOKUP_PER_PAGE: Final = 100
#: How often `get_or_create` looks up and creates again after losing a race.
_CONFLICT_ROUNDS: Final = 3
# A 400/422 that means "that name is taken" (servers word it differently).
_NAME_TAKEN = re.compile(r"already|duplicate|unique|taken|in use", re.IGNORECASE)


def summaries(data: Any) -> list[PresetSummary]:
    """The `PresetSummary` items of a `GET /presets` answer's data."""
    return [structure(item, PresetSummary) for item in list_items(data, "presets")]


def preset_path(preset_id: str) -> str:
    """`/presets/{preset_id}`, the id checked and escaped as one path segment."""
    return f"/presets/{segment(preset_id, 'preset_id')}"


def _is_name_taken(exc: APIStatusError) -> bool:
    if isinstance(exc, ConflictError):
        return True
    return isinstance(exc, (BadRequestError, UnprocessableEntityError)) and bool(
        _NAME_TAKEN.search(exc.message)
    )


def _age(summary: PresetSummary) -> tuple[bool, float, str]:
    """Sort key: oldest first, then the smallest id (presets without a date last)."""
    created = summary.created_at
    return (created is None, 0.0 if created is None else created.timestamp(), summary.id)


@attrs.define
class _Flight:
    """Callers of `get_or_create` for one name in this client: one at a time, sharing results."""

    lock: anyio.Lock = attrs.field(factory=anyio.Lock)
    generation: int = 0
    result: Preset | None = None


class GetOrCreate:
    """The get-or-create logic of one client's `dyte.presets`.

    Args:
        pipeline: the client's request pipeline.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._flights: dict[str, _Flight] = {}

    async def ensure(self, name: str, data: dict[str, Any], deadline: float) -> Preset:
        """The preset called `name`, created from `data` when there is none.

        Args:
            name: the preset's name.
            data: the body to create it with.
            deadline: the call's deadline on the pipeline's clock.

        Returns:
            The whole `Preset`, found or created.

        Raises:
            APITimeoutError: the deadline passed, waiting for another caller included.
        """
        flight = self._flights.get(name)
        if flight is None:
            flight = self._flights[name] = _Flight()
        seen = flight.generation
        acquired = False
        with anyio.move_on_after(max(0.0, deadline - self._pipeline.clock.now())):
            await flight.lock.acquire()
            acquired = True
        if not acquired:
            raise APITimeoutError(f"preset {name!r}: timed out waiting for another caller")
        try:
            if flight.generation != seen and flight.result is not None:
                return flight.result  # resolved by the caller we waited for
            result = await self._resolve(name, data, deadline)
            flight.result = result
            flight.generation += 1
            return result
        finally:
            flight.lock.release()

    async def _resolve(self, name: str, data: dict[str, Any], deadline: float) -> Preset:
        last: APIStatusError | None = None
        clock = self._pipeline.clock
        for round_no in range(_CONFLICT_ROUNDS):
            if round_no >= 2:  # the winner was not readable at once: give it a moment
                pause = self._pipeline.policy.backoff(round_no - 1)
                await clock.sleep(max(0.0, min(pause, deadline - clock.now())))
            found = await self._find(name, deadline)
            if found is not None:
                return found
            try:
                return await self.create(name, data, deadline)
            except APIStatusError as exc:
                if not _is_name_taken(exc):
                    raise
                logger.info("create preset %r lost a race (%s); reading the winner", name, exc)
                last = exc
        assert last is not None
        raise last

    async def create(self, name: str, data: dict[str, Any], deadline: float) -> Preset:
        """`POST /presets`, recovering an ambiguous failure by looking `name` up.

        Args:
            name: the preset's name (what recovery looks for).
            data: the body.
            deadline: the call's deadline on the pipeline's clock.

        Returns:
            The new `Preset` (or the one recovery found).
        """

        async def recover(deadline: float) -> Envelope | None:
            return await self._find_envelope(name, deadline)

        envelope = await self._pipeline.send(
            "POST", "/presets", json=data, deadline=deadline, idempotent=False, recover=recover
        )
        return structure(envelope.data, Preset)

    async def _find(self, name: str, deadline: float) -> Preset | None:
        envelope = await self._find_envelope(name, deadline)
        return None if envelope is None else structure(envelope.data, Preset)

    async def _find_envelope(self, name: str, deadline: float) -> Envelope | None:
        """`GET /presets/{id}` of the oldest preset called `name`, or None when there is none."""
        matches = [s async for s in self._walk(deadline) if s.name == name]
        matches.sort(key=_age)
        for summary in matches:
            try:
                return await self._pipeline.send("GET", preset_path(summary.id), deadline=deadline)
            except NotFoundError:
                continue  # deleted since it was listed
        return None

    def _walk(self, deadline: float) -> AsyncPaginator[PresetSummary]:
        pipeline = self._pipeline

        async def fetch(page_no: int) -> Page[PresetSummary]:
            query = {"page_no": page_no, "per_page": _LOOKUP_PER_PAGE}
            envelope = await pipeline.send("GET", "/presets", params=query, deadline=deadline)
            return page_from(envelope, summaries(envelope.data), page_no)

        # per_page=None: a server that clamps the page size must not end the walk early.
        return AsyncPaginator(fetch, per_page=None)
