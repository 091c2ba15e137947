"""The Redis clients a fleet can run on: redis-py (asyncio) and coredis (asyncio and trio).

The fleet needs four things of Redis: run a Lua script by SHA (reloaded when Redis lost
it), publish, listen to one channel, close. `FleetRedis` is that, and two small adapters
provide it:

- `RedisPy`: redis-py's `redis.asyncio.Redis` (asyncio only);
- `Coredis`: coredis 6's `coredis.Redis`, which runs on anyio (asyncio and trio). A coredis
  client keeps a task group from ``async with client`` on: one made from a URL is entered
  by `AsyncDyte.__aenter__`; one passed in must be entered by its owner.

Which one a URL gets (`pick`): redis-py on asyncio when it is installed, else coredis.
Neither library is imported before a client is made with ``redis=``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import anyio

from dyte_async.errors import ConfigurationError

__all__ = ["Coredis", "FleetRedis", "RedisPy", "Script", "Subscription", "adapt", "pick"]

Script = Callable[..., Awaitable[Any]]
"""A registered Lua script: ``await script(keys=[...], args=[...])``."""

_EXTRA_HINT = "pip install 'dyte-async[redis]'"


class Subscription(Protocol):
    """One channel listened to."""

    async def next(self, timeout: float) -> Any:
        """The data of the next message, or None when none came within `timeout` seconds."""
        ...


class FleetRedis(Protocol):
    """What the fleet uses of a Redis client."""

    #: "redis-py" or "coredis"
    library: str
    #: True when the client must be entered (``async with``) before use.
    needs_entering: bool

    def script(self, source: str) -> Script:
        """The script `source`, called by SHA (and loaded again when Redis lost it)."""
        ...

    async def publish(self, channel: str, message: str) -> None:
        """Publish `message` on `channel`."""
        ...

    def subscription(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Listen to `channel` for the duration of the block."""
        ...

    def entered(self) -> contextlib.AbstractAsyncContextManager[object]:
        """The client's own ``async with`` (a no-op for redis-py)."""
        ...

    async def aclose(self) -> None:
        """Close the client's connections."""
        ...


class _Channel:
    """A `Subscription` on either library's pub/sub object (both have `get_message`)."""

    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def next(self, timeout: float) -> Any:
        message = await self._pubsub.get_message(timeout=timeout)
        return None if message is None else message.get("data")


class RedisPy:
    """`FleetRedis` on redis-py's asyncio client."""

    library = "redis-py"
    needs_entering = False

    def __init__(self, client: Any) -> None:
        self.client = client

    def script(self, source: str) -> Script:
        script: Script = self.client.register_script(source)
        return script

    async def publish(self, channel: str, message: str) -> None:
        await self.client.publish(channel, message)

    @contextlib.asynccontextmanager
    async def subscription(self, channel: str) -> AsyncIterator[Subscription]:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            yield _Channel(pubsub)
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                await pubsub.aclose()

    @contextlib.asynccontextmanager
    async def entered(self) -> AsyncIterator[object]:
        yield self.client

    async def aclose(self) -> None:
        await self.client.aclose()


class Coredis:
    """`FleetRedis` on coredis (anyio: asyncio and trio)."""

    library = "coredis"
    needs_entering = True

    def __init__(self, client: Any) -> None:
        self.client = client

    def script(self, source: str) -> Script:
        registered = self.client.register_script(source)

        async def call(*, keys: list[str], args: list[Any]) -> Any:
            return await registered(keys=keys, args=args)

        return call

    async def publish(self, channel: str, message: str) -> None:
        await self.client.publish(channel, message)

    @contextlib.asynccontextmanager
    async def subscription(self, channel: str) -> AsyncIterator[Subscription]:
        async with self.client.pubsub(channels=[channel], ignore_subscribe_messages=True) as pubsub:
            yield _Channel(pubsub)

    def entered(self) -> contextlib.AbstractAsyncContextManager[object]:
        manager: contextlib.AbstractAsyncContextManager[object] = self.client
        return manager

    async def aclose(self) -> None:
        """Nothing: a coredis client is closed by leaving its ``async with``."""


def pick(url: str, *, timeout: float, library: str) -> FleetRedis:
    """A client for `url` on the library that fits the running event loop.

    Args:
        url: a checked Redis URL.
        timeout: the connect and read timeout, in seconds.
        library: the running async library ("asyncio" or "trio").

    Raises:
        ConfigurationError: no installed Redis client runs on this event loop.
    """
    if library == "asyncio":
        try:
            import redis.asyncio
        except ImportError:
            pass
        else:
            return RedisPy(
                redis.asyncio.Redis.from_url(
                    url,
                    socket_timeout=timeout,
                    socket_connect_timeout=timeout,
                    health_check_interval=0,
                    retry_on_timeout=False,
                )
            )
    try:
        import coredis
    except ImportError:
        if library == "asyncio":
            raise ConfigurationError(f"redis= needs redis-py or coredis: {_EXTRA_HINT}") from None
        raise ConfigurationError(
            f"redis= under {library} needs coredis (redis-py runs on asyncio only): {_EXTRA_HINT}"
        ) from None
    return Coredis(coredis.Redis.from_url(url, stream_timeout=timeout, connect_timeout=timeout))


def adapt(client: object) -> FleetRedis:
    """The adapter for a client passed in (`redis.asyncio.Redis` or `coredis.Redis`).

    Raises:
        ConfigurationError: neither (a sync `redis.Redis`, say).
    """
    try:
        import redis.asyncio
    except ImportError:
        pass
    else:
        if isinstance(client, redis.asyncio.Redis):
            return RedisPy(client)
    try:
        import coredis
    except ImportError:
        pass
    else:
        if isinstance(client, coredis.Redis):
            return Coredis(client)
    raise ConfigurationError(
        "redis= takes a URL, a redis.asyncio.Redis or a coredis.Redis client, "
        f"not {type(client).__module__}.{type(client).__qualname__}"
    )
