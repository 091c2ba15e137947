"""Argument checks shared by the resources, the poller and the command line.

Each raises `InvalidArgumentError` before anything is sent, so the CLI can report bad
usage (exit status 2) with the very message the library would give.
"""

from __future__ import annotations

import functools
import re
from typing import Final
from urllib.parse import quote

from dyte_async.errors import InvalidArgumentError

__all__ = ["MAX_ID_LENGTH", "check_id", "check_livestream_name", "segment"]

_LIVESTREAM_NAME: Final = re.compile(r"[a-zA-Z0-9_-]*")


def check_livestream_name(name: str | None) -> None:
    """Check a livestream name: letters, digits, `-` and `_` only (None: no name).

    Args:
        name: the name, or None.

    Raises:
        InvalidArgumentError: the name holds another character.
    """
    if name is not None and not _LIVESTREAM_NAME.fullmatch(name):
        raise InvalidArgumentError(
            f"livestream name may hold only letters, digits, '-' and '_', got {name!r}"
        )


#: The longest id accepted in a path (the API's ids are UUIDs, 36 characters).
MAX_ID_LENGTH = 1024


def check_id(value: object, name: str) -> str:
    """`value` when it can be one id in a URL path, before anything is sent.

    Args:
        value: the id the caller passed.
        name: the argument's name (for the message).

    Returns:
        `value`, unchanged.

    Raises:
        InvalidArgumentError: not a non-empty string, `.`/`..`, longer than
            `MAX_ID_LENGTH`, or holding a control character or a lone surrogate (not
            encodable as UTF-8). Long or unprintable values are not quoted back.
    """
    if not isinstance(value, str) or not value.strip() or value in (".", ".."):
        raise InvalidArgumentError(f"{name} must be a non-empty id string, got {value!r}")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgumentError(
            f"{name} is {len(value)} characters long; ids are at most {MAX_ID_LENGTH}"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            f"{name} contains a lone surrogate and cannot be encoded as UTF-8"
        ) from None
    if not value.isprintable():
        raise InvalidArgumentError(f"{name} contains a control or unprintable character")
    return value


def segment(value: object, name: str) -> str:
    """`value` quoted as one path segment, refusing what would change the path.

    Raises:
        InvalidArgumentError: see `check_id`.
    """
    if type(value) is str:  # the same few ids again and again (a poller, a dashboard)
        return _quoted(value, name)
    return quote(check_id(value, name), safe="")


@functools.lru_cache(maxsize=1024)
def _quoted(value: str, name: str) -> str:
    """`segment` of a `str`, remembered (a refused one is not: it raises each time)."""
    return quote(check_id(value, name), safe="")
