"""`RateLimit`: the limit a client keeps, and the documented defaults of the two services."""

from __future__ import annotations

import math

import attrs

from dyte_async.errors import ConfigurationError

__all__ = ["DYTE_DEFAULT", "REALTIMEKIT_DEFAULT", "RateLimit"]


def _to_float(value: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"per must be a number of seconds, not {value!r}") from None


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@attrs.frozen
class RateLimit:
    """At most `requests` request starts in any window of `per` seconds.

    Args:
        requests: the number of starts allowed per window (an integer > 0).
        per: the window length in seconds (finite, > 0).

    Raises:
        ConfigurationError: `requests` or `per` is out of range.
    """

    requests: int
    per: float = attrs.field(converter=_to_float)

    def __attrs_post_init__(self) -> None:
        if not _is_positive_int(self.requests):
            raise ConfigurationError(f"requests must be an integer > 0, not {self.requests!r}")
        if not (math.isfinite(self.per) and self.per > 0):
            raise ConfigurationError(
                f"per must be a finite number of seconds > 0, not {self.per!r}"
            )

    def __str__(self) -> str:
        return f"{self.requests} requests per {self.per:g} s"


DYTE_DEFAULT = RateLimit(2000, per=60.0)
"""Dyte's documented limit: 2,000 requests a minute."""

REALTIMEKIT_DEFAULT = RateLimit(250, per=10.0)
"""The default for Cloudflare RealtimeKit: 250 requests per 10 seconds."""
