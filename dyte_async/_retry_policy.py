"""The per-call retry rules: which failures are retried, how often, and how long to wait.

A call is retried on connect errors, timeouts and the statuses in `RetryPolicy.retry_statuses`
(408, 429, 500, 502, 503, 504), at most `max_retries` times. Before retry *n* (1-based) it
waits ``min(initial_backoff * 2 ** (n - 1), max_backoff)`` multiplied by a jitter factor
drawn uniformly from ``[1 - jitter, 1]``: by default about 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s,
... A server-sent ``Retry-After`` replaces the backoff, up to `max_retry_after` (60 s); a
longer one, or one that would outlast the call's remaining deadline, means "do not retry":
the call fails at once with the server's error instead of sleeping towards a timeout it
cannot beat.

Pure: no I/O, randomness injectable. The budget fields are read by `_retry_budget`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable

import attrs

from .errors import ConfigurationError

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy"]

RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
"""The statuses retried by default: request timeout, rate limited, and transient 5xx."""

# 2.0 ** 64 is far past any cap; keeps `backoff` free of OverflowError for huge retry numbers.
_MAX_EXPONENT = 64


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigurationError(message)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_statuses(statuses: Iterable[int]) -> frozenset[int]:
    return frozenset(statuses)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a client retries a failed request (immutable; share one freely).

    Args:
        max_retries: retries after the first attempt (0 disables retries). Default 2, so a
            call makes at most 3 requests. ``AsyncDyte(max_retries=...)`` sets only this.
        initial_backoff: the wait before the first retry, in seconds (before jitter).
        max_backoff: the cap on the doubling backoff, in seconds.
        jitter: the backoff is multiplied by a factor drawn uniformly from
            ``[1 - jitter, 1]``; 0 turns jitter off.
        max_retry_after: the longest server-sent ``Retry-After`` honoured, in seconds. A
            longer one fails the call at once with the server's error.
        retry_statuses: the HTTP statuses that are retried.
        budget_ratio: each first attempt adds this many retry tokens to the client's
            shared `RetryBudget` (so retries add at most this share of first attempts).
            ``None`` turns the budget off: every call may use all its retries.
        budget_floor: the reserve of retry tokens: a new client starts with it, and it is
            what a quiet client can always spend when everything fails at once.
        budget_refill_per_second: reserve tokens regained per second, up to the floor (an
            empty reserve is full again after 10 s by default).
        budget_window: the time constant, in seconds, over which unspent earned tokens
            fade, so the budget tracks roughly the last `budget_window` s of traffic.

    Raises:
        ConfigurationError: a value is out of range (negative, not finite, ...).
    """

    max_retries: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = attrs.field(default=RETRYABLE_STATUSES, converter=_to_statuses)
    budget_ratio: float | None = 0.2
    budget_floor: float = 10.0
    budget_refill_per_second: float = 1.0
    budget_window: float = 10.0

    def __attrs_post_init__(self) -> None:
        self._check_retries()
        self._check_budget()

    def _check_retries(self) -> None:
        _check(
            _is_int(self.max_retries) and self.max_retries >= 0,
            f"max_retries must be an integer >= 0, not {self.max_retries!r}",
        )
        for name in ("initial_backoff", "max_backoff", "max_retry_after", "budget_floor"):
            value = getattr(self, name)
            _check(
                _is_number(value) and math.isfinite(value) and value >= 0,
                f"{name} must be a finite number >= 0, not {value!r}",
            )
        _check(
            self.max_backoff >= self.initial_backoff,
            f"max_backoff ({self.max_backoff!r}) must be >= initial_backoff "
            f"({self.initial_backoff!r})",
        )
        _check(
            _is_number(self.jitter) and 0.0 <= self.jitter <= 1.0,
            f"jitter must be between 0 and 1, not {self.jitter!r}",
        )
        _check(
            all(_is_int(s) and 100 <= s <= 599 for s in self.retry_statuses),
            f"retry_statuses must be HTTP status codes, not {sorted(self.retry_statuses)!r}",
        )

    def _check_budget(self) -> None:
        ratio = self.budget_ratio
        _check(
            ratio is None or (_is_number(ratio) and math.isfinite(ratio) and ratio >= 0),
            f"budget_ratio must be a finite number >= 0 or None, not {ratio!r}",
        )
        refill = self.budget_refill_per_second
        _check(
            _is_number(refill) and math.isfinite(refill) and refill >= 0,
            f"budget_refill_per_second must be a finite number >= 0, not {refill!r}",
        )
        window = self.budget_window
        _check(
            _is_number(window) and math.isfinite(window) and window > 0,
            f"budget_window must be a finite number of seconds > 0, not {window!r}",
        )

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries (``max_retries=0``).

        Returns:
            ``RetryPolicy(max_retries=0)``.
        """
        return cls(max_retries=0)

    def without_budget(self) -> RetryPolicy:
        """This policy with the shared retry budget turned off.

        Returns:
            A copy with ``budget_ratio=None``: every call may use all of its retries.
        """
        return attrs.evolve(self, budget_ratio=None)

    @property
    def max_attempts(self) -> int:
        """Requests one call may send at most: ``max_retries + 1``."""
        return self.max_retries + 1

    @property
    def budget_enabled(self) -> bool:
        """Whether retries draw on the client's shared `RetryBudget`."""
        return self.budget_ratio is not None

    def should_retry_status(self, status_code: int) -> bool:
        """Whether an answer with this status is worth retrying.

        Args:
            status_code: the HTTP status of the answer.

        Returns:
            True when the status is in `retry_statuses`.
        """
        return status_code in self.retry_statuses

    def backoff(self, retry_number: int, *, rand: Callable[[], float] = random.random) -> float:
        """The jittered exponential wait before a retry.

        Args:
            retry_number: which retry this is, 1-based (1 = the first retry).
            rand: a source of floats in ``[0, 1)``; inject one for deterministic tests.

        Returns:
            ``min(initial_backoff * 2 ** (retry_number - 1), max_backoff)`` times a factor
            in ``[1 - jitter, 1]``, in seconds.

        Raises:
            ValueError: `retry_number` is below 1.
        """
        if retry_number < 1:
            raise ValueError(f"retry_number is 1-based, not {retry_number!r}")
        exponent = min(retry_number - 1, _MAX_EXPONENT)
        ceiling = min(self.initial_backoff * 2.0**exponent, self.max_backoff)
        return ceiling * (1.0 - self.jitter * rand())

    def delay_for(
        self,
        retry_number: int,
        *,
        retry_after: float | None,
        rand: Callable[[], float] = random.random,
        remaining: float | None = None,
    ) -> float | None:
        """The wait before a retry, or None when the call should fail now instead.

        Args:
            retry_number: which retry this is, 1-based.
            retry_after: the server's ``Retry-After`` in seconds (see `parse_retry_after`),
                or None when it sent none. A negative value counts as 0; NaN as absent.
            rand: a source of floats in ``[0, 1)`` for the backoff jitter.
            remaining: seconds left before the call's deadline, or None without one.

        Returns:
            `retry_after` when given and at most `max_retry_after`, else the `backoff`;
            None (do not retry) when `retry_after` exceeds `max_retry_after` or the wait
            would end after the deadline.

        Raises:
            ValueError: `retry_number` is below 1.
        """
        if retry_after is not None and not math.isnan(retry_after):
            if retry_after > self.max_retry_after:
                return None
            delay = max(0.0, retry_after)
        else:
            delay = self.backoff(retry_number, rand=rand)
        if remaining is not None and delay > remaining:
            return None
        return delay
