"""`make_telemetry`: the client's telemetry, or None when opentelemetry-api is missing.

The one entry point the client uses; it imports `_otel` (and so opentelemetry) only when
called, so `import dyte_async` never loads opentelemetry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dyte_async._clock import Clock
    from dyte_async._telemetry._otel import Telemetry

__all__ = ["make_telemetry"]


def make_telemetry(
    base_url: str,
    clock: Clock,
    *,
    tracer_provider: Any = None,
    meter_provider: Any = None,
) -> Telemetry | None:
    """The telemetry of a client talking to `base_url`.

    Args:
        base_url: the client's base URL (server address, port and path prefix).
        clock: the client's clock (attempt durations are measured on it).
        tracer_provider: the `TracerProvider` to use; None: the global one.
        meter_provider: the `MeterProvider` to use; None: the global one.

    Returns:
        None when opentelemetry-api is not installed (then nothing is recorded, at no cost).
    """
    try:
        from dyte_async._telemetry._otel import Telemetry
    except ImportError:
        return None
    return Telemetry(
        base_url, clock, tracer_provider=tracer_provider, meter_provider=meter_provider
    )
