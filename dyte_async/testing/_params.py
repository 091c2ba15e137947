"""Validation of bodies and query strings, and paging, with the API's 400 messages.

Messages copy the style of the real API (Joi): `BAD_REQUEST: "name" is required`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, Final, TypeVar

from dyte_async.testing._wire import ApiError

__all__ = [
    "MISSING",
    "bad_request",
    "check_keys",
    "get_bool",
    "get_str",
    "object_body",
    "page_params",
    "paginate",
    "parse_time",
    "query_bool",
    "query_choice",
    "query_time",
    "required_str",
    "string_list",
]

T = TypeVar("T")


class _Missing:
    """The type of `MISSING`: no body was sent."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""The parsed body of a request that had none."""


def bad_request(message: str) -> ApiError:
    """Return a 400 `ApiError` whose message is `BAD_REQUEST: <message>`."""
    return ApiError(400, f"BAD_REQUEST: {message}")


def object_body(body: Any, *, required: bool = False) -> dict[str, Any]:
    """Return the body as a JSON object (an empty one when none was sent and none is required).

    Raises:
        ApiError: 400 when the body is not an object, or missing while required.
    """
    if body is MISSING or body is None:
        if required:
            raise bad_request('"value" is required')
        return {}
    if not isinstance(body, dict):
        raise bad_request('"value" must be of type object')
    return body


def check_keys(body: dict[str, Any], allowed: Iterable[str]) -> None:
    """Reject keys the endpoint does not know (400 `"<key>" is not allowed`)."""
    known = set(allowed)
    for key in body:
        if key not in known:
            raise bad_request(f'"{key}" is not allowed')


def get_str(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    nullable: bool = True,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    """Return `body[key]` checked to be a string (or null when `nullable`).

    Raises:
        ApiError: 400 when missing while required, of the wrong type, or not matching `pattern`.
    """
    if key not in body:
        if required:
            raise bad_request(f'"{key}" is required')
        return None
    value = body[key]
    if value is None:
        if nullable and not required:
            return None
        raise bad_request(f'"{key}" must be a string')
    if not isinstance(value, str):
        raise bad_request(f'"{key}" must be a string')
    if required and not value:
        raise bad_request(f'"{key}" is not allowed to be empty')
    if pattern is not None and not pattern.fullmatch(value):
        raise bad_request(
            f'"{key}" with value "{value}" fails to match the required pattern: /{pattern.pattern}/'
        )
    return value


def required_str(body: dict[str, Any], key: str) -> str:
    """Return `body[key]` checked to be a non-empty string.

    Raises:
        ApiError: 400 `"<key>" is required` (or a type message).
    """
    value = get_str(body, key, required=True)
    if value is None:  # pragma: no cover - get_str raises first
        raise bad_request(f'"{key}" is required')
    return value


def get_bool(body: dict[str, Any], key: str, *, nullable: bool = True) -> bool | None:
    """Return `body[key]` checked to be a boolean (None when absent or null and `nullable`).

    Raises:
        ApiError: 400 when present and not a boolean.
    """
    value = body.get(key)
    if value is None:
        if key in body and not nullable:
            raise bad_request(f'"{key}" must be a boolean')
        return None
    if not isinstance(value, bool):
        raise bad_request(f'"{key}" must be a boolean')
    return value


def string_list(body: dict[str, Any], key: str) -> list[str]:
    """Return `body[key]` checked to be an array of strings (empty when absent).

    Raises:
        ApiError: 400 when present and not an array of strings.
    """
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request(f'"{key}" must be an array of strings')
    return value


def query_bool(query: dict[str, str], key: str) -> bool | None:
    """Parse a boolean query parameter (`true`/`false`, also `1`/`0`); None when absent.

    Raises:
        ApiError: 400 for any other value.
    """
    raw = query.get(key)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f'"{key}" must be a boolean')


def query_choice(query: dict[str, str], key: str, choices: Sequence[str]) -> str | None:
    """Return the query parameter `key` checked against `choices`; None when absent.

    Raises:
        ApiError: 400 naming the allowed values.
    """
    raw = query.get(key)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise bad_request(f'"{key}" must be one of [{", ".join(choices)}]')
    return raw


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(raw: str) -> float:
    """Parse an ISO 8601 date-time (`Z` or offset; naive means UTC) or Unix seconds.

    Returns:
        Seconds since the epoch.

    Raises:
        ValueError: when `raw` is neither.
    """
    text = raw.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat wants exactly 3 or 6 fractional digits.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def query_time(query: dict[str, str], key: str) -> int | None:
    """Parse a date-time query parameter (ISO 8601 or Unix seconds); None when absent.

    An empty value is refused, as the API's validator (Joi) refuses an empty date.

    Returns:
        Unix time in whole milliseconds (the precision of the API's timestamps).

    Raises:
        ApiError: 400 when it is neither.
    """
    raw = query.get(key)
    if raw is None:
        return None
    if not raw.strip():
        raise bad_request(f'"{key}" must be a valid date')
    try:
        return round(parse_time(raw) * 1000)
    except (ValueError, OverflowError):
        raise bad_request(f'"{key}" must be a valid date') from None


def _query_number(query: dict[str, str], key: str) -> int | None:
    raw = query.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise bad_request(f'"{key}" must be a number') from None
    if not math.isfinite(value):
        raise bad_request(f'"{key}" must be a number')
    if value < 0:
        raise bad_request(f'"{key}" must be greater than or equal to 0')
    if value != int(value):
        raise bad_request(f'"{key}" must be an integer')
    return int(value)


def page_params(
    query: dict[str, str], *, default_per_page: int, max_per_page: int
) -> tuple[int, int]:
    """Read `page_no` (1-based; 0 or absent means 1) and `per_page` (0 or absent means the default,
    larger than the maximum is clamped to it).

    Returns:
        `(page_no, per_page)`.

    Raises:
        ApiError: 400 for non-numbers, negatives or fractions.
    """
    page_no = _query_number(query, "page_no") or 1
    per_page = _query_number(query, "per_page") or default_per_page
    return page_no, min(per_page, max_per_page)


def paginate(items: Sequence[T], page_no: int, per_page: int) -> tuple[list[T], dict[str, int]]:
    """Cut one page out of `items` and describe it.

    Offsets are 1-based and inclusive: `start_offset = (page_no - 1) * per_page + 1` and
    `end_offset = start_offset + len(page) - 1`. So `end_offset - start_offset + 1` is always the
    page's length, and an empty page (past the end, or no items at all) has
    `end_offset == start_offset - 1`, which is `>= total_count`: a paginator that stops when
    `end_offset >= total_count` or when a page is empty stops either way.

    Returns:
        `(page, {"total_count", "start_offset", "end_offset"})`.
    """
    start = (page_no - 1) * per_page
    page = list(items[start : start + per_page])
    start_offset = start + 1
    return page, {
        "total_count": len(items),
        "start_offset": start_offset,
        "end_offset": start_offset + len(page) - 1,
    }
