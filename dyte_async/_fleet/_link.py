"""`Link`: the Redis a fleet shares, from a URL or the caller's client.

`redis` (redis-py, the ``[redis]`` extra) is imported here, when a client is made with
``redis=``: ``import dyte_async`` never imports it. The limiter (`_ratelimit._redis`) and
the wake-ups (`_fleet._wakeups`) of one client share its `Link`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import urlsplit

import anyio
import attrs
import sniffio

from dyte_async.errors import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "REDIS_SCHEMES",
    "Fleet",
    "Link",
    "check_redis_url",
    "derive_key",
    "describe",
    "open_link",
    "redis_errors",
]

REDIS_SCHEMES: Final = ("redis", "rediss", "unix")

_EXTRA_HINT: Final = "install the extra: pip install 'dyte-async[redis]'"


@attrs.frozen(kw_only=True)
class Fleet:
    """A client's membership of a fleet sharing one `RateLimit` through Redis.

    Attributes:
        redis: a Redis URL (checked), or the caller's redis-py asyncio client.
        key: the fleet's key in Redis (every process of the fleet uses the same).
        fleet_size_hint: how many processes share the limit; while Redis is down each
            one keeps ``requests // fleet_size_hint`` to itself.
        timeout: seconds one Redis call may take before Redis counts as down.
    """

    redis: object = attrs.field(repr=False)
    key: str
    fleet_size_hint: int = 1
    timeout: float = 1.0


def check_redis_url(url: str, name: str = "redis") -> str:
    """`url` stripped, when it is a Redis URL.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://``.
        name: what the message calls it (the argument or the environment variable).

    Returns:
        The URL.

    Raises:
        ConfigurationError: another scheme, or no host or path; the message never shows
            the URL (it may hold a password).
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigurationError(f"{name} is not a valid Redis URL") from None
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigurationError(
            f"{name} must be a redis://, rediss:// or unix:// URL, got scheme "
            f"{parts.scheme or '(none)'!r}"
        )
    if not (parts.hostname or parts.path):
        raise ConfigurationError(f"{name} names no Redis host or socket")
    return url


def describe(url: str | None) -> str:
    """Where a Redis URL points, for logs: scheme, host and port or socket, no password."""
    if url is None:
        return "the Redis client given"
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}"


class Link:
    """One client's connection to its fleet's Redis, and the fleet's key.

    Attributes:
        redis: the redis-py asyncio client.
        key: the fleet's key (the rate limit's, the wake-up channel's).
        where: the server, for log lines (never a password).
        timeout: seconds one Redis call may take before Redis counts as down.
        fleet_size_hint: how many processes share the fleet.
    """

    def __init__(self, fleet: Fleet) -> None:
        self.redis: Redis
        self.where: str
        if isinstance(fleet.redis, str):
            self.redis = connect(fleet.redis, timeout=fleet.timeout)
            self.where, self._owned = describe(fleet.redis), True
        else:
            check_client(fleet.redis)
            self.redis, self.where, self._owned = cast("Redis", fleet.redis), describe(None), False
        self.key: str = fleet.key
        self.timeout: float = fleet.timeout
        self.fleet_size_hint: int = fleet.fleet_size_hint

    async def aclose(self) -> None:
        """Close the Redis client when it was made from a URL (not the caller's)."""
        if self._owned and sniffio.current_async_library() == "asyncio":
            with anyio.move_on_after(self.timeout):
                await self.redis.aclose()

    def __repr__(self) -> str:
        return f"Link({self.where})"


def open_link(fleet: Fleet | None) -> Link | None:
    """The `Link` of a client's fleet, or None without one.

    Raises:
        ConfigurationError: redis-py is not installed, or the client given is not a
            redis-py asyncio client.
    """
    return None if fleet is None else Link(fleet)


def connect(url: str, *, timeout: float) -> Redis:
    """A redis-py asyncio client for `url`, with short socket timeouts.

    Args:
        url: a URL `check_redis_url` accepted.
        timeout: the connect and read timeout, in seconds.

    Returns:
        The client (it connects when first used).

    Raises:
        ConfigurationError: redis-py is not installed.
    """
    module = _redis_asyncio()
    client: Redis = module.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=0,
        retry_on_timeout=False,
    )
    return client


def check_client(client: object) -> None:
    """Refuse what is not a redis-py asyncio client (a sync `redis.Redis`, say).

    Raises:
        ConfigurationError: the object cannot run the fleet's script.
    """
    module = _redis_asyncio()
    if not isinstance(client, module.Redis):
        raise ConfigurationError(
            "redis= takes a URL or a redis.asyncio.Redis client, "
            f"not {type(client).__module__}.{type(client).__qualname__}"
        )


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "Redis did not answer as it should" (an outage)."""
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError, ValueError, TypeError, IndexError)


def derive_key(base_url: str, org_id: str) -> str:
    """The fleet key of an organization: a digest of the API base and the org id.

    Dyte: one key per org id (its limit is the organization's). RealtimeKit: the base URL
    names the account and the app.

    Args:
        base_url: the client's API base.
        org_id: the organization id ("" for RealtimeKit).

    Returns:
        ``dyte-ratelimit:<16 hex digits>``.
    """
    digest = hashlib.sha256(f"{base_url}|{org_id}".encode()).hexdigest()[:16]
    return f"dyte-ratelimit:{digest}"


def _redis_asyncio() -> Any:
    try:
        import redis.asyncio
    except ImportError:
        raise ConfigurationError(f"redis= needs redis-py: {_EXTRA_HINT}") from None
    return redis.asyncio
