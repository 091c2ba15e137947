"""dyte_async: an asyncio client for Dyte's livestreaming API v2 and Cloudflare RealtimeKit."""

from __future__ import annotations

from dyte_async._client import AsyncDyte
from dyte_async._clock import Clock, SystemClock
from dyte_async._pagination import AsyncPaginator
from dyte_async._pipeline import ClientStats
from dyte_async._ratelimit import RateLimit
from dyte_async._retry import RetryPolicy
from dyte_async._version import __version__
from dyte_async.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    DyteError,
    InternalServerError,
    InvalidArgumentError,
    LivestreamErroredError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    UnprocessableEntityError,
    WaitTimeoutError,
    WebhookSignatureError,
)
from dyte_async.models import (
    Livestream,
    LivestreamAnalytics,
    LivestreamDayAnalytics,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
    Meeting,
    MeetingStatus,
    Page,
    Participant,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncDyte",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ClientStats",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "DyteError",
    "InternalServerError",
    "InvalidArgumentError",
    "Livestream",
    "LivestreamAnalytics",
    "LivestreamDayAnalytics",
    "LivestreamDetails",
    "LivestreamErroredError",
    "LivestreamSession",
    "LivestreamStatus",
    "Meeting",
    "MeetingStatus",
    "NotFoundError",
    "Page",
    "Participant",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "ResponseDecodeError",
    "RetryPolicy",
    "SystemClock",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WebhookSignatureError",
    "__version__",
]
