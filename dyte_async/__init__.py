"""dyte_async: an asyncio client for Dyte's livestreaming API v2 and Cloudflare RealtimeKit.

`AsyncDyte`, its configuration types and the errors are imported with the package; the
models, presets, webhooks helpers and `__version__` when first asked for (module
`__getattr__`), so `import dyte_async` costs little more than `import httpx`. Every name in
`__all__` can be imported from here either way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dyte_async._client import AsyncDyte
from dyte_async._clock import Clock, SystemClock
from dyte_async._ratelimit import RateLimit
from dyte_async._raw import RawResponse
from dyte_async._retry import RetryPolicy
from dyte_async._stats import ClientStats
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
    ResponseTooLargeError,
    UnprocessableEntityError,
    WaitTimeoutError,
    WebhookSignatureError,
)

if TYPE_CHECKING:
    from dyte_async._pagination import AsyncPaginator
    from dyte_async._version import __version__
    from dyte_async.models import (
        ActiveSession,
        ActiveSessionStatus,
        AudioConfig,
        ChatPermissions,
        ConnectedMeetingsPermissions,
        JsonObject,
        Livestream,
        LivestreamAnalytics,
        LivestreamDayAnalytics,
        LivestreamDetails,
        LivestreamSession,
        LivestreamStatus,
        MaxVideoStreams,
        MediaConfig,
        MediaPermissions,
        Meeting,
        MeetingStatus,
        ModerationResult,
        Page,
        Participant,
        PluginPermissions,
        PollPermissions,
        Preset,
        PresetConfig,
        PresetPermissions,
        PresetSummary,
        PrivateChatPermissions,
        ProduceAccess,
        ProducePermission,
        PublicChatPermissions,
        RecorderType,
        SessionParticipant,
        VideoConfig,
        VideoQuality,
        ViewType,
        WaitingRoomType,
    )
    from dyte_async.resources._fields import (
        NULL,
        MeetingFields,
        MeetingUpdateFields,
        ParticipantUpdateFields,
        PresetFields,
    )
    from dyte_async.webhooks import WebhookKeyError, WebhookPayloadError

__all__ = [  # noqa: RUF022 - plain sorted() order (NULL among the N), as test_exports checks
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ActiveSession",
    "ActiveSessionStatus",
    "AsyncDyte",
    "AsyncPaginator",
    "AudioConfig",
    "AuthenticationError",
    "BadRequestError",
    "ChatPermissions",
    "ClientClosedError",
    "ClientStats",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "ConnectedMeetingsPermissions",
    "DyteError",
    "InternalServerError",
    "InvalidArgumentError",
    "JsonObject",
    "Livestream",
    "LivestreamAnalytics",
    "LivestreamDayAnalytics",
    "LivestreamDetails",
    "LivestreamErroredError",
    "LivestreamSession",
    "LivestreamStatus",
    "MaxVideoStreams",
    "MediaConfig",
    "MediaPermissions",
    "Meeting",
    "MeetingFields",
    "MeetingStatus",
    "MeetingUpdateFields",
    "ModerationResult",
    "NULL",
    "NotFoundError",
    "Page",
    "Participant",
    "ParticipantUpdateFields",
    "PermissionDeniedError",
    "PluginPermissions",
    "PollPermissions",
    "Preset",
    "PresetConfig",
    "PresetFields",
    "PresetPermissions",
    "PresetSummary",
    "PrivateChatPermissions",
    "ProduceAccess",
    "ProducePermission",
    "PublicChatPermissions",
    "RateLimit",
    "RateLimitError",
    "RawResponse",
    "RecorderType",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "SessionParticipant",
    "SystemClock",
    "UnprocessableEntityError",
    "VideoConfig",
    "VideoQuality",
    "ViewType",
    "WaitTimeoutError",
    "WaitingRoomType",
    "WebhookKeyError",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "__version__",
]

# The names imported on first use, and the module each lives in.
_LAZY: dict[str, str] = {
    "AsyncPaginator": "dyte_async._pagination",
    "__version__": "dyte_async._version",
    **dict.fromkeys(
        (
            "ActiveSession",
            "ActiveSessionStatus",
            "AudioConfig",
            "ChatPermissions",
            "ConnectedMeetingsPermissions",
            "JsonObject",
            "Livestream",
            "LivestreamAnalytics",
            "LivestreamDayAnalytics",
            "LivestreamDetails",
            "LivestreamSession",
            "LivestreamStatus",
            "MaxVideoStreams",
            "MediaConfig",
            "MediaPermissions",
            "Meeting",
            "MeetingStatus",
            "ModerationResult",
            "Page",
            "Participant",
            "PluginPermissions",
            "PollPermissions",
            "Preset",
            "PresetConfig",
            "PresetPermissions",
            "PresetSummary",
            "PrivateChatPermissions",
            "ProduceAccess",
            "ProducePermission",
            "PublicChatPermissions",
            "RecorderType",
            "SessionParticipant",
            "VideoConfig",
            "VideoQuality",
            "ViewType",
            "WaitingRoomType",
        ),
        "dyte_async.models",
    ),
    **dict.fromkeys(
        (
            "NULL",
            "MeetingFields",
            "MeetingUpdateFields",
            "ParticipantUpdateFields",
            "PresetFields",
        ),
        "dyte_async.resources._fields",
    ),
    "WebhookKeyError": "dyte_async.webhooks",
    "WebhookPayloadError": "dyte_async.webhooks",
}


def __getattr__(name: str) -> Any:
    """Import a lazily exported name on first access, and keep it."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
