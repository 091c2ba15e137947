"""Argument checks shared by the resources and the command line.

Each raises `InvalidArgumentError` before anything is sent, so the CLI can report bad
usage (exit status 2) with the very message the library would give.
"""

from __future__ import annotations

import re
from typing import Final

from dyte_async.errors import InvalidArgumentError

__all__ = ["check_livestream_name"]

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
