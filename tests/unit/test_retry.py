"""RetryPolicy arithmetic, Retry-After parsing and the shared retry budget."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyte_async._retry import RETRYABLE_STATUSES, RetryBudget, RetryPolicy, parse_retry_after
from dyte_async.errors import ConfigurationError
from dyte_async.testing import FakeClock

WALL_NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def const(value: float) -> Any:
    return lambda: value


# --- RetryPolicy -------------------------------------------------------------------------


def test_defaults_match_the_documented_policy() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == 2
    assert policy.max_attempts == 3
    assert policy.initial_backoff == 0.5
    assert policy.max_backoff == 8.0
    assert policy.max_retry_after == 60.0
    assert policy.retry_statuses == RETRYABLE_STATUSES == {408, 429, 500, 502, 503, 504}
    assert policy.budget_enabled
    assert (policy.budget_ratio, policy.budget_floor) == (0.2, 10.0)
    assert (policy.budget_refill_per_second, policy.budget_window) == (1.0, 10.0)


def test_backoff_doubles_from_half_a_second_to_the_cap() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert [policy.backoff(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_backoff_survives_huge_retry_numbers() -> None:
    assert RetryPolicy().backoff(10_000, rand=const(0.0)) == 8.0


def test_backoff_jitter_shortens_by_at_most_the_jitter_share() -> None:
    policy = RetryPolicy()
    assert policy.backoff(1, rand=const(0.0)) == 0.5
    assert policy.backoff(1, rand=const(0.999999)) == pytest.approx(0.375, abs=1e-6)
    assert policy.backoff(3, rand=const(0.5)) == 2.0 * 0.875


def test_backoff_rejects_retry_number_zero() -> None:
    with pytest.raises(ValueError, match="1-based"):
        RetryPolicy().backoff(0)


@settings(max_examples=300, deadline=None)
@given(
    retry_number=st.integers(min_value=1, max_value=10_000),
    r=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    jitter=st.floats(min_value=0.0, max_value=1.0),
    initial=st.floats(min_value=0.0, max_value=10.0),
    extra=st.floats(min_value=0.0, max_value=100.0),
)
def test_backoff_stays_within_jitter_bounds(
    retry_number: int, r: float, jitter: float, initial: float, extra: float
) -> None:
    policy = RetryPolicy(initial_backoff=initial, max_backoff=initial + extra, jitter=jitter)
    ceiling = min(initial * 2.0 ** min(retry_number - 1, 64), initial + extra)
    value = policy.backoff(retry_number, rand=const(r))
    assert ceiling * (1.0 - jitter) <= value <= ceiling


def test_delay_for_uses_backoff_without_retry_after() -> None:
    policy = RetryPolicy()
    assert policy.delay_for(2, retry_after=None, rand=const(0.0)) == 1.0


@pytest.mark.parametrize(("retry_after", "expected"), [(0.0, 0.0), (3.5, 3.5), (60.0, 60.0)])
def test_delay_for_honours_retry_after_up_to_the_cap(retry_after: float, expected: float) -> None:
    assert RetryPolicy().delay_for(1, retry_after=retry_after) == expected


@pytest.mark.parametrize("retry_after", [60.001, 3600.0, math.inf])
def test_delay_for_refuses_retry_after_over_the_cap(retry_after: float) -> None:
    assert RetryPolicy().delay_for(1, retry_after=retry_after) is None


def test_delay_for_cap_is_configurable() -> None:
    assert RetryPolicy(max_retry_after=120).delay_for(1, retry_after=90.0) == 90.0


def test_delay_for_treats_negative_retry_after_as_zero_and_nan_as_absent() -> None:
    policy = RetryPolicy()
    assert policy.delay_for(1, retry_after=-5.0) == 0.0
    assert policy.delay_for(1, retry_after=math.nan, rand=const(0.0)) == 0.5


def test_delay_for_refuses_a_wait_past_the_remaining_deadline() -> None:
    policy = RetryPolicy()
    assert policy.delay_for(1, retry_after=10.0, remaining=5.0) is None
    assert policy.delay_for(4, retry_after=None, rand=const(0.0), remaining=3.0) is None
    assert policy.delay_for(1, retry_after=5.0, remaining=5.0) == 5.0


def test_none_policy_never_retries() -> None:
    assert RetryPolicy.none().max_retries == 0
    assert RetryPolicy.none().max_attempts == 1


def test_without_budget_turns_the_budget_off() -> None:
    policy = RetryPolicy(max_retries=5).without_budget()
    assert policy.budget_ratio is None
    assert not policy.budget_enabled
    assert policy.max_retries == 5


def test_retry_statuses_accept_any_iterable() -> None:
    policy = RetryPolicy(retry_statuses=[503, 429])
    assert policy.retry_statuses == frozenset({429, 503})
    assert policy.should_retry_status(503)
    assert not policy.should_retry_status(500)


def test_policy_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        RetryPolicy().max_retries = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"max_retries": True},
        {"initial_backoff": -0.1},
        {"initial_backoff": math.nan},
        {"max_backoff": math.inf},
        {"initial_backoff": 2.0, "max_backoff": 1.0},
        {"jitter": -0.1},
        {"jitter": 1.5},
        {"max_retry_after": -1.0},
        {"retry_statuses": {42}},
        {"budget_ratio": -0.2},
        {"budget_ratio": math.inf},
        {"budget_floor": -1.0},
        {"budget_refill_per_second": -1.0},
        {"budget_refill_per_second": math.nan},
        {"budget_window": 0.0},
        {"budget_window": math.inf},
    ],
)
def test_policy_rejects_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)


def test_configuration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


# --- parse_retry_after -------------------------------------------------------------------


def parse(headers: Any) -> float | None:
    return parse_retry_after(headers, wall_now=lambda: WALL_NOW)


def http_date(offset: float) -> str:
    return format_datetime(datetime.fromtimestamp(WALL_NOW + offset, tz=timezone.utc), usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0", 0.0), (" 12 ", 12.0), ("1.5", 1.5), ("-3", 0.0), ("1e999", math.inf)],
)
def test_retry_after_seconds(value: str, expected: float) -> None:
    assert parse({"retry-after": value}) == expected


def test_retry_after_http_date_in_the_future() -> None:
    assert parse({"retry-after": http_date(30)}) == pytest.approx(30.0)


def test_retry_after_http_date_in_the_past_is_zero() -> None:
    assert parse({"retry-after": http_date(-300)}) == 0.0


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The process's local time zone, set to each of UTC, west and east of it."""
    if not hasattr(time, "tzset"):  # pragma: no cover - Windows
        pytest.skip("time.tzset is Unix-only")
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_retry_after_http_date_with_unknown_zone_is_gmt(local_zone: str) -> None:
    # "-0000" parses to a naive datetime: read as local time, it would be off by the
    # machine's UTC offset (which a UTC machine alone would never show).
    value = http_date(45).replace("GMT", "-0000")
    assert parse({"retry-after": value}) == pytest.approx(45.0)
    assert parse({"retry-after": http_date(45)}) == pytest.approx(45.0)


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert parse({"retry-after-ms": "250", "retry-after": "7"}) == 0.25
    assert parse({"retry-after-ms": "1500.5"}) == pytest.approx(1.5005)


