"""Spans and the HTTP client metric of the request path, on opentelemetry-api alone.

What a client records (attribute names from the stable HTTP semantic conventions):

- one INTERNAL span per call of the SDK (`Pipeline.send`), named after the SDK method
  (`dyte.livestreams.start`), with the path's ids (`dyte.meeting_id`, ...), `url.template`,
  the number of attempts (`dyte.attempts`) and, when it fails, `error.type` (the class of
  the error raised) and an ERROR status; its events: `dyte.rate_limiter.wait` (seconds
  waited for the client-side rate limit), `dyte.retry.scheduled` (delay and reason),
  `dyte.retry.refused` (by the retry budget, Retry-After above the cap, or the deadline),
  `dyte.write.recovered` / `dyte.write.settled` (an ambiguous write found to have happened);
- one CLIENT span per attempt, a child of the call's, named `{METHOD} {url.template}`, with
  `http.request.method`, `server.address`, `server.port`, `url.full` (no user info, secret
  query values ``REDACTED``: the credentials travel in headers, which are never recorded),
  `url.template`, `http.response.status_code`, `http.request.resend_count` (on resends
  only) and `error.type` (the status code, or the transport error's class);
- the `http.client.request.duration` histogram (seconds, the conventions' buckets) per
  attempt, with the method, server, `url.template`, status code and `error.type`.

No cost without an SDK: while neither the client's providers nor the global ones are real
(the API's proxy and no-op providers), `begin` returns None and the pipeline records
nothing. Once a global provider is set it stays set (the API forbids replacing it), so
the check stops then.

No duplicate spans: during a call the context carries the API's "suppress HTTP
instrumentation" key, which the httpx and aiohttp instrumentors honour, so their spans
(and their duration metric) do not repeat ours. A poll's reads (`POLLING`) get spans only
under a recording span of the caller's: a wait that is not inside a traced request records
only the metric.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import Histogram, MeterProvider, NoOpMeterProvider
from opentelemetry.trace import (
    NoOpTracerProvider,
    ProxyTracerProvider,
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
)

from dyte_async._clock import Clock
from dyte_async._telemetry._marks import POLLING
from dyte_async._telemetry._routes import match, url_for_telemetry

__all__ = ["DURATION_BUCKETS", "SCOPE", "AttemptTrace", "CallTrace", "Telemetry"]

T = TypeVar("T")

#: The instrumentation scope's name.
SCOPE: Final = "dyte_async"
#: The semantic conventions' advice for `http.client.request.duration`, in seconds.
DURATION_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip

# The keys the instrumentors check (`opentelemetry.instrumentation.utils` reads the same
# names of `opentelemetry.context`); None with an API too old to have them.
_SUPPRESS_HTTP: Final[str | None] = getattr(
    otel_context, "_SUPPRESS_HTTP_INSTRUMENTATION_KEY", None
)
_SUPPRESS_ALL: Final[str | None] = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", None)


def _is_real(tracer_provider: object, meter_provider: object) -> bool:
    """Whether either global provider is an SDK's (not the API's proxy or no-op)."""
    if not isinstance(tracer_provider, (ProxyTracerProvider, NoOpTracerProvider)):
        return True
    # The API's proxy meter provider has no public class: known by its name.
    return not isinstance(meter_provider, NoOpMeterProvider) and (
        type(meter_provider).__name__ != "_ProxyMeterProvider"
    )


# Where the API keeps the global providers until one is set (None: not set yet). Read
# before the public getters, which look the environment up on every call (microseconds);
# when the API keeps them elsewhere, the getters are asked every time.
_UNKNOWN: Final = object()
_TRACE_STATE: Final = trace
_METRICS_STATE: Final[object] = sys.modules.get("opentelemetry.metrics._internal", _UNKNOWN)


def _globals_unset() -> bool:
    """Whether neither global provider was set (cheap; False when it cannot tell)."""
    return (
        getattr(_TRACE_STATE, "_TRACER_PROVIDER", _UNKNOWN) is None
        and getattr(_METRICS_STATE, "_METER_PROVIDER", _UNKNOWN) is None
    )


class Telemetry:
    """The spans and metric of one client (made by `make_telemetry`)."""

    __slots__ = ("_base", "_clock", "_duration", "_live", "_server", "_tracer")

    def __init__(
        self,
        base_url: str,
        clock: Clock,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        from dyte_async._version import __version__

        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        #: the attributes every attempt shares
        self._server: dict[str, str | int] = {
            "server.address": parts.hostname or "",
            "server.port": port,
        }
        #: the base URL's path (`/v2`), the start of every `url.template`
        self._base = parts.path.rstrip("/")
        self._clock = clock
        self._tracer: Tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(SCOPE, __version__, meter_provider=meter_provider)
        self._duration: Histogram = _duration_histogram(meter)
        #: a provider is known to be real: given, or a global one was set
        self._live = tracer_provider is not None or meter_provider is not None
        # The getters set the global providers named by the environment
        # (OTEL_PYTHON_TRACER_PROVIDER, ...) on their first call: before `_globals_unset`.
        trace.get_tracer_provider()
        metrics.get_meter_provider()

    def begin(self, method: str, path: str) -> CallTrace | None:
        """Start recording one call (`Pipeline.send`); None when nothing is recorded (no
        SDK, or instrumentation suppressed by the caller)."""
        if not self._live:
            if _globals_unset() or not _is_real(
                trace.get_tracer_provider(), metrics.get_meter_provider()
            ):
                return None
            self._live = True
        if _SUPPRESS_ALL is not None and otel_context.get_value(_SUPPRESS_ALL):
            return None
        return CallTrace(self, method, path)


class CallTrace:
    """One call's span (None when not recorded) and what its attempts share."""

    __slots__ = ("_method", "_metric", "_tel", "_template", "_token", "attempts", "span")

    #: the attempts started so far
    attempts: int
    #: the call's span, None when it is not recorded
    span: Span | None

    def __init__(self, tel: Telemetry, method: str, path: str) -> None:
        self._tel = tel
        self._method = method
        self.attempts = 0
        route = match(method, path)
        template = None if route is None else tel._base + route.template
        self._template = template
        metric: dict[str, str | int] = {"http.request.method": method, **tel._server}
        if template is not None:
            metric["url.template"] = template
        self._metric = metric
        span = started = None
        if not POLLING.get() or trace.get_current_span().is_recording():
            name = f"dyte {method}" if route is None else f"dyte.{route.operation}"
            started = tel._tracer.start_span(name, kind=SpanKind.INTERNAL)
            if started.is_recording():  # else sampled out: still the parent of what follows
                span = started
                attributes: dict[str, str | bool] = {"http.request.method": method}
                if route is not None:
                    attributes["dyte.operation"] = route.operation
                    attributes["url.template"] = template or ""
                    for name_, value in route.ids:
                        attributes[f"dyte.{name_}"] = value
                if POLLING.get():
                    attributes["dyte.poll"] = True
                span.set_attributes(attributes)
        self.span = span
        context = otel_context.get_current()
        if _SUPPRESS_HTTP is not None:
            context = otel_context.set_value(_SUPPRESS_HTTP, True, context)
        if started is not None:
            context = trace.set_span_in_context(started, context)
        self._token = otel_context.attach(context)

    def attempt(self, url: str, attempt: int) -> AttemptTrace:
        """Start recording attempt number `attempt` (1 for the first) to `url`."""
        self.attempts = attempt
        return AttemptTrace(self, url, attempt)

    def event(self, name: str, attributes: Mapping[str, str | int | float]) -> None:
        """Add an event to the call's span (when it is recorded)."""
        if self.span is not None:
            self.span.add_event(name, attributes)

    async def record(self, call: Awaitable[T]) -> T:
        """Await the call (`Pipeline.send`), then end its span with what it raised."""
        try:
            result = await call
        except BaseException as exc:
            self.finish(exc)
            raise
        self.finish(None)
        return result

    def finish(self, error: BaseException | None) -> None:
        """End the call: `error` is what it raised (None: it succeeded)."""
        otel_context.detach(self._token)
        span = self.span
        if span is None:
            return
        span.set_attribute("dyte.attempts", self.attempts)
        if error is not None:
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR))
        span.end()


