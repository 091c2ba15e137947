"""`ClientOptions`: the keyword options of `AsyncDyte(...)`, for `AsyncDyte.realtimekit(...)`.

`realtimekit(account_id, app_id, api_token, **options: Unpack[ClientOptions])` takes every
option of `AsyncDyte` but the credentials, checked by the type checkers like the
constructor's own (`tests/unit/test_client_options.py` keeps both lists the same: an
option added to `AsyncDyte.__init__` must be added here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    import httpx
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider
    from redis.asyncio import Redis

    from dyte_async._clock import Clock
    from dyte_async._config import Default
    from dyte_async._ratelimit import RateLimit
    from dyte_async._retry import RetryPolicy
    from dyte_async._transport import HttpBackend

__all__ = ["ClientOptions"]


class ClientOptions(TypedDict, total=False):
    """The options of `AsyncDyte(...)` after the credentials (see `AsyncDyte`)."""

    base_url: str | None
    timeout: float
    connect_timeout: float
    attempt_timeout: float | None
    max_retries: int | None
    retry: RetryPolicy | None
    rate_limit: RateLimit | Default | None
    max_concurrency: int
    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    http_backend: HttpBackend
    allow_insecure_http: bool
    clock: Clock | None
    headers: Mapping[str, str] | None
    max_response_bytes: int
    redis: str | Redis | None
    rate_limit_key: str | None
    fleet_size_hint: int
    proxy: str | httpx.URL | None
    trust_env: bool
    tracer_provider: TracerProvider | None
    meter_provider: MeterProvider | None
