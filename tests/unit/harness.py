"""The unit layer's respx harness: a client on a mock router, and the request it sent.

`mocked()` builds an `AsyncDyte` on `httpx.MockTransport(router.async_handler)` with a
`FakeClock` and no client-side rate limit: no sockets, no real sleeps. `assert_request`
checks one request on the wire exactly. The bodies are in `tests/spec_examples.py`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import pytest
import respx

from dyte_async import AsyncDyte, AsyncPaginator, Page
from dyte_async.testing import FakeClock
from tests.spec_examples import (
    API_KEY,
    AUTHORIZATION,
    BASE_URL,
    ORG_ID,
    RTK_ACCOUNT,
    RTK_APP,
    RTK_BASE_URL,
    RTK_TOKEN,
    make_router,
)


@attrs.define
class Mocked:
    """An open client on a respx router, with its fake clock."""

    dyte: AsyncDyte
    router: respx.MockRouter
    clock: FakeClock

    @property
    def requests(self) -> list[httpx.Request]:
        """Every request the transport received, in order."""
        return [call.request for call in self.router.calls]


@asynccontextmanager
async def mocked(**options: Any) -> AsyncIterator[Mocked]:
    """`AsyncDyte(ORG_ID, API_KEY)` on a respx router; `rate_limit=None` unless given."""
    router = make_router(options.pop("router_base_url", BASE_URL))
    clock = FakeClock()
    options.setdefault("rate_limit", None)
    async with AsyncDyte(
        ORG_ID, API_KEY, transport=httpx.MockTransport(router.async_handler), clock=clock, **options
    ) as dyte:
        yield Mocked(dyte, router, clock)


@asynccontextmanager
async def mocked_realtimekit(**options: Any) -> AsyncIterator[Mocked]:
    """`AsyncDyte.realtimekit(RTK_ACCOUNT, RTK_APP, RTK_TOKEN)` on a respx router."""
    router = make_router(RTK_BASE_URL)
    clock = FakeClock()
    options.setdefault("rate_limit", None)
    dyte = AsyncDyte.realtimekit(
        RTK_ACCOUNT,
        RTK_APP,
        RTK_TOKEN,
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        **options,
    )
    async with dyte:
        yield Mocked(dyte, router, clock)


#: `assert_request(..., body=NO_BODY)`: the request has no body (the default).
NO_BODY: Any = object()


def assert_request(
    request: httpx.Request,
    method: str,
    path: str,
    *,
    params: Mapping[str, str] | None = None,
    body: Any = NO_BODY,
    base_url: str = BASE_URL,
    authorization: str = AUTHORIZATION,
) -> None:
    """The request on the wire is exactly this: method, URL (path quoted as given), query
    (every parameter, each once), JSON body (or none), and the Authorization header."""
    assert request.method == method
    url = str(request.url)
    assert url.split("?", 1)[0] == base_url + path
    items = request.url.params.multi_items()
    assert len(items) == len({k for k, _ in items}), f"repeated query parameter in {items}"
    assert dict(items) == dict(params or {})
    assert request.headers["authorization"] == authorization
    assert request.headers["accept"] == "application/json"
    if body is NO_BODY:
        assert request.content == b""
    else:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == body


# --- Endpoint tables ----------------------------------------------------------------------

#: A call of the client under test; returns what the test checks.
Call = Callable[[AsyncDyte], Awaitable[Any]]

_UNSET: Any = object()


@attrs.frozen(kw_only=True)
class WireCase:
    """One endpoint and one answer shape: the call, the exact request, the decoded result.

    Attributes:
        id: the test id.
        call: what the test does with the client (exactly one request).
        method, path, params, body: the request that must be on the wire (`assert_request`).
        answer: the JSON body of the answer; `status` its status code.
        result: the whole result must equal this (unless unset).
        fields: `(path, expected)` pairs: `path` is dotted attribute names, sequence
            indexes and `name()` calls from the result ("" is the result itself);
            None, booleans and known enum members are compared by identity, `Typed`
            values by type and equality, the rest by equality.
        realtimekit: use the RealtimeKit client (its base URL and Bearer token).
    """

    id: str
    call: Call
    method: str
    path: str
    answer: Any
    status: int = 200
    params: Mapping[str, str] | None = None
    body: Any = NO_BODY
    result: Any = _UNSET
    fields: Sequence[tuple[str, Any]] = ()
    realtimekit: bool = False


@attrs.frozen
class Typed:
    """An expected field value whose type must match too (`4` and not `4.0` or `"4"`)."""

    value: Any


def table(*cases: WireCase) -> Any:
    """`pytest.mark.parametrize("case", ...)` over `cases`, each named by its id."""
    return pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in cases])


async def check_wire_case(case: WireCase) -> None:
    """Run `case` on a mocked client and check the request and the result."""
    open_client = mocked_realtimekit if case.realtimekit else mocked
    async with open_client() as m:
        route = getattr(m.router, case.method.lower())
        route(case.path).respond(case.status, json=case.answer)
        result = await case.call(m.dyte)

    (request,) = m.requests
    where: dict[str, str] = {}
    if case.realtimekit:
        where = {"base_url": RTK_BASE_URL, "authorization": f"Bearer {RTK_TOKEN}"}
    assert_request(request, case.method, case.path, params=case.params, body=case.body, **where)
    if case.result is not _UNSET:
        assert result == case.result
    for path, expected in case.fields:
        check_field(result, path, expected)


def pick(value: Any, path: str) -> Any:
    """Follow a dotted `path` (attributes, indexes, `name()` calls) from `value`."""
    for part in path.split(".") if path else ():
        if part.endswith("()"):
            value = getattr(value, part[:-2])()
        elif part.isdigit():
            value = value[int(part)]
        else:
            value = getattr(value, part)
    return value


def check_field(result: Any, path: str, expected: Any) -> None:
    """`pick(result, path)` is `expected` (see `WireCase.fields` for the comparison)."""
    actual = pick(result, path)
    by_identity = expected is None or isinstance(expected, bool)
    if isinstance(expected, enum.Enum):
        by_identity = any(expected is member for member in type(expected))
    if by_identity:
        assert actual is expected, f"{path}: {actual!r} is not {expected!r}"
        return
    if isinstance(expected, Typed):
        expected = expected.value
        assert type(actual) is type(expected), f"{path}: {actual!r} is not a {type(expected)}"
    assert actual == expected, f"{path}: {actual!r} != {expected!r}"


async def one_page(paginator: AsyncPaginator[Any]) -> Page[Any]:
    """The only page `paginator` yields (it must yield exactly one)."""
    pages = [page async for page in paginator.pages()]
    (page,) = pages
    return page
