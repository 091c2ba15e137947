"""Retry arithmetic: when to retry, how long to wait, and how many retries a client may send.

Three independent pieces, all pure (no I/O; time comes from an injected `Clock`):

`RetryPolicy`
    The per-call rules. A call is retried on connect errors, timeouts and the statuses in
    `retry_statuses` (408, 429, 500, 502, 503, 504), at most `max_retries` times. Before
    retry *n* (1-based) it waits ``min(initial_backoff * 2 ** (n - 1), max_backoff)``
    multiplied by a jitter factor drawn uniformly from ``[1 - jitter, 1]``: by default about
    0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s, ... A server-sent ``Retry-After`` replaces the backoff,
    up to `max_retry_after` (60 s); a longer one, or one that would outlast the call's
    remaining deadline, means "do not retry": the call fails at once with the server's error
    instead of sleeping towards a timeout it cannot beat.

`parse_retry_after`
    Reads ``retry-after-ms`` (milliseconds, a de-facto extension) and then ``Retry-After``
    as delay-seconds (integer or decimal) or an HTTP-date, header names case-insensitive.

`decide`
    The retry decision for one failed attempt, as a pure function of the `Failure`, the
    attempt number, the policy, the time left and the budget's tokens: `RetryIn` (sleep,
    then send again), `RECOVER` (ask whether an ambiguous write happened), `SETTLE` (an
    answer that, after an earlier attempt may have taken effect, means it did) or `GiveUp`.

`RetryBudget`
    One allowance per client, shared by every call, in the style of Finagle's retry
    budget, gRPC retry throttling and botocore's retry quota. Each retry must take a whole
    token or is refused, and the call fails fast with its real error. Tokens come from
    two pools:

    - the *reserve*: starts full at `budget_floor` (10) and refills at
      `budget_refill_per_second` (1 a second) up to the floor, so a quiet client always
      has a few retries;
    - the *earned* pool: each first attempt adds `budget_ratio` (0.2), and what is not
      spent fades with time constant `budget_window` (10 s), so the budget follows the
      recent traffic and a long healthy run cannot bank a retry storm for later.

    Retries spend earned tokens first. Over a span of ``T`` seconds in which ``A`` first
    attempts start, a client sends at most::

        retries <= budget_floor + budget_refill_per_second * T + budget_ratio * (A + R)

    where ``R`` counts the first attempts made before the span, each weighted by
    ``exp(-age / budget_window)`` at its start (zero for a new client). Example, total
    outage, 100 calls at once on a new client, ``max_retries=3``: 100 first attempts, 20
    earned and 10 reserve tokens, about 2 more refilled during the backoff: ~131 requests
    instead of 400. A batch of 1,000 calls hit by a blip may retry about 200 of them.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timezone
from typing import Literal

import attrs

from ._clock import Clock
from .errors import APIStatusError, ConfigurationError

__all__ = [
    "RECOVER",
    "RETRYABLE_STATUSES",
    "SETTLE",
    "Decision",
    "Failure",
    "GiveUp",
    "RecoverFirst",
    "RetryBudget",
    "RetryIn",
    "RetryPolicy",
    "SettleNow",
    "decide",
    "parse_retry_after",
]

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


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """`name` (lower case) from `headers`, whatever the case of the stored key."""
    value = headers.get(name)
    if value is not None:
        return value
    for key, item in headers.items():
        if key.lower() == name:
            return item
    return None


def _parse_seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isnan(value):
        return None
    return max(0.0, value)


def parse_retry_after(
    headers: Mapping[str, str], *, wall_now: Callable[[], float] | None = None
) -> float | None:
    """How long the server asks us to wait, from its response headers.

    ``retry-after-ms`` (milliseconds, decimals allowed) wins when it parses; then
    ``Retry-After`` as delay-seconds (``"5"``, ``"1.5"``) or an HTTP-date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``), taken relative to `wall_now`. Header names
    match case-insensitively, for plain dicts as for `httpx.Headers`.

    Args:
        headers: the response headers.
        wall_now: the current wall-clock time as a Unix timestamp (for HTTP-dates);
            `time.time` (looked up at each call) when None.

    Returns:
        Seconds to wait: 0 for a negative value or a date in the past, ``math.inf`` for an
        infinite or overflowing number (which no cap allows), or None when there is no
        such header or it does not parse.
    """
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        value = _parse_seconds(millis.strip())
        if value is not None:
            return value / 1000.0
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    value = _parse_seconds(text)
    if value is not None:
        return value
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP-dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    try:
        target = when.timestamp()
    except (OverflowError, OSError, ValueError):  # pragma: no cover - platform limits
        return None
    now = time.time() if wall_now is None else wall_now()
    return max(0.0, target - now)


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


class Failure:
    """A failed attempt and what it means for the next one (a plain class: no attrs
    class is built for it at import).

    Args:
        error: the error the call raises if it is not retried.
        cause: the exception behind `error` (its ``__cause__``), if any.
        retryable: worth retrying as it is (the method allows it, or nothing can have
            been sent).
        transient: worth retrying once we know the write did not happen.
        ambiguous: a non-idempotent request may or may not have taken effect.
        retry_after: the wait the server asked for, in seconds (or the 429 pause chosen).
        reason: a short description for the logs ("status 503", "ReadTimeout").
        maybe_applied: the request may have reached the server and taken effect (a read
            timeout, a dropped connection, a 5xx), whatever the method; set by the pipeline.
    """

    __slots__ = (
        "ambiguous",
        "cause",
        "error",
        "maybe_applied",
        "reason",
        "retry_after",
        "retryable",
        "transient",
    )

    def __init__(
        self,
        *,
        error: BaseException,
        cause: BaseException | None = None,
        retryable: bool,
        transient: bool,
        ambiguous: bool = False,
        retry_after: float | None = None,
        reason: str,
        maybe_applied: bool = False,
    ) -> None:
        self.error = error
        self.cause = cause
        self.retryable = retryable
        self.transient = transient
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.reason = reason
        self.maybe_applied = maybe_applied

    @property
    def status(self) -> int | None:
        """The HTTP status of the server's error answer, or None for a network failure."""
        error = self.error
        return error.status_code if isinstance(error, APIStatusError) else None

    def after_recovery(self) -> Failure:
        """This failure once a recovery read proved the write did not happen.

        Returns:
            A copy, no longer ambiguous, retryable exactly when it is transient.
        """
        return Failure(
            error=self.error,
            cause=self.cause,
            retryable=self.transient,
            transient=self.transient,
            ambiguous=False,
            retry_after=self.retry_after,
            reason=self.reason,
            maybe_applied=self.maybe_applied,
        )

    def __repr__(self) -> str:
        return f"Failure({self.reason!r}, retryable={self.retryable})"


