"""`RecentIds`: remember recent delivery ids, to process each webhook delivery once."""

from __future__ import annotations

from collections import OrderedDict

from dyte_async._clock import SYSTEM_CLOCK, Clock

__all__ = ["RecentIds"]


class RecentIds:
    """A bounded, expiring set of ids: an LRU of at most `maxsize` ids kept `ttl` seconds.

    Senders retry a delivery they think failed (Dyte up to 5 times, when it gets no 2xx
    within 3 seconds), with the same `dyte-uuid` / `rtk-uuid`. Check each delivery id here
    and skip the ones already seen::

        recent = RecentIds()
        if recent.is_duplicate(event.delivery_id):
            return Response(status_code=200)    # seen: acknowledge, do nothing
        try:
            handle(event)
        except Exception:
            recent.forget(event.delivery_id)    # let the sender's retry through
            raise

    The ids live in this process only: with several worker processes, keep them in a
    shared store (Redis `SET NX EX`, a unique database column) instead.

    Args:
        maxsize: the most ids kept; the least recently seen are dropped first.
        ttl: seconds an id is remembered after it was last seen (None: until evicted).
        clock: where "now" comes from (a `FakeClock` in tests).

    Raises:
        ValueError: `maxsize` below 1 or `ttl` not positive.
    """

    __slots__ = ("_clock", "_seen", "maxsize", "ttl")

    def __init__(
        self, maxsize: int = 10_000, ttl: float | None = 86_400.0, *, clock: Clock | None = None
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be a positive integer, got {maxsize!r}")
        if ttl is not None and not ttl > 0:
            raise ValueError(f"ttl must be positive (or None), got {ttl!r}")
        self.maxsize: int = maxsize
        self.ttl: float | None = ttl
        self._clock = clock or SYSTEM_CLOCK
        self._seen: OrderedDict[str, float] = OrderedDict()

    def _expire(self, now: float) -> None:
        if self.ttl is None:
            return
        horizon = now - self.ttl
        seen = self._seen
        while seen:
            oldest = next(iter(seen.values()))
            if oldest > horizon:
                break
            seen.popitem(last=False)

    def is_duplicate(self, delivery_id: str | None) -> bool:
        """Record `delivery_id` and say whether it was already recorded (and not expired).

        Args:
            delivery_id: the delivery id; None (no header) is never a duplicate.

        Returns:
            True when the id was seen within `ttl` (skip the delivery), else False.
        """
        if delivery_id is None:
            return False
        now = self._clock.now()
        self._expire(now)
        seen = self._seen
        duplicate = delivery_id in seen
        seen[delivery_id] = now
        seen.move_to_end(delivery_id)
        while len(seen) > self.maxsize:
            seen.popitem(last=False)
        return duplicate

    def forget(self, delivery_id: str | None) -> None:
        """Drop `delivery_id`, so that a retry of it is processed (after a failure).

        Args:
            delivery_id: the id to drop; unknown ids and None are ignored.
        """
        if delivery_id is not None:
            self._seen.pop(delivery_id, None)

    def clear(self) -> None:
        """Forget every id."""
        self._seen.clear()

    def __contains__(self, delivery_id: object) -> bool:
        self._expire(self._clock.now())
        return delivery_id in self._seen

    def __len__(self) -> int:
        self._expire(self._clock.now())
        return len(self._seen)

    def __repr__(self) -> str:
        return f"RecentIds(maxsize={self.maxsize}, ttl={self.ttl}, size={len(self._seen)})"
