"""Masking secrets in text a server or a library wrote, before it goes into an exception.

Two passes: the secrets we know (the `Authorization` header of the request, the API key
inside a Basic header, the bearer token) are replaced wherever they appear; then anything
that looks like a secret by its shape (a URL's `user:password@`, `Basic ...`/`Bearer ...`,
a value under a key named like `stream_key`, `token`, `api_key`, `authorization`,
`password`, `secret`) is masked.
Imports nothing of ours: every layer may use it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "EXCERPT",
    "MASK",
    "excerpt",
    "is_secret_name",
    "redact_data",
    "redact_text",
    "secrets_of",
]

#: What a masked secret becomes.
MASK: Final = "<redacted>"
#: The most characters of server or library text quoted into a message.
EXCERPT: Final = 200

_SECRET_NAME = re.compile(
    r"(?i)(stream[_-]?key|token|api[_-]?key|apikey|authorization|password|passwd|secret"
    r"|credential|cookie|signature|private[_-]?key)"
)
_SCHEME = re.compile(r"(?i)\b(basic|bearer)(\s+|%20)([^\s\"',;}\])]+)")
# `name: value`, `"name": "value"`, `name=value`, `'name': b'value'` (repr of headers, JSON,
# query strings): the value of a secret-looking name.
_NAMED = re.compile(
    r"(?i)([\w-]{0,40}(?:stream[_-]?key|token|api[_-]?key|apikey|authorization|password"
    r"|secret|private[_-]?key)[\w-]{0,40}\\?[\"']?\s{0,3}[:=]\s{0,3}b?\\?[\"']?)"
    r"([^\"',;&\s}\])]+)"
)
# A run of key-like characters long enough to be a key, token or stream key: masked when
# it mixes letters and digits (ids have dashes every few characters: `[0-9a-f]{8}-...`).
_KEYLIKE = re.compile(r"[A-Za-z0-9+/_=]{32,}")
# The password in a URL's `user:password@` (a proxy URL quoted by a library).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,15}://[^/\s@:'\"]*):[^/\s@'\"]*@")


def is_secret_name(name: str) -> bool:
    """Whether a field or header called `name` holds a secret (`stream_key`, `token`, ...)."""
    return bool(_SECRET_NAME.search(name))


def secrets_of(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> tuple[str, ...]:
    """The secret strings in request headers: the `Authorization` value, its credentials,
    and for a Basic header the API key (and `org:key`) inside it.

    Args:
        headers: the request's headers (any mapping or pairs of str).

    Returns:
        The strings to mask, longest first (none shorter than 4 characters).
    """
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: set[str] = set()
    for name, value in items:
        if name.lower() not in ("authorization", "proxy-authorization") or not value:
            continue
        found.add(value)
        scheme, _, credentials = value.strip().partition(" ")
        credentials = credentials.strip()
        if not credentials:
            continue
        found.add(credentials)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            found.add(decoded)
            _, _, key = decoded.partition(":")
            found.add(key)
    return tuple(sorted((s for s in found if len(s) >= 4), key=len, reverse=True))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the known `secrets` and anything shaped like a secret masked.

    Args:
        text: any text (a server's body, a library's message).
        secrets: exact strings to mask wherever they appear.

    Returns:
        The text, same length or shorter, with `<redacted>` in place of each secret.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: m.group(1) + ":" + MASK + "@", text)
    text = _SCHEME.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _NAMED.sub(lambda m: m.group(1) + MASK, text)
    return _KEYLIKE.sub(_mask_keylike, text)


def _mask_keylike(match: re.Match[str]) -> str:
    run = match.group(0)
    if run == MASK or not (any(c.isdigit() for c in run) and any(c.isalpha() for c in run)):
        return run
    return MASK


def excerpt(text: str, secrets: Iterable[str] = (), limit: int = EXCERPT) -> str:
    """A redacted excerpt of `text` short enough to quote in a message.

    Args:
        text: the text to quote.
        secrets: exact strings to mask.
        limit: the most characters kept (before masking; an ellipsis marks a cut).
    """
    cut = len(text) > limit
    # Redact a little past the limit first, so a secret cut in two by it is still masked.
    redacted = redact_text(text[: limit + 256], secrets)
    if len(redacted) > limit:
        redacted = redacted[:limit]
        # A secret cut at the limit: drop its visible half.
        tail = re.search(r"[A-Za-z0-9+/_=.~-]{8,}$", redacted)
        if tail is not None:
            redacted = redacted[: tail.start()] + MASK
        cut = True
    return redacted + "…" if cut else redacted


def redact_data(data: Any, secrets: Iterable[str] = (), *, depth: int = 0) -> Any:
    """Decoded JSON with secret-named values masked and strings redacted, at any depth.

    Args:
        data: a JSON value (dicts, lists, strings, numbers).
        secrets: exact strings to mask inside strings.
        depth: the current nesting (past 64 levels the value becomes `<redacted>`).
    """
    secrets = tuple(secrets)
    if depth > 64:
        return MASK
    if isinstance(data, str):
        return redact_text(data, secrets)
    if isinstance(data, Mapping):
        return {
            key: (
                MASK
                if isinstance(key, str) and is_secret_name(key) and value not in (None, "")
                else redact_data(value, secrets, depth=depth + 1)
            )
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact_data(item, secrets, depth=depth + 1) for item in data]
    return data


# A quoted value in a library's message (`not a boolean: 'abcdefgh'`, `Invalid isoformat
# string: "..."`): a field's value from the answer, which may be a stream key or a token.
# Short ones (`'a'`, `'maybe'`) cannot be a secret and help to see what went wrong.
_QUOTED = re.compile(r"""'[^'\n]{8,4096}'|"[^"\n]{8,4096}\"""")


def without_values(text: str) -> str:
    """`text` (a decoding library's message) with every quoted value of 8 characters or
    more replaced by `'…'`.

    Args:
        text: the message.

    Returns:
        The message, the answer's values out of it, at most `EXCERPT` characters.
    """
    return excerpt(_QUOTED.sub("'…'", text))


def stripped(exc: BaseException) -> BaseException:
    """A stand-in for a decoding error: same class when it can be made from a message,
    else `ValueError`; its message `without_values`; nothing chained under it.

    Args:
        exc: the error a decoder raised (its message may quote the answer's values).
    """
    message = without_values(str(exc))
    try:
        clean = type(exc)(message)
    except Exception:  # a class that needs more than a message
        clean = ValueError(f"{type(exc).__name__}: {message}")
    clean.__cause__ = None
    clean.__context__ = None
    return clean
