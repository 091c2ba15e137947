"""ISO 8601 timestamps read the same way on every supported Python.

3.10's `datetime.fromisoformat` takes only 0, 3 or 6 fraction digits and no ``Z``; the API
(and Prism, serving its spec) sends any number. `parse_datetime` reads them all itself.
Errors name no value (a server string is never quoted).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Final

__all__ = ["Unfit", "parse_datetime"]

_ISO: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?",
    re.ASCII,
)


class Unfit(ValueError):
    """A value our hooks cannot read; the message names types only, never the value."""


def parse_datetime(text: str) -> datetime:
    """An aware datetime from an ISO 8601 string, on every supported Python.

    Any number of fraction digits (cut to microseconds), ``Z``, ``+HH:MM``, ``+HHMM`` or
    ``+HH``; a time without an offset is UTC, a date alone is midnight UTC.

    Args:
        text: the string.

    Returns:
        The datetime, always aware.

    Raises:
        ValueError: not such a string (the message does not quote it).
    """
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise Unfit("not an ISO 8601 date-time")
    year, month, day, hour, minute, second, fraction = match.group(1, 2, 3, 4, 5, 6, 7)
    sign, off_h, off_m, off_s = match.group(9, 10, 11, 12)
    tz = timezone.utc
    if sign is not None:
        offset = timedelta(hours=int(off_h), minutes=int(off_m or 0), seconds=int(off_s or 0))
        try:
            tz = timezone(-offset if sign == "-" else offset)
        except ValueError:
            raise Unfit("an ISO 8601 offset out of range") from None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
    except ValueError:
        raise Unfit("an ISO 8601 date-time out of range") from None
