"""Reading how long the server asks us to wait (``retry-after-ms``, ``Retry-After``).

``retry-after-ms`` (milliseconds, a de-facto extension) first, then ``Retry-After`` as
delay-seconds (integer or decimal) or an HTTP-date; header names case-insensitive. Pure but
for the wall clock, which HTTP-dates need and which can be injected.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable, Mapping
from datetime import timezone

__all__ = ["parse_retry_after"]


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
