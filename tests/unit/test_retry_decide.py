"""`_retry.decide`: the retry decision as a pure function, tested as a table."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dyte_async._retry import (
    RECOVER,
    Failure,
    GiveUp,
    RecoverFirst,
    RetryIn,
    RetryPolicy,
    decide,
)

POLICY = RetryPolicy(jitter=0.0, max_retries=2, initial_backoff=0.5, max_retry_after=60.0)
ERROR = RuntimeError("boom")


def failure(
    *,
    retryable: bool = True,
    transient: bool = True,
    ambiguous: bool = False,
    retry_after: float | None = None,
) -> Failure:
    return Failure(
        error=ERROR,
        retryable=retryable,
        transient=transient,
        ambiguous=ambiguous,
        retry_after=retry_after,
        reason="status 503",
    )


def run(
    f: Failure,
    *,
    attempt: int = 1,
    remaining: float = 30.0,
    tokens: float = 10.0,
    can_recover: bool = False,
    policy: RetryPolicy = POLICY,
) -> object:
    return decide(
        f,
        attempt=attempt,
        policy=policy,
        remaining=remaining,
        budget_tokens=tokens,
        can_recover=can_recover,
        rand=lambda: 0.0,
    )


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        ("first retry: initial backoff", {}, RetryIn(0.5)),
        ("second retry doubles", {"attempt": 2}, RetryIn(1.0)),
        ("retries spent", {"attempt": 3}, GiveUp("final")),
        ("wait outlasts the deadline", {"remaining": 0.4}, GiveUp("deadline")),
        ("wait ends exactly at the deadline", {"remaining": 0.5}, GiveUp("deadline")),
        ("wait just fits", {"remaining": 0.5001}, RetryIn(0.5)),
        ("budget empty", {"tokens": 0.99}, GiveUp("budget")),
        ("budget holds exactly one token", {"tokens": 1.0}, RetryIn(0.5)),
        ("no budget at all", {"tokens": math.inf}, RetryIn(0.5)),
    ],
)
def test_the_decision_table(case: str, kwargs: dict[str, float], expected: object) -> None:
    assert run(failure(), **kwargs) == expected, case  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("retry_after", "remaining", "expected"),
    [
        (5.0, 30.0, RetryIn(5.0)),
        (0.0, 30.0, RetryIn(0.0)),
        (-3.0, 30.0, RetryIn(0.0)),
        (60.0, 90.0, RetryIn(60.0)),
        (60.5, 90.0, GiveUp("cap")),
        (math.inf, 90.0, GiveUp("cap")),
        (20.0, 10.0, GiveUp("deadline")),
        (math.nan, 30.0, RetryIn(0.5)),
    ],
)
def test_retry_after_replaces_the_backoff(
    retry_after: float, remaining: float, expected: object
) -> None:
    assert run(failure(retry_after=retry_after), remaining=remaining) == expected


def test_not_retryable_gives_up_whatever_else_holds() -> None:
    assert run(failure(retryable=False)) == GiveUp("final")
    assert run(failure(retryable=False, transient=False)) == GiveUp("final")


def test_the_cap_is_named_only_for_a_retry_after_over_it() -> None:
    # A Retry-After within the cap that outlasts the deadline is a deadline give-up.
    assert run(failure(retry_after=60.0), remaining=59.0) == GiveUp("deadline")
    assert run(failure(retry_after=None), remaining=0.1) == GiveUp("deadline")


def test_an_ambiguous_failure_is_checked_first_when_it_can_be() -> None:
    ambiguous = failure(retryable=False, ambiguous=True)
    assert run(ambiguous, can_recover=True) is RECOVER
    assert isinstance(RECOVER, RecoverFirst)
    # Even with no retry left or no budget: the check may prove the write happened.
    assert run(ambiguous, can_recover=True, attempt=99, tokens=0.0) is RECOVER
    assert run(ambiguous, can_recover=False) == GiveUp("final")
    # Not ambiguous: no recovery, whatever the hook.
    assert run(failure(), can_recover=True) == RetryIn(0.5)


def test_after_recovery_a_transient_failure_is_retryable() -> None:
    ambiguous = failure(retryable=False, transient=True, ambiguous=True, retry_after=2.0)
    cleared = ambiguous.after_recovery()
    assert (cleared.retryable, cleared.transient, cleared.ambiguous) == (True, True, False)
    assert (cleared.error, cleared.cause, cleared.retry_after, cleared.reason) == (
        ERROR,
        None,
        2.0,
        "status 503",
    )
    assert run(cleared, can_recover=True) == RetryIn(2.0)
    final = failure(retryable=False, transient=False, ambiguous=True).after_recovery()
    assert (final.retryable, final.ambiguous) == (False, False)
    assert run(final) == GiveUp("final")
    assert repr(final) == "Failure('status 503', retryable=False)"


def test_jitter_comes_from_rand() -> None:
    policy = RetryPolicy(jitter=0.5, initial_backoff=1.0)
    f = failure()
    low = decide(
        f,
        attempt=1,
        policy=policy,
        remaining=30,
        budget_tokens=1,
        can_recover=False,
        rand=lambda: 0.999,
    )
    high = decide(
        f,
        attempt=1,
        policy=policy,
        remaining=30,
        budget_tokens=1,
        can_recover=False,
        rand=lambda: 0.0,
    )
    assert high == RetryIn(1.0)
    assert isinstance(low, RetryIn)
    assert low.delay == pytest.approx(1.0 * (1 - 0.5 * 0.999))


@given(
    retryable=st.booleans(),
    ambiguous=st.booleans(),
    can_recover=st.booleans(),
    attempt=st.integers(1, 10),
    remaining=st.floats(0.0, 100.0),
    tokens=st.floats(0.0, 20.0),
    retry_after=st.none() | st.floats(-5.0, 120.0),
)
def test_decide_properties(
    retryable: bool,
    ambiguous: bool,
    can_recover: bool,
    attempt: int,
    remaining: float,
    tokens: float,
    retry_after: float | None,
) -> None:
    f = failure(retryable=retryable, ambiguous=ambiguous, retry_after=retry_after)
    decision = run(f, attempt=attempt, remaining=remaining, tokens=tokens, can_recover=can_recover)
    if ambiguous and can_recover:
        assert decision is RECOVER
        return
    if isinstance(decision, RetryIn):
        # A retry is only ever allowed when everything allows it.
        assert retryable
        assert attempt <= POLICY.max_retries
        assert 0.0 <= decision.delay < remaining
        assert tokens >= 1.0
        assert retry_after is None or retry_after <= POLICY.max_retry_after
    else:
        assert isinstance(decision, GiveUp)
        if not retryable or attempt > POLICY.max_retries:
            assert decision == GiveUp("final")


def test_a_failure_is_not_ambiguous_unless_said() -> None:
    plain = Failure(error=ERROR, retryable=True, transient=True, reason="x")
    assert (plain.ambiguous, plain.cause, plain.retry_after) == (False, None, None)
