"""What every resource shares: the pipeline, path building, paging."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from dyte_async._pagination import AsyncPaginator, int_or_none, page_from
from dyte_async._pipeline import Pipeline
from dyte_async.errors import InvalidArgumentError
from dyte_async.models import Page

__all__ = [
    "MAX_ID_LENGTH",
    "Resource",
    "check_id",
    "int_or_none",
    "page_from",
    "segment",
    "without_none",
]

T = TypeVar("T")

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
    return quote(check_id(value, name), safe="")


def without_none(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that were given (None means "not given")."""
    return {k: v for k, v in fields.items() if v is not None}


class Resource:
    """Base of the resource groups (`dyte.livestreams`, `dyte.meetings`, ...)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def _paginate(
        self,
        path: str,
        decode: Callable[[Any], list[T]],
        *,
        params: Mapping[str, Any] | None = None,
        per_page: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[T]:
        if per_page is not None and (isinstance(per_page, bool) or per_page < 1):
            raise InvalidArgumentError(f"per_page must be a positive integer, got {per_page!r}")
        base = dict(params or {})
        pipeline = self._pipeline

        async def fetch(page_no: int) -> Page[T]:
            query = {**base, "page_no": page_no, "per_page": per_page}
            envelope = await pipeline.send("GET", path, params=query, timeout=timeout)
            return page_from(envelope, decode(envelope.data), page_no)

        return AsyncPaginator(fetch, per_page=per_page)
