"""The in-process httpx transport: requests go straight to the fake, no socket involved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from dyte_async.testing._wire import WireRequest, WireResponse

__all__ = ["IN_PROCESS_CLIENT", "FakeTransport"]

IN_PROCESS_CLIENT = "in-process"
"""The client address of in-process requests (one rate-limit window for all of them)."""

Handle = Callable[[WireRequest], Awaitable["WireResponse | None"]]


class FakeTransport(httpx.AsyncBaseTransport):
    """An `httpx.AsyncBaseTransport` answering from a fake, whatever the host.

    Args:
        handle: the fake's request handler (None as an answer means "drop the connection").
    """

    def __init__(self, handle: Handle) -> None:
        self._handle = handle

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer `request` from the fake.

        Raises:
            httpx.RemoteProtocolError: when the fake drops the connection.
        """
        body = await request.aread()
        wire = WireRequest(
            method=request.method.upper(),
            path=request.url.path,
            query_string=request.url.query.decode("ascii", "replace"),
            headers=tuple(
                (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in request.headers.raw
            ),
            body=body,
            client=IN_PROCESS_CLIENT,
        )
        answer = await self._handle(wire)
        if answer is None:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            status_code=answer.status,
            headers=list(answer.headers),
            content=answer.body,
            request=request,
        )