def test_garbage_retry_after_ms_falls_back_to_retry_after() -> None:
    assert parse({"retry-after-ms": "soon", "retry-after": "7"}) == 7.0


@pytest.mark.parametrize("value", ["", "  ", "soon", "nan", "5s", "Someday, 99 Foo 2020"])
def test_garbage_retry_after_is_none(value: str) -> None:
    assert parse({"retry-after": value}) is None


def test_missing_retry_after_is_none() -> None:
    assert parse({}) is None
    assert parse({"content-type": "application/json"}) is None


@pytest.mark.parametrize("name", ["Retry-After", "RETRY-AFTER", "retry-after"])
def test_retry_after_names_are_case_insensitive_in_plain_dicts(name: str) -> None:
    assert parse({name: "9"}) == 9.0


def test_retry_after_ms_name_is_case_insensitive_in_plain_dicts() -> None:
    assert parse({"Retry-After-Ms": "100", "Retry-After": "9"}) == 0.1


@pytest.mark.parametrize("name", ["Retry-After", "RETRY-AFTER", "retry-after"])
def test_retry_after_works_with_httpx_headers(name: str) -> None:
    assert parse(httpx.Headers({name: "9"})) == 9.0
    assert parse(httpx.Headers({name: "9", "Retry-After-MS": "20"})) == 0.02


def test_retry_after_uses_the_wall_clock_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: WALL_NOW)
    assert parse_retry_after({"retry-after": http_date(20)}) == pytest.approx(20.0)
    assert parse_retry_after({"retry-after": http_date(0)}) == 0.0


# --- RetryBudget -------------------------------------------------------------------------


def simulate_outage(budget: RetryBudget, clock: FakeClock, *, calls: int, max_retries: int) -> int:
    """Every attempt fails; calls run side by side as the request path would drive them.

    All first attempts go out together, then each round of retries after its backoff.
    Returns the number of requests sent.
    """
    policy = RetryPolicy(max_retries=max_retries, jitter=0.0)
    requests = 0
    for _ in range(calls):
        budget.record_attempt()
        requests += 1
    alive = calls
    for retry_number in range(1, max_retries + 1):
        clock.advance(policy.backoff(retry_number))
        granted = sum(budget.try_acquire() for _ in range(alive))
        requests += granted
        alive = granted
    return requests


