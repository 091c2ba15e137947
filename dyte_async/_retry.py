"""Retry arithmetic: the pure retry decision, and the one place the retry names are found.

The pieces, all pure (no I/O; time comes from an injected `Clock`), one module each:

`RetryPolicy` (`_retry_policy`)
    The per-call rules: which failures are retried, how often, the jittered exponential
    backoff, and the cap on a server-sent ``Retry-After``.

`parse_retry_after` (`_retry_after`)
    Reads ``retry-after-ms`` and then ``Retry-After`` (delay-seconds or an HTTP-date).

`RetryBudget` (`_retry_budget`)
    One allowance of retries per client, shared by every call, so an outage cannot turn
    into a retry storm.

`decide` (here)
    The retry decision for one failed attempt, as a pure function of the `Failure`, the
    attempt number, the policy, the time left and the budget's tokens: `RetryIn` (sleep,
    then send again), `RECOVER` (ask whether an ambiguous write happened), `SETTLE` (an
    answer that, after an earlier attempt may have taken effect, means it did) or `GiveUp`.

Import these names from here; the other modules are its parts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Literal

import attrs

from ._retry_after import parse_retry_after
from ._retry_budget import RetryBudget
from ._retry_policy import RETRYABLE_STATUSES, RetryPolicy
from .errors import APIStatusError

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
            timeout, a dropped connection, a 5xx), whatever the method; set by `_classify`.
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
