"""The poller's defaults, the statuses it knows, and the checks of a wait's arguments."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Final

from dyte_async.errors import InvalidArgumentError
from dyte_async.models import LivestreamStatus

__all__ = [
    "ACTIVE_STATUSES",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "ERRORED",
    "ERROR_DETAIL_GRACE",
    "EXISTS_CHECKS_PER_ROUND",
    "EXISTS_CHECK_CONCURRENCY",
    "EXISTS_CHECK_GRACE",
    "KNOWN_MEETINGS",
    "LIST_PAGE_CONCURRENCY",
    "LIST_PAGE_SIZE",
    "LIST_STATUSES",
    "LIST_THRESHOLD",
    "LIVE",
    "LIVE_ONLY",
    "MAX_LIST_PAGES",
    "check_interval",
    "deadline_after",
    "normalize_statuses",
]

DEFAULT_WAIT_TIMEOUT: Final = 300.0
"""Seconds a wait lasts by default."""
DEFAULT_POLL_INTERVAL: Final = 2.0
"""Seconds between polls by default (before backoff)."""
LIST_PAGE_SIZE: Final = 100
"""`per_page` of list polls: the largest page we ask the API for."""
LIST_THRESHOLD: Final = 3
"""List polling is used only when more meetings than this are waited on."""
MAX_LIST_PAGES: Final = 1000
"""Pages one list round reads at most; beyond, meetings are polled one by one."""
LIST_PAGE_CONCURRENCY: Final = 16
"""List pages read at once (so a long list does not take every connection of the client)."""
ERROR_DETAIL_GRACE: Final = 5.0
"""Seconds allowed to fetch an ERRORED session's message, even past the wait's deadline."""
EXISTS_CHECK_CONCURRENCY: Final = 10
"""Meeting existence checks (``GET /meetings/{id}``) one list round runs at once."""
EXISTS_CHECKS_PER_ROUND: Final = 100
"""Existence checks one list round runs at most (the others wait for later rounds)."""
EXISTS_CHECK_GRACE: Final = 30.0
"""Seconds a meeting may be missing from the list before it is checked, while too many are."""
KNOWN_MEETINGS: Final = 100_000
"""Meetings a poller remembers as existing (beyond, the least recently seen are forgotten)."""

LIVE: Final = LivestreamStatus.LIVE
ERRORED: Final = LivestreamStatus.ERRORED
LIVE_ONLY: Final = frozenset({LivestreamStatus.LIVE})
"""The targets of `wait_until_live`."""
LIST_STATUSES: Final = frozenset({LIVE, ERRORED})
"""Statuses the organization's list shows (waits wanting only these may use it)."""
ACTIVE_STATUSES: Final = frozenset(
    {LivestreamStatus.LIVE, LivestreamStatus.INVOKED, LivestreamStatus.ERRORED}
)
"""Statuses of a running livestream (a wait wanting others must read stopped livestreams)."""


def normalize_statuses(
    statuses: LivestreamStatus | str | Iterable[LivestreamStatus | str],
) -> frozenset[LivestreamStatus]:
    """The target statuses of a wait as a set (one status or an iterable of them).

    Raises:
        InvalidArgumentError: no status, or one that is not a string.
    """
    items: Iterable[Any] = (statuses,) if isinstance(statuses, str) else statuses
    out: set[LivestreamStatus] = set()
    for item in items:
        if not isinstance(item, str) or not item:
            raise InvalidArgumentError(f"a status must be a non-empty string, got {item!r}")
        out.add(LivestreamStatus(item.upper()))
    if not out:
        raise InvalidArgumentError("wait_for_status needs at least one status")
    return LIVE_ONLY if out == LIVE_ONLY else frozenset(out)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def deadline_after(now: float, timeout: float | None) -> float:
    """The clock reading at which a wait of `timeout` seconds started at `now` ends.

    Raises:
        InvalidArgumentError: `timeout` is neither None nor a positive number.
    """
    if timeout is None:
        return math.inf
    if not _is_number(timeout) or not timeout > 0:
        raise InvalidArgumentError(f"timeout must be a positive number or None, got {timeout!r}")
    return now + timeout


def check_interval(poll_interval: float) -> float:
    """`poll_interval` as a float.

    Raises:
        InvalidArgumentError: it is not a positive finite number.
    """
    if not _is_number(poll_interval) or not 0 < poll_interval < math.inf:
        raise InvalidArgumentError(
            f"poll_interval must be a positive finite number, got {poll_interval!r}"
        )
    return float(poll_interval)