def test_budget_starts_full_at_the_floor() -> None:
    assert RetryBudget(RetryPolicy(), FakeClock()).tokens == 10.0


def test_budget_caps_a_total_outage_of_100_calls_well_under_150_requests() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(max_retries=3), clock)
    requests = simulate_outage(budget, clock, calls=100, max_retries=3)
    # 100 first attempts + 10 reserve + ~19 earned (faded a little) + ~3 refilled in 3.5 s.
    assert 125 <= requests <= 135


def test_budget_caps_a_sequential_outage() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(max_retries=3), clock)
    requests = 0
    for _ in range(100):  # one call after another, no time passing
        budget.record_attempt()
        requests += 1
        for _ in range(3):
            if not budget.try_acquire():
                break
            requests += 1
    # floor 10 + 20 % of 100 first attempts = 30 retries at most.
    assert 129 <= requests <= 130


def test_budget_scales_with_a_large_batch() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(max_retries=1), clock)
    requests = simulate_outage(budget, clock, calls=1000, max_retries=1)
    # 20 % of 1,000 first attempts (faded for the 0.5 s backoff) plus the reserve.
    assert 1195 <= requests <= 1210


def test_budget_earned_tokens_fade_so_history_is_not_banked() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(max_retries=3), clock)
    for _ in range(100_000):
        budget.record_attempt()
        budget.record_success()
    assert budget.tokens == pytest.approx(20_010)
    clock.advance(10.0)
    assert budget.tokens == pytest.approx(10 + 20_000 / math.e)
    clock.advance(3600)
    assert budget.tokens == pytest.approx(10.0)
    assert simulate_outage(budget, clock, calls=100, max_retries=3) < 150


def test_budget_sustains_retries_for_a_share_of_first_attempts() -> None:
    budget = RetryBudget(RetryPolicy(budget_floor=0.0), FakeClock())
    granted = 0
    for _ in range(1000):
        budget.record_attempt()
        granted += budget.try_acquire()
    assert granted == pytest.approx(200, abs=1)


def test_budget_spends_earned_tokens_before_the_reserve() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(), clock)
    for _ in range(10):
        budget.record_attempt()  # 2 earned
    assert budget.try_acquire()
    assert budget.try_acquire()
    clock.advance(100.0)  # nothing left to fade; the reserve is untouched
    assert budget.tokens == pytest.approx(10.0)


def test_budget_reserve_refills_over_time() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(), clock)
    while budget.try_acquire():
        pass
    assert budget.tokens < 1.0
    clock.advance(2.5)
    assert budget.tokens == pytest.approx(2.5)
    assert budget.try_acquire()
    assert budget.try_acquire()
    assert not budget.try_acquire()
    clock.advance(3600)
    assert budget.tokens == 10.0


def test_budget_without_refill_stays_spent() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(budget_refill_per_second=0.0), clock)
    for _ in range(10):
        assert budget.try_acquire()
    clock.advance(3600)
    assert not budget.try_acquire()


def test_disabled_budget_allows_every_retry() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(max_retries=3, budget_ratio=None), clock)
    assert budget.tokens == math.inf
    budget.record_attempt()
    assert simulate_outage(budget, clock, calls=100, max_retries=3) == 400


def test_budget_repr_shows_tokens() -> None:
    assert repr(RetryBudget(RetryPolicy(), FakeClock())) == "RetryBudget(tokens=10.00)"


# --- validation messages, and budget edges (mutation testing) ------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_backoff": -1.0}, "max_backoff must be a finite number >= 0, not -1.0"),
        ({"initial_backoff": "1"}, "initial_backoff must be a finite number >= 0, not '1'"),
        ({"budget_window": 0.0}, "budget_window must be a finite number of seconds > 0, not 0.0"),
        ({"retry_statuses": {600}}, r"retry_statuses must be HTTP status codes, not \[600\]"),
        ({"retry_statuses": {99}}, r"retry_statuses must be HTTP status codes, not \[99\]"),
    ],
)
def test_invalid_policies_say_what_is_wrong(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RetryPolicy(**options)


def test_the_edge_statuses_are_valid() -> None:
    assert RetryPolicy(retry_statuses={100, 599}).retry_statuses == {100, 599}


def test_a_retry_takes_at_most_one_earned_token() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(budget_ratio=1.5, budget_floor=10.0), clock)
    budget.record_attempt()  # 1.5 earned, 10 in reserve
    assert budget.try_acquire()
    assert budget.tokens == pytest.approx(10.5)  # 0.5 earned left, the reserve untouched
    clock.advance(1_000.0)  # the earned half fades; the reserve stays at its floor
    assert budget.tokens == pytest.approx(10.0)
