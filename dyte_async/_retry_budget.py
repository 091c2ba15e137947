"""The client-wide retry budget: how many retries one client may send.

One allowance per client, shared by every call, in the style of Finagle's retry budget, gRPC
retry throttling and botocore's retry quota. Each retry must take a whole token or is
refused, and the call fails fast with its real error. Tokens come from two pools:

- the *reserve*: starts full at `budget_floor` (10) and refills at
  `budget_refill_per_second` (1 a second) up to the floor, so a quiet client always has a
  few retries;
- the *earned* pool: each first attempt adds `budget_ratio` (0.2), and what is not spent
  fades with time constant `budget_window` (10 s), so the budget follows the recent traffic
  and a long healthy run cannot bank a retry storm for later.

Retries spend earned tokens first. Over a span of ``T`` seconds in which ``A`` first
attempts start, a client sends at most::

    retries <= budget_floor + budget_refill_per_second * T + budget_ratio * (A + R)

where ``R`` counts the first attempts made before the span, each weighted by
``exp(-age / budget_window)`` at its start (zero for a new client). Example, total outage,
100 calls at once on a new client, ``max_retries=3``: 100 first attempts, 20 earned and 10
reserve tokens, about 2 more refilled during the backoff: ~131 requests instead of 400. A
batch of 1,000 calls hit by a blip may retry about 200 of them.

Pure: time comes from an injected `Clock`.
"""

from __future__ import annotations

import math

from ._clock import Clock
from ._retry_policy import RetryPolicy

__all__ = ["RetryBudget"]


class RetryBudget:
    """The client-wide allowance of retries, shared by every call.

    See the module docstring for the two pools and the bound they give. Not thread-safe;
    one client lives on one event loop. Without a budget (``policy.budget_ratio is None``)
    every retry is allowed and `tokens` is infinite.

    Args:
        policy: supplies `budget_ratio`, `budget_floor`, `budget_refill_per_second` and
            `budget_window`.
        clock: reads time for the refill and the fading.
    """

    __slots__ = ("_clock", "_earned", "_policy", "_reserve", "_updated")

    def __init__(self, policy: RetryPolicy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        self._reserve = policy.budget_floor
        self._earned = 0.0
        self._updated = clock.now()

    def _catch_up(self) -> None:
        now = self._clock.now()
        elapsed = now - self._updated
        if elapsed <= 0:
            return
        self._updated = now
        policy = self._policy
        if self._reserve < policy.budget_floor:
            self._reserve = min(
                policy.budget_floor, self._reserve + elapsed * policy.budget_refill_per_second
            )
        if self._earned:
            self._earned *= math.exp(-elapsed / policy.budget_window)

    def record_attempt(self) -> None:
        """Note a first attempt (not a retry): earns `budget_ratio` tokens."""
        if self._policy.budget_ratio is None:
            return
        self._catch_up()
        self._earned += self._policy.budget_ratio

    def try_acquire(self) -> bool:
        """Ask for one retry.

        Returns:
            True, with one token taken (earned ones first), when the budget allows a
            retry; False when it is spent, and the caller should fail at once with the
            error it has.
        """
        if self._policy.budget_ratio is None:
            return True
        self._catch_up()
        if self._earned + self._reserve < 1.0:
            return False
        from_earned = min(self._earned, 1.0)
        self._earned -= from_earned
        self._reserve -= 1.0 - from_earned
        return True

    def record_success(self) -> None:
        """Note a call that succeeded. Deliberately a no-op.

        Tokens are earned per first attempt, not per success (unlike gRPC, whose
        successes refund a fraction), so the bound in the module docstring holds with no
        reference to outcomes. The hook exists so the request path can report successes
        and a later policy can use them without changing callers.
        """

    @property
    def tokens(self) -> float:
        """Retries currently affordable (``math.inf`` without a budget)."""
        if self._policy.budget_ratio is None:
            return math.inf
        self._catch_up()
        return self._reserve + self._earned

    def __repr__(self) -> str:
        return f"RetryBudget(tokens={self.tokens:.2f})"
