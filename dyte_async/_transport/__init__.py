"""The HTTP transports under the pooled `httpx.AsyncClient`, one module per idea.

- `_choice`: which backend to build (`http_backend="auto"`, "aiohttp" or "httpcore") and
  `build_transport`;
- `_aiohttp`: `AiohttpTransport`, an httpx transport over one `aiohttp.ClientSession`
  (asyncio; the default there);
- `_httpcore`: `GuardedHTTPCoreTransport`, an httpx transport over httpcore's connection
  pool, with a semaphore in front of the pool and a watchdog that replaces a poisoned one
  (trio, or when forced);
- `_reuse` (with `_answer_end`): httpcore connections that never carry a request after
  bytes read past an answer, so no call gets another call's answer;
- `_errors`: how aiohttp's and httpcore's exceptions become httpx's, so that a
  `ConnectError` / `ConnectTimeout` always means "never sent".

Only public httpx and httpcore API is used. aiohttp and httpcore are imported lazily, never
at `import dyte_async` (HAZARDS.md 5).
"""

from __future__ import annotations

from dyte_async._transport._aiohttp import AiohttpTransport
from dyte_async._transport._choice import (
    HTTP_BACKENDS,
    HttpBackend,
    build_transport,
    resolve_backend,
)
from dyte_async._transport._httpcore import GuardedHTTPCoreTransport

__all__ = [
    "HTTP_BACKENDS",
    "AiohttpTransport",
    "GuardedHTTPCoreTransport",
    "HttpBackend",
    "build_transport",
    "resolve_backend",
]
