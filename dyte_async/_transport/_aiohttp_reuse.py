"""`GuardedConnector`: aiohttp's `TCPConnector`, never handing out a pooled connection
with bytes waiting on it.

aiohttp reads every connection as soon as bytes arrive, idle ones in its pool too: an
answer a server sends after a complete answer, a moment later, is parsed while the
connection waits in the pool and queued, and the next request on that connection reads
it as its own answer (measured: another meeting's livestream, stream key included).
Bytes that arrive together with the answer are already safe (aiohttp closes a
connection released with a message queued), and so are incomplete ones (each request
gets a new parser).

So `connect` (aiohttp's public method for "a connection for this request") looks at a
pooled connection before handing it out, on public names only (`Connection.protocol`,
`.transport`, aiohttp's own `should_close`, the test it makes at release): one with a
message queued or anything unusual, or whose socket is readable (bytes not read yet, or
the server's close), is closed and another taken. New connections are handed out as
they are: bytes before the first request cannot be another call's answer.
"""

from __future__ import annotations

import select
import sys
import weakref
from typing import Any

import aiohttp

__all__ = ["MAX_REFUSED", "GuardedConnector", "readable", "waiting"]

#: Pooled connections refused for one request before giving up (each is closed, so the
#: next one tried is another pooled connection or a new one).
MAX_REFUSED = 100


class GuardedConnector(aiohttp.TCPConnector):
    """A `TCPConnector` whose `connect` refuses pooled connections with bytes waiting
    (module docstring). Same arguments as `aiohttp.TCPConnector`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: the protocols of the connections handed out already (a new one is not here).
        self._served: weakref.WeakSet[Any] = weakref.WeakSet()
        #: pooled connections closed for bytes waiting on them.
        self.refused = 0

    async def connect(self, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection:
        """A connection for a request: aiohttp's, none with bytes waiting.

        Raises:
            aiohttp.ClientConnectionError: `MAX_REFUSED` pooled connections in a row had
                bytes waiting (nothing was sent).
        """
        for _ in range(MAX_REFUSED):
            connection = await super().connect(*args, **kwargs)
            protocol = connection.protocol
            if protocol is None or protocol not in self._served:
                if protocol is not None:
                    self._served.add(protocol)
                return connection
            if not waiting(connection):
                return connection
            self.refused += 1
            connection.close()
        raise aiohttp.ClientConnectionError("every pooled connection had unread bytes")


def waiting(connection: aiohttp.connector.Connection) -> bool:
    """Whether a pooled connection has bytes waiting: an answer parsed while it was idle
    (aiohttp's `should_close`), or a readable socket."""
    protocol = connection.protocol
    if protocol is None or getattr(protocol, "should_close", True):
        return True
    transport = connection.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    return sock is None or readable(sock.fileno())


def readable(fd: int) -> bool:
    """Whether reading `fd` would not block (bytes, or the end of the stream)."""
    if fd < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):  # pragma: no cover
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
