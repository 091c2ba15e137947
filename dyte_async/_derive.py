"""`AsyncDyte.with_options`: a client with other defaults on the same pool.

The new client is a shallow copy of the original's state with its own `Pipeline`
(`Pipeline.derive`: the same HTTP client, lean lane, concurrency slots, rate limiter,
retry budget and counters; its own timeout, retry policy, extra headers and query) and
its own resource objects on that pipeline; its waits go to the original's poller. It
points at the original (`_parent`) for the pool's lifecycle: it opens and closes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dyte_async._config import Default, check_headers, check_timeouts, retry_policy

if TYPE_CHECKING:
    from dyte_async._client import AsyncDyte
    from dyte_async._retry import RetryPolicy

__all__ = ["derive"]


def derive(
    client: AsyncDyte,
    *,
    timeout: float | None,
    attempt_timeout: float | Default | None,
    max_retries: int | None,
    retry: RetryPolicy | None,
    headers: Mapping[str, str] | None,
    query: Mapping[str, str | int | float | bool] | None,
) -> AsyncDyte:
    """`client.with_options(...)` (see there)."""
    base = client._pipeline
    new_timeout = base.timeout if timeout is None else timeout
    new_attempt = base.attempt_timeout if isinstance(attempt_timeout, Default) else attempt_timeout
    check_timeouts(new_timeout, client._config.connect_timeout, new_attempt)
    policy = retry_policy(retry, max_retries, base=client.retry)
    check_headers(headers)
    derived = object.__new__(type(client))
    made_once = _resources(type(client))
    derived.__dict__.update({k: v for k, v in client.__dict__.items() if k not in made_once})
    derived._parent = client._parent or client
    derived._stack = None  # the fleet's work is the original's (its `async with`)
    derived.retry = policy
    derived._pipeline = base.derive(
        timeout=new_timeout,
        attempt_timeout=new_attempt,
        policy=policy,
        headers={**(base.extra_headers or {}), **(headers or {})} or None,
        query={**(base.extra_query or {}), **(query or {})} or None,
    )
    return derived


_MADE_ONCE: dict[type, frozenset[str]] = {}


def _resources(cls: type[AsyncDyte]) -> frozenset[str]:
    """The resources a client makes once (`functools.cached_property`): a derived client
    makes its own, on its own pipeline."""
    names = _MADE_ONCE.get(cls)
    if names is None:
        names = _MADE_ONCE[cls] = frozenset(
            name
            for klass in cls.__mro__
            for name, value in vars(klass).items()
            if isinstance(value, functools.cached_property)
        )
    return names
