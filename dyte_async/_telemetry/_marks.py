"""What the telemetry needs to know of a call's context, without importing opentelemetry."""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["POLLING"]

#: True while a wait's poll sends its reads (set by `_poller._driver` around a round): a
#: poll's calls get spans only inside a recording span of the caller's (a wait in a traced
#: request), never as traces of their own, so a long wait makes no storm of root spans.
POLLING: ContextVar[bool] = ContextVar("dyte_async_polling", default=False)
