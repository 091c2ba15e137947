"""The server-side rate limit: a sliding window per client address, like Dyte's 2000/min per IP."""

from __future__ import annotations

import math
from collections import deque

__all__ = ["SlidingWindow"]


class SlidingWindow:
    """At most `limit` accepted requests per client in any `window` seconds.

    Args:
        limit: requests allowed in one window (at least 1).
        window: the window's length in seconds (positive).
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("rate_limit needs a limit >= 1 and a window > 0")
        self.limit = limit
        self.window = float(window)
        self._accepted: dict[str, deque[float]] = {}

    def acquire(self, client: str, now: float) -> int | None:
        """Count one request of `client` at clock time `now` if the window has room.

        Returns:
            None when accepted; otherwise the whole seconds (at least 1) until a slot frees.
            A rejected request is not counted.
        """
        accepted = self._accepted.setdefault(client, deque())
        while accepted and accepted[0] <= now - self.window:
            accepted.popleft()
        if len(accepted) < self.limit:
            accepted.append(now)
            return None
        wait = accepted[0] + self.window - now
        return max(1, math.ceil(wait - 1e-9))

    def reset(self) -> None:
        """Forget every client's history."""
        self._accepted.clear()
