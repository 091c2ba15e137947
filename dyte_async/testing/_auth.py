"""Who sent a request: the fake's credential check, lenient by default, exact when strict.

Like moto or stripe-mock, the fake accepts any well-formed credentials unless told to
check them: on `/v2`, `Authorization: Basic base64(org_id:api_key)` with a non-empty org id
and key; on RealtimeKit paths, `Authorization: Bearer <token>`. A malformed header (no
scheme, the other scheme, bad base64, no colon, an empty part, control characters) is
refused either way. Strict mode compares with the fake's own credentials in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from typing import Literal

import attrs

__all__ = ["Api", "Credentials", "realtimekit_app"]

Api = Literal["v2", "realtimekit", "root"]

_REALTIMEKIT_APP = re.compile(r"/client/v4/accounts/[^/]+/realtime/kit/(?P<app>[^/]+)(?:/|$)")
_TOKEN = re.compile(r"[\x21-\x7e]+")
"""A credential: printable ASCII, no space (RFC 7235 token68 and then some)."""


def realtimekit_app(path: str) -> str | None:
    """Return the `{app_id}` of a RealtimeKit path (RealtimeKit's "organization"), or None."""
    found = _REALTIMEKIT_APP.match(path)
    return None if found is None else found.group("app")


def _basic_pair(credentials: str) -> tuple[str, str] | None:
    if not _TOKEN.fullmatch(credentials):
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    org_id, sep, api_key = decoded.partition(":")
    if not sep or not org_id or not api_key:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
        return None
    return org_id, api_key


@attrs.frozen
class Credentials:
    """What the fake accepts.

    Attributes:
        org_id: the organization id (Basic user on `/v2`) checked in strict mode.
        api_key: the API key (Basic password on `/v2`) checked in strict mode.
        api_token: the Bearer token of RealtimeKit paths checked in strict mode.
        strict: check the values exactly (else any well-formed credentials pass).
    """

    org_id: str
    api_key: str = attrs.field(repr=False)
    api_token: str = attrs.field(repr=False)
    strict: bool = False

    def identify(self, api: Api, authorization: str | None, path: str = "") -> str | None:
        """Return the organization a request speaks for, or None when it is refused.

        Args:
            api: which API root the request is under.
            authorization: its `Authorization` header (None when absent).
            path: the full URL path (RealtimeKit's app id is the organization there).

        Returns:
            The Basic user on `/v2`; the `{app_id}` of the path on RealtimeKit; `""` for the
            unauthenticated root paths; None when the credentials are missing, malformed,
            or (strict mode) not the fake's own.
        """
        if api == "root":
            return ""
        if authorization is None:
            return None
        scheme, _, credentials = authorization.strip().partition(" ")
        credentials = credentials.strip()
        if api == "realtimekit":
            if scheme.lower() != "bearer" or not _TOKEN.fullmatch(credentials):
                return None
            if self.strict and not hmac.compare_digest(
                credentials.encode(), self.api_token.encode()
            ):
                return None
            return realtimekit_app(path) or ""
        if scheme.lower() != "basic":
            return None
        pair = _basic_pair(credentials)
        if pair is None:
            return None
        if self.strict:
            given = f"{pair[0]}:{pair[1]}".encode()
            if not hmac.compare_digest(given, f"{self.org_id}:{self.api_key}".encode()):
                return None
        return pair[0]

    def accepts(self, api: Api, authorization: str | None, path: str = "") -> bool:
        """Return True when `authorization` is acceptable for `api` (see `identify`)."""
        return self.identify(api, authorization, path) is not None
