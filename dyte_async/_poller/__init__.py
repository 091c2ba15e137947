"""Waiting on livestream status: deadlines, gentle backoff, and many waiters sharing polls.

One `Poller` per client (`dyte.livestreams`) serves every wait of that client.

What is polled
    A meeting is watched either on its own (``GET /meetings/{id}/active-livestream``, a 404
    meaning "no active livestream yet") or through the organization's list
    (``GET /livestreams?status=LIVE``, pages of `LIST_PAGE_SIZE`, newest first, walked until
    every meeting waited on is found or the pages end). The list is used for meetings whose
    waiters only want LIVE (or ERRORED) when more than `LIST_THRESHOLD` such meetings are
    waited on *and* the list costs fewer requests than one poll per meeting (its cost is
    its number of LIVE pages, from the last `total_count`, plus one page of ERRORED).
    Otherwise each meeting is polled on its own.

    Errors in list mode: each list round also reads the newest page of
    ``GET /livestreams?status=ERRORED``; a livestream there whose meeting is waited on is
    confirmed with one ``GET /meetings/{id}/active-livestream`` (an old errored livestream of
    the same meeting is then remembered as stale and never confirmed again). If a list
    request fails for good (not a transient error), this poller falls back to per-meeting
    polls.

Meetings that do not exist
    A 404 of the active livestream says "nothing active" whether the meeting has no
    livestream yet or does not exist at all. So the first time a meeting is seen with
    nothing active, its existence is confirmed once with ``GET /meetings/{id}`` (through
    the pipeline, within the wait's deadline). A 404 there ends every wait on the meeting
    with a `NotFoundError` naming it (`wait_until_live_many` reports it as it does an
    ERRORED meeting); a transient failure leaves the question open for the next poll that
    sees nothing active; other failures (401, 403, ...) end the waits as a failed poll does.
    A meeting seen with a livestream, or confirmed, is remembered as existing by the
    poller (the `KNOWN_MEETINGS` most recently seen), so later waits skip the check.

    Cost: one ``GET /meetings/{id}`` per meeting per poller (again only after a transient
    failure, or once the meeting was forgotten), and only for meetings seen with nothing
    active before they are known to exist; a meeting found LIVE at once costs nothing
    more. Concurrent waits on a meeting share the check (it is part of the shared poll,
    and at most one check of a meeting is in flight).

    In list mode absence from the LIVE list is all there is to see, and every starting
    livestream shows it, so checks wait until they are few: after a round that read the
    whole list, the meetings never seen with a livestream are checked when at most
    `EXISTS_CHECKS_PER_ROUND` (100) are left to check (a small batch at once; in a large
    one, when most others are LIVE, which is when an unknown meeting would hold the wait
    up), or else those waited on for `EXISTS_CHECK_GRACE` (30 s). A round checks 100 at
    most, `EXISTS_CHECK_CONCURRENCY` (10) at a time, so it takes at most ten more round
    trips. So 300 meetings going LIVE within a round or two cost no check, and a large
    batch about 100 checks plus one per meeting still not LIVE after 30 s. A failed
    check ends that round's checks.

Coalescing, with no background task
    Every wait registers a `_Waiter` on the meetings it watches; every meeting has one
    source of observations (its own poll loop, or the shared list). A poll loop has no task
    of its own: it is driven by one of its waiters (the first to come), which sleeps until
    the loop is due, polls, and publishes the result to every waiter of the meetings. When
    the driver leaves (its wait ended, failed or was cancelled) it hands the loop over to
    a waiter blocked on it. So any number of waits on one meeting cost one request per
    interval (plus one existence check in all), and nothing outlives the waits.

Timing
    The first poll of a loop is immediate. The next comes after the smallest
    `poll_interval` of its waiters; while nothing changes the interval grows by
    `backoff` (1.25x) per poll up to `max_backoff` (2x) times `poll_interval`, and it
    drops back to `poll_interval` on any change, so a change is seen within one *current*
    interval. Each interval is shortened by a random share of up to `jitter` (10 %), which
    spreads many clients' polls without ever making an interval longer.

    Every poll is one `Pipeline.send` with the wait's deadline (capped by the client's
    timeout), so retries, the rate limiter and the deadline apply. A poll that still fails
    with a transient error (5xx, 408, 425, 429, network, timeout) does not end the wait;
    the next one is tried an interval later, until the wait's deadline. Other errors (401,
    403, 400, ...) end the waits with that error. A failed poll never counts as a change:
    the interval keeps backing off.

Answers that cannot be read
    An answer that cannot be decoded (`ResponseDecodeError`: not JSON, not the shape we
    know, too large) may be a proxy's hiccup, so it is first treated like a transient
    error. But a meeting whose answers have all been unreadable for longer than the
    client's `timeout` (`AsyncDyte(timeout=...)`, default 60 s) ends every wait on it,
    `watch()` included, with the last such error, instead of polling until the wait's
    deadline (or forever, for `watch`). The run is kept on the `Meeting` record, on the
    client's clock: `failing_since` is set by the first unreadable answer about the meeting
    (its own poll, its existence check, or a list read that should have shown it) and
    cleared by the next answer about it that is read (a published observation, a 404 of
    its active livestream, or a list round that read everything about it); network errors
    in between neither clear nor extend it. In list mode a garbled list page counts for
    the meetings that page should have shown (all of them for page 1); a garbled ERRORED
    page counts for none (it only confirms errors). A wait whose deadline comes first
    still raises `WaitTimeoutError`, chaining the decode error.

    Deadlines are read on the client's clock and kept in one heap per poller, not in a
    timer per wait: a driver never sleeps past the earliest deadline of any wait, and on
    the real clock a watchdog runs beside each poll in flight; a wait registering with an
    earlier deadline than every sleeper wakes one of them. So an injected `FakeClock` sees
    deadlines kept exactly, and 10,000 waits cost no timers.

`Poller.wake()` makes the loops concerned poll now (the hook webhooks will call).

The parts, one idea each
    ``_settings`` defaults and argument checks; ``_state`` the records (`Waiter`,
    `Meeting`); ``_source`` the interface of a source of observations (what a new one, e.g.
    a shared Redis-backed poll, implements); ``_single`` the per-meeting source;
    ``_listing`` the list source; ``_reads`` the requests a poll sends; ``_existence`` the
    existence checks; ``_deadlines`` the deadline heap and the sleepers it wakes;
    ``_driver`` the waiters driving the loops; ``_core`` the `Poller` that wires them;
    ``_iterators`` `watch` and `wait_until_live_many`.
"""

from __future__ import annotations

from dyte_async._poller._core import Poller
from dyte_async._poller._iterators import LivestreamWaitMany, LivestreamWatch
from dyte_async._poller._settings import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    LIVE_ONLY,
    normalize_statuses,
)

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "LIVE_ONLY",
    "LivestreamWaitMany",
    "LivestreamWatch",
    "Poller",
    "normalize_statuses",
]
