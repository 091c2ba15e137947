"""What the pipeline does after a failed attempt: recover, settle, retry or give up.

`FailureHandling` is a part of `Pipeline` (`_pipeline.py`), kept apart so that each module
holds one idea: `_after_failure` acts on the pure decision of `_retry.decide` (return the
recovered or settled answer, sleep before the next attempt, or raise the failure's error),
with the INFO lines that say why.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NoReturn

from dyte_async._clock import Clock
from dyte_async._response import Envelope
from dyte_async._retry import (
    Decision,
    Failure,
    GiveUp,
    RecoverFirst,
    RetryBudget,
    RetryIn,
    RetryPolicy,
    SettleNow,
    decide,
)
from dyte_async._stats import Counters
from dyte_async._writes import Recover, Settle
from dyte_async.errors import APIStatusError, DyteError

if TYPE_CHECKING:
    from dyte_async._telemetry._otel import CallTrace

__all__ = ["Call", "FailureHandling", "raise_failure"]

logger = logging.getLogger("dyte_async")

# What the INFO line says when a retry does not fit (`GiveUp.why`).
_GIVE_UP_REASONS = {
    "cap": "the server's Retry-After exceeds the cap",
    "deadline": "the wait would outlast the call's deadline",
}


class Call:
    """What every attempt of one call shares."""

    __slots__ = ("deadline", "idempotent", "method", "path", "started", "traced")

    def __init__(
        self,
        method: str,
        path: str,
        *,
        started: float,
        deadline: float,
        idempotent: bool,
        traced: CallTrace | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.started = started
        self.deadline = deadline
        self.idempotent = idempotent
        #: the call's spans (`_telemetry`), None when nothing is recorded
        self.traced = traced


class FailureHandling:
    """The pipeline's handling of failed attempts (a mixin of `Pipeline`)."""

    policy: RetryPolicy
    budget: RetryBudget
    clock: Clock
    _counters: Counters

    async def _after_failure(
        self,
        call: Call,
        failure: Failure,
        attempt: int,
        recover: Recover | None,
        settle: Settle | None,
    ) -> Envelope | None:
        """Act on `decide`: return the recovered or settled answer, sleep before a retry
        (None), or raise the failure's error. `settle`: the call's rule, passed only once
        an earlier attempt may have taken effect."""
        decision = self._decide(
            call,
            failure,
            attempt,
            can_recover=recover is not None,
            settled_by=settle.statuses if settle is not None else frozenset(),
        )
        if isinstance(decision, SettleNow):
            assert settle is not None
            return await self._settle(call, failure, settle)
        if isinstance(decision, RecoverFirst):
            assert recover is not None
            found = await self._recover(call, failure, recover)
            if found is not None:
                return found
            failure = failure.after_recovery()
            decision = self._decide(call, failure, attempt, can_recover=False)
        if isinstance(decision, GiveUp):
            self._give_up(call, failure, decision)
        assert isinstance(decision, RetryIn)
        self.budget.try_acquire()
        self._counters.retries += 1
        logger.info(
            "%s %s: retry %d/%d in %.2fs after %s (%.2fs elapsed)",
            call.method,
            call.path,
            attempt,
            self.policy.max_retries,
            decision.delay,
            failure.reason,
            self.clock.now() - call.started,
        )
        if call.traced is not None:
            call.traced.event(
                "dyte.retry.scheduled",
                {
                    "dyte.retry.attempt": attempt,
                    "dyte.retry.delay": decision.delay,
                    "dyte.retry.reason": failure.reason,
                },
            )
        if decision.delay > 0:
            await self.clock.sleep(decision.delay)
        return None

    def _decide(
        self,
        call: Call,
        failure: Failure,
        attempt: int,
        *,
        can_recover: bool,
        settled_by: frozenset[int] = frozenset(),
    ) -> Decision:
        return decide(
            failure,
            attempt=attempt,
            policy=self.policy,
            remaining=call.deadline - self.clock.now(),
            budget_tokens=self.budget.tokens,
            can_recover=can_recover,
            settled_by=settled_by,
            after_maybe_applied=bool(settled_by),
        )

    async def _recover(self, call: Call, failure: Failure, recover: Recover) -> Envelope | None:
        """Ask `recover` whether the ambiguous write happened; raise when it cannot tell."""
        try:
            found = await recover(call.deadline)
        except DyteError as exc:
            logger.info(
                "%s %s: not retried after %s: the recovery check failed (%s)",
                call.method,
                call.path,
                failure.reason,
                _describe(exc),
            )
            raise_failure(failure)
        if found is not None:
            self._counters.recovered += 1
            if call.traced is not None:
                call.traced.event("dyte.write.recovered", {"dyte.retry.reason": failure.reason})
            logger.info(
                "%s %s: recovered after %s: the write had taken effect",
                call.method,
                call.path,
                failure.reason,
            )
        return found

    async def _settle(self, call: Call, failure: Failure, settle: Settle) -> Envelope:
        """The call's `Settle` rule matched: log it and return its result."""
        logger.info(
            "%s %s: %s after an earlier attempt may have taken effect: %s",
            call.method,
            call.path,
            failure.reason,
            settle.meaning,
        )
        self._counters.recovered += 1
        if call.traced is not None:
            call.traced.event("dyte.write.settled", {"dyte.retry.reason": failure.reason})
        if settle.resolve is None:
            return Envelope(data=None, body={}, status_code=failure.status or 200)
        try:
            return await settle.resolve(call.deadline)
        except DyteError as exc:
            logger.info(
                "%s %s: %s stands: reading the result failed (%s)",
                call.method,
                call.path,
                failure.reason,
                _describe(exc),
            )
            raise_failure(failure)

    def _give_up(self, call: Call, failure: Failure, decision: GiveUp) -> NoReturn:
        """Log why the failure is not retried (and count a budget refusal), then raise it."""
        if call.traced is not None and decision.why != "final":
            call.traced.event(
                "dyte.retry.refused",
                {"dyte.retry.refused_by": decision.why, "dyte.retry.reason": failure.reason},
            )
        if decision.why == "budget":
            self._counters.retries_refused += 1
            logger.info(
                "%s %s: retry refused by the retry budget after %s",
                call.method,
                call.path,
                failure.reason,
            )
        elif decision.why != "final":
            logger.info(
                "%s %s: not retried after %s: %s",
                call.method,
                call.path,
                failure.reason,
                _GIVE_UP_REASONS[decision.why],
            )
        raise_failure(failure)


def raise_failure(failure: Failure) -> NoReturn:
    """Raise the failure's error, chained to the httpx exception behind it."""
    raise failure.error from failure.cause


def _describe(error: BaseException) -> str:
    if isinstance(error, APIStatusError):
        return f"status {error.status_code}"
    return type(error).__name__
