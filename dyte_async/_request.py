"""Building a call's `httpx.Request`, once per call.

For a client passed in with `http_client=`: its own `build_request`, with all of its
configuration (params, cookies, auth, headers). For the client we build ourselves: what
`build_request` would make, cheaper: the URL parsed once per path (`_url`), and a body-less
request given headers merged once per client (tests/unit/test_pipeline_direct.py checks
that both are the same on the wire).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import httpx

from dyte_async.errors import InvalidArgumentError

__all__ = ["RequestBuilder", "query_params"]

#: `httpx.URL` of a full URL string: parsing one costs ~20 us, and a client requests the
#: same few paths again and again (URLs are immutable, so sharing them is safe).
_url = functools.lru_cache(maxsize=512)(httpx.URL)
_EMPTY_BODY = httpx.ByteStream(b"")
# Methods whose empty body httpx announces with `Content-Length: 0`.
_EMPTY_BODY_LENGTH_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestBuilder:
    """Builds the requests of one client.

    Args:
        base_url: the API's base URL (paths are appended to it).
        headers: headers for `build_request` on a client passed in (ours has its own).
        own_http: True when the client is one we built (and configured) ourselves.
        extra: headers on top of the client's, on every request (`AsyncDyte.with_options`).
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None,
        *,
        own_http: bool,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self._base_url = base_url
        self._headers = headers
        self._own_http = own_http
        self._extra = extra or None
        # The client whose headers `_bodyless` holds, by (host, needs Content-Length: 0).
        self._headers_of: httpx.AsyncClient | None = None
        self._bodyless: dict[tuple[bytes, bool], httpx.Headers] = {}

    def with_extra(self, extra: Mapping[str, str] | None) -> RequestBuilder:
        """A builder for the same client with `extra` headers on every request instead."""
        return RequestBuilder(self._base_url, self._headers, own_http=self._own_http, extra=extra)

    def build(
        self,
        http: httpx.AsyncClient,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
    ) -> httpx.Request:
        """The request for one call on `http`.

        Args:
            http: the client that will send it.
            method: HTTP method.
            path: path below the base URL, already quoted.
            params: query parameters (None values are dropped).
            json: JSON body, or None for no body.

        Returns:
            The request, its body encoded.

        Raises:
            InvalidArgumentError: `json` cannot be encoded.
        """
        try:
            url = _url(self._base_url + path)
            if not self._own_http or self._extra is not None:
                # A client passed in (its own configuration applies), or headers on top of
                # ours: `build_request` merges them (a name given replaces the client's).
                headers = httpx.Headers(self._headers)
                headers.update(self._extra)
                return http.build_request(
                    method, url, params=query_params(params), headers=headers, json=json
                )
            if self._headers_of is not http:
                self._headers_of = http
                self._bodyless.clear()
            query = query_params(params)
            if json is None and query is None:
                return self._build_bodyless(method, url)
            # Our own client has no params, cookies or auth of its own: its headers are all
            # `build_request` would merge in.
            return httpx.Request(method, url, params=query, headers=http.headers, json=json)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"{method} {path}: the request body cannot be sent as JSON ({exc})"
            ) from exc

    def _build_bodyless(self, method: str, url: httpx.URL) -> httpx.Request:
        """`httpx.Request(method, url, headers=...)` with no body, at a third of the cost.

        The headers `Request` would compute (`Host`, then `Content-Length: 0` for a POST,
        PUT or PATCH, then the client's) are computed once per client and method kind, and
        given with an empty stream, which `Request` takes as is.
        """
        netloc = url.netloc
        key = (netloc, method in _EMPTY_BODY_LENGTH_METHODS)
        headers = self._bodyless.get(key)
        if headers is None:
            auto = [(b"Host", netloc)] if url.host else []
            if key[1]:
                auto.append((b"Content-Length", b"0"))
            http = self._headers_of
            assert http is not None
            headers = self._bodyless[key] = httpx.Headers(auto + http.headers.raw)
        request = httpx.Request(method, url, headers=headers, stream=_EMPTY_BODY)
        request.read()  # as `Request` does for a body it encoded itself
        return request


def query_params(
    params: Mapping[str, Any] | None,
) -> list[tuple[str, str | int | float | bool | None]] | None:
    """Query parameters as the API reads them: booleans lower case, dates ISO 8601.

    A naive `datetime` (no `tzinfo`, or one that gives no offset) is taken as UTC, never
    as local time, and sent with its offset (``2024-05-01T12:00:00+00:00``), as an aware
    one is (the spec wants an offset); an aware one is sent in its own offset.
    """
    if not params:
        return None
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, datetime):
            out.append((key, _with_offset(value).isoformat()))
        elif hasattr(value, "isoformat"):
            out.append((key, value.isoformat()))
        else:
            out.append((key, str(value)))
    return out or None


def _with_offset(value: datetime) -> datetime:
    """`value` itself when aware, else the same wall time in UTC."""
    if value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value


_query = query_params  # the name tests/unit/test_pipeline_direct.py imports