@attrs.frozen
class RetryIn:
    """Retry after `delay` seconds (one budget token is to be spent)."""

    delay: float


@attrs.frozen
class RecoverFirst:
    """Ask the call's `recover` hook whether the ambiguous write took effect."""


@attrs.frozen
class GiveUp:
    """Fail with the error now. `why`: "final" (not retryable, or no retry left), "cap"
    (the server's Retry-After exceeds `max_retry_after`), "deadline" (the wait would
    outlast the call) or "budget" (the retry budget is spent)."""

    why: Literal["final", "cap", "deadline", "budget"]


@attrs.frozen
class SettleNow:
    """An earlier attempt may have taken effect and this answer's status says it did (e.g.
    a 404 for a stop retried after a lost answer): the call succeeds without a retry."""


RECOVER = RecoverFirst()
SETTLE = SettleNow()
Decision = RetryIn | RecoverFirst | SettleNow | GiveUp


def decide(
    failure: Failure,
    *,
    attempt: int,
    policy: RetryPolicy,
    remaining: float,
    budget_tokens: float,
    can_recover: bool,
    rand: Callable[[], float] = random.random,
    settled_by: frozenset[int] = frozenset(),
    after_maybe_applied: bool = False,
) -> Decision:
    """What to do after a failed attempt: pure, given `rand`.

    Args:
        failure: the failed attempt (`Failure.after_recovery` once recovery found nothing).
        attempt: the attempt that failed, 1-based (so also the number of the next retry).
        policy: the retry rules.
        remaining: seconds left before the call's deadline.
        budget_tokens: the client's `RetryBudget.tokens` now.
        can_recover: the call has a `recover` hook (and has not used it for this failure).
        rand: a source of floats in ``[0, 1)`` for the backoff jitter.
        settled_by: statuses that mean "done" once an earlier attempt of the call may
            have taken effect (the call's settle rule).
        after_maybe_applied: an earlier attempt of this call failed with
            `Failure.maybe_applied`.

    Returns:
        `SETTLE` for an answer in `settled_by` after an attempt that may have taken effect;
        `RECOVER` for an ambiguous failure that can be checked; `GiveUp` when the failure
        is not retryable, the retries are spent, the wait does not fit (the cap or the
        deadline) or the budget has no whole token; else `RetryIn` the policy's delay.
    """
    if after_maybe_applied and failure.status in settled_by:
        return SETTLE
    if failure.ambiguous and can_recover:
        return RECOVER
    if not failure.retryable or attempt > policy.max_retries:
        return GiveUp("final")
    retry_after = failure.retry_after
    delay = policy.delay_for(attempt, retry_after=retry_after, rand=rand, remaining=remaining)
    if delay is None or delay >= remaining:
        capped = retry_after is not None and retry_after > policy.max_retry_after
        return GiveUp("cap" if capped else "deadline")
    if budget_tokens < 1.0:
        return GiveUp("budget")
    return RetryIn(delay)
