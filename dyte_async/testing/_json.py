"""Parsing request bodies safely: bounded nesting, never a RecursionError."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "TooDeep", "loads_bounded"]

MAX_DEPTH = 64
"""The deepest nesting of arrays and objects a request body may have (the spec's bodies
need fewer than 10 levels)."""


class TooDeep(ValueError):
    """The JSON nests arrays or objects deeper than allowed."""


def _depth_ok(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def loads_bounded(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse `body` as JSON, refusing nesting deeper than `max_depth`.

    Args:
        body: the raw bytes (UTF-8 JSON).
        max_depth: the deepest nesting allowed.

    Returns:
        The parsed value.

    Raises:
        TooDeep: the value nests deeper than `max_depth` (also when Python's parser
            would run out of recursion).
        ValueError: `body` is not UTF-8 JSON (`UnicodeDecodeError` is a `ValueError`).
    """
    try:
        value = json.loads(body)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None
    if not _depth_ok(value, max_depth):
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return value
