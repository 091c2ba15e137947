"""The unit layer's respx harness: a client on a mock router, and the request it sent.

`mocked()` builds an `AsyncDyte` on `httpx.MockTransport(router.async_handler)` with a
`FakeClock` and no client-side rate limit: no sockets, no real sleeps. `assert_request`
checks one request on the wire exactly. The bodies are in `tests/spec_examples.py`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import respx

from dyte_async import AsyncDyte
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
