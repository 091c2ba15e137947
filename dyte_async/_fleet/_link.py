"""`Link`: the Redis a fleet shares, from a URL or the caller's client.

A Redis library (redis-py or coredis, the ``[redis]`` extra) is imported only when a client
made with ``redis=`` first uses it: ``import dyte_async`` never imports one. The limiter
(`_ratelimit._redis`), the wake-ups and the shared reads of one client share its `Link`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Final
from urllib.parse import urlsplit

import anyio
import anyio.abc
import attrs
import sniffio

from dyte_async._fleet._backends import FleetRedis, adapt, pick
from dyte_async.errors import ConfigurationError

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

_EXTRA_HINT: Final = "pip install 'dyte-async[redis]'"


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
    """One client's connection to its fleet's Redis, the fleet's key, and where the fleet's
    background work runs.

    The Redis client is made at first use, inside the event loop, on the library that runs
    there (`_backends.pick`). Background work (the limiter's worker, the wake-up listener)
    runs in the task group `AsyncDyte.__aenter__` opens (`enter`); without one, on asyncio
    only, in tasks of its own. Under trio, or on coredis, the fleet needs
    ``async with AsyncDyte(...)``.

    Attributes:
        key: the fleet's key (the rate limit's, the wake-up channel's).
        where: the server, for log lines (never a password).
        timeout: seconds one Redis call may take before Redis counts as down.
        fleet_size_hint: how many processes share the fleet.
    """

    def __init__(self, fleet: Fleet) -> None:
        self._url: str | None = fleet.redis if isinstance(fleet.redis, str) else None
        self._client: FleetRedis | None = None
        if self._url is None:
            self._client = adapt(fleet.redis)
        elif not (_installed("redis") or _installed("coredis")):
            raise ConfigurationError(f"redis= needs redis-py or coredis: {_EXTRA_HINT}")
        self.where: str = describe(self._url)
        self.key: str = fleet.key
        self.timeout: float = fleet.timeout
        self.fleet_size_hint: int = fleet.fleet_size_hint
        self._entered = False
        self._group: anyio.abc.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._scopes: set[anyio.CancelScope] = set()
        self._stopped = False

    def redis(self) -> FleetRedis:
        """The Redis client (made now, on this event loop's library, if not yet).

        Raises:
            ConfigurationError: no Redis client runs on this event loop, or the client
                made must be entered first (``async with AsyncDyte(...)``).
        """
        if self._client is None:
            self._client = pick(self._url or "", timeout=self.timeout, library=_library())
        if self._client.library == "redis-py" and _library() != "asyncio":
            raise ConfigurationError(
                f"redis-py runs on asyncio only: under {_library()}, pass redis= a URL "
                "or a coredis client"
            )
        if self._client.needs_entering and self._url is not None and not self._entered:
            raise ConfigurationError(
                f"redis= on {self._client.library} needs the client opened with "
                "`async with AsyncDyte(...)` (its connections live in that block)"
            )
        return self._client

    async def enter(self, stack: contextlib.AsyncExitStack) -> None:
        """Open what the fleet needs for the duration of ``async with AsyncDyte(...)``:
        the Redis client when it must be entered, and the task group of the fleet's work."""
        if self._client is None:
            self._client = pick(self._url or "", timeout=self.timeout, library=_library())
        if self._client.needs_entering and self._url is not None:
            await stack.enter_async_context(self._client.entered())
            self._entered = True
        self._group = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(self._left)

    def _left(self) -> None:
        self._group = None
        self._entered = False

    def can_spawn(self) -> bool:
        """Whether `spawn` can run background work here (a task group, or asyncio)."""
        return self._group is not None or _library() == "asyncio"

    def spawn(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work` in the background (the client's task group, else an asyncio task).

        Raises:
            ConfigurationError: under trio without ``async with AsyncDyte(...)``.
        """
        if self._group is not None:
            self._group.start_soon(self._guarded, work)
            return
        if _library() != "asyncio":
            raise ConfigurationError(
                "redis= under trio needs the client opened with `async with AsyncDyte(...)` "
                "(the fleet's background work runs in that block)"
            )
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work` under a cancel scope of its own, which `stop` cancels."""
        with anyio.CancelScope() as scope:
            if self._stopped:
                scope.cancel()
            self._scopes.add(scope)
            try:
                await work()
            finally:
                self._scopes.discard(scope)

    def stop(self) -> None:
        """Cancel the fleet's background work (each part had its chance to finish first).

        Only the work's own scopes are cancelled, never the task group's, whose scope is
        the caller's ``async with AsyncDyte(...)`` block."""
        self._stopped = True
        for scope in list(self._scopes):
            scope.cancel()

    async def aclose(self) -> None:
        """Close a Redis client made from a URL that is not closed by leaving a block."""
        client = self._client
        if self._url is None or client is None or client.needs_entering:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(self.timeout):
            await client.aclose()

    def __repr__(self) -> str:
        return f"Link({self.where})"


def _library() -> str:
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return "none"


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module blocked with None in sys.modules
        return False


def open_link(fleet: Fleet | None) -> Link | None:
    """The `Link` of a client's fleet, or None without one.

    Raises:
        ConfigurationError: neither redis-py nor coredis is installed, or the client
            given is neither library's async client.
    """
    return None if fleet is None else Link(fleet)


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "Redis did not answer as it should" (an outage)."""
    found: list[type[BaseException]] = [
        OSError,
        TimeoutError,
        ValueError,
        TypeError,
        IndexError,
        anyio.BrokenResourceError,
        anyio.ClosedResourceError,
        anyio.EndOfStream,
        # coredis runs its connections in task groups: a failed connect comes grouped.
        _exception_group(),
    ]
    for module in ("redis.exceptions", "coredis.exceptions"):
        with contextlib.suppress(ImportError):
            found.append(importlib.import_module(module).RedisError)
    return tuple(found)


def _exception_group() -> type[Exception]:
    if sys.version_info >= (3, 11):
        return ExceptionGroup  # noqa: F821 (a builtin from 3.11 on)
    from exceptiongroup import ExceptionGroup as Backport  # anyio's dependency on 3.10

    group: type[Exception] = Backport
    return group


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
