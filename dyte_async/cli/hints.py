"""Messages that speak CLI: credentials and base URL checked before a client is made, the
library's Python-speaking messages translated to options, and the hint after a 404.

Nothing here ever shows a credential: a URL is shown by scheme, host and path only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

__all__ = [
    "ORG_ID_VARIABLE",
    "check_base_url",
    "cli_message",
    "missing_credentials",
    "missing_v2_hint",
    "shown_url",
]

ORG_ID_VARIABLE: Final = "DYTE_ORG_ID"
API_KEY_VARIABLE: Final = "DYTE_API_KEY"
BASE_URL_VARIABLE: Final = "DYTE_BASE_URL"

# The library's words for its arguments, and what a shell user types instead.
_TRANSLATIONS: Final = (
    (re.compile(r"\bor pass allow_insecure_http=True\b"), "or pass --allow-insecure-http"),
    (re.compile(r"\ballow_insecure_http=True\b"), "--allow-insecure-http"),
    (re.compile(r"\bbase_url\b"), f"the base URL (--base-url or {BASE_URL_VARIABLE})"),
    (re.compile(r"(?<![\w-])proxy="), "--proxy"),
    (re.compile(r"\borg_id\b"), f"--org-id ({ORG_ID_VARIABLE})"),
    (re.compile(r"\bapi_key\b"), API_KEY_VARIABLE),
    (re.compile(r"\bmax_retries\b"), "--max-retries"),
    (re.compile(r"\brate_limit\b"), "--rate-limit"),
)


def cli_message(message: str) -> str:
    """A library `ConfigurationError` message with argument names made options/variables."""
    for pattern, replacement in _TRANSLATIONS:
        message = pattern.sub(replacement, message)
    return message


def missing_credentials(org_id: str | None, env: Mapping[str, str]) -> str | None:
    """What is missing to talk to the API, as one line, or None when nothing is.

    Args:
        org_id: `--org-id`, when given.
        env: the environment.
    """
    missing = []
    if not (org_id or env.get(ORG_ID_VARIABLE, "").strip()):
        missing.append(f"{ORG_ID_VARIABLE} (or --org-id)")
    if not env.get(API_KEY_VARIABLE, "").strip():
        missing.append(API_KEY_VARIABLE)
    if not missing:
        return None
    return (
        f"missing credentials: set {' and '.join(missing)}; "
        "or try it without any with --fake or `dyte-async demo`"
    )


def shown_url(url: str) -> str:
    """`url` without anything before an `@` in its authority (credentials) or after `?`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, path = rest.partition("/")
    authority = authority.rpartition("@")[2]
    path = path.split("?", 1)[0].split("#", 1)[0]
    return f"{scheme}{sep}{authority}{slash}{path}"


def check_base_url(url: str, name: str) -> str | None:
    """A one-line problem with a base URL given as `name`, or None when it looks right.

    Args:
        url: the URL as given.
        name: `--base-url` or `DYTE_BASE_URL`.
    """
    if "://" not in url:
        return f"{name} {shown_url(url)!r} has no scheme: did you mean https://{shown_url(url)}?"
    return None


def missing_v2_hint(url: str | None) -> str | None:
    """A hint for a 404 when the base URL does not end in `/v2` (Dyte's API is under it).

    Args:
        url: the base URL in use (None: the default, which is right).

    Returns:
        The hint, or None when the path ends in `/v2` or is RealtimeKit's.
    """
    if not url or "://" not in url:
        return None
    path = shown_url(url).partition("://")[2].partition("/")[2].rstrip("/")
    if path == "v2" or path.endswith("/v2") or "/realtime/kit/" in f"/{path}/":
        return None
    return (
        f"hint: the base URL {shown_url(url)} does not end in /v2; Dyte's API is under /v2 "
        "(e.g. https://api.dyte.io/v2), so every path may be answered 404"
    )
