"""Small facts about network addresses."""

from __future__ import annotations

import ipaddress

import httpx

from dyte_async.errors import ConfigurationError

__all__ = ["is_loopback", "parse_http_url"]


def is_loopback(host: str) -> bool:
    """True for `localhost`, `*.localhost` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_http_url(url: str, what: str) -> httpx.URL:
    """`url` parsed, when it is an absolute http(s) URL with a host.

    Args:
        url: the URL.
        what: how error messages name it (e.g. "base_url").

    Raises:
        ConfigurationError: not a URL, or not absolute http(s). The message shows only the
            scheme and host, never credentials a URL may carry.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"invalid {what}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"{what} must be an absolute http(s) URL, got {parsed.scheme}://{parsed.host}"
        )
    return parsed