class AttemptTrace:
    """One attempt's span (when its call's is recorded) and its start on the clock."""

    __slots__ = ("_call", "_started", "span")

    #: the attempt's span, None when its call's is not recorded
    span: Span | None

    def __init__(self, call: CallTrace, url: str, attempt: int) -> None:
        self._call = call
        tel = call._tel
        self.span = None
        parent = call.span
        if parent is not None:
            method = call._method
            template = call._template
            attributes: dict[str, str | int] = {
                "http.request.method": method,
                **tel._server,
                "url.full": url_for_telemetry(url),
            }
            if template is not None:
                attributes["url.template"] = template
            if attempt > 1:
                attributes["http.request.resend_count"] = attempt - 1
            self.span = tel._tracer.start_span(
                method if template is None else f"{method} {template}",
                context=trace.set_span_in_context(parent),
                kind=SpanKind.CLIENT,
                attributes=attributes,
            )
        self._started = tel._clock.now()

    def end(self, status: int | None, error_type: str | None) -> None:
        """End the attempt: the answer's `status`, or what failed (`error_type`); a status
        of 400 or more is an error too."""
        call = self._call
        elapsed = call._tel._clock.now() - self._started
        if error_type is None and status is not None and status >= 400:
            error_type = str(status)
        attributes: dict[str, Any] = dict(call._metric)
        if status is not None:
            attributes["http.response.status_code"] = status
        if error_type is not None:
            attributes["error.type"] = error_type
        call._tel._duration.record(max(elapsed, 0.0), attributes)
        span = self.span
        if span is not None:
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            if error_type is not None:
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR))
            span.end()


def _duration_histogram(meter: metrics.Meter) -> Histogram:
    """`http.client.request.duration`, with the conventions' buckets as advice when the API
    takes advice (1.23 and later)."""
    name = "http.client.request.duration"
    description = "Duration of HTTP client requests."
    try:
        return meter.create_histogram(
            name,
            unit="s",
            description=description,
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
    except TypeError:  # pragma: no cover - opentelemetry-api before 1.23
        return meter.create_histogram(name, unit="s", description=description)
