"""What every resource shares: the pipeline, path building, paging."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from dyte_async._checks import MAX_ID_LENGTH, check_id, segment
from dyte_async._pagination import AsyncPaginator, int_or_none, page_from
from dyte_async._pipeline import Pipeline
from dyte_async.errors import InvalidArgumentError
from dyte_async.models import Page
from dyte_async.resources._fields import request_fields

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


def without_none(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that were given (None means "not given"), `NULL` made JSON null."""
    return request_fields(fields)


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
