"""Where the webhook public key lives, how to fetch it, and how to read any answer shape.

The key is served at `/.well-known/webhooks.json` of the API's host:

- Dyte: `https://api.dyte.io/.well-known/webhooks.json` (answer format undocumented);
- RealtimeKit: `https://api.realtime.cloudflare.com/.well-known/webhooks.json`, answering
  `{"success": true, "data": {"publicKey": "-----BEGIN PUBLIC KEY-----..."}, "message": ""}`
  (ENDPOINTS.md section 8). RealtimeKit's REST base is on `api.cloudflare.com`, so its
  key URL is not on the base URL's host.

The key is fetched with the client's pooled `httpx.AsyncClient` (same transport, so fakes
and mocks see it), but not through the request pipeline: the URL is not below the base
URL, the answer is not the `{success, data}` envelope the pipeline decodes, it needs no
credentials (none are sent: no `Authorization` header, no client auth), and it must not
draw on the API's rate limit or retry budget. One attempt within `timeout` seconds; a
failure surfaces as the library's usual errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

import anyio
import httpx

from dyte_async._net import is_loopback, parse_http_url
from dyte_async._response import error_from_response
from dyte_async.errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    ResponseDecodeError,
)

__all__ = [
    "DYTE_WEBHOOK_KEY_URL",
    "REALTIMEKIT_WEBHOOK_KEY_URL",
    "WELL_KNOWN_PATH",
    "check_key_url",
    "fetch_public_key",
    "public_key_from_body",
    "webhook_key_url",
]

WELL_KNOWN_PATH: Final = "/.well-known/webhooks.json"
DYTE_WEBHOOK_KEY_URL: Final = "https://api.dyte.io" + WELL_KNOWN_PATH
REALTIMEKIT_WEBHOOK_KEY_URL: Final = "https://api.realtime.cloudflare.com" + WELL_KNOWN_PATH

_REALTIMEKIT_API_HOST: Final = "api.cloudflare.com"
_REALTIMEKIT_PATH_MARK: Final = "/realtime/kit/"
_KEY_NAMES: Final = ("publicKey", "public_key")
_ACCEPT: Final = "application/json, application/x-pem-file, text/plain;q=0.9, */*;q=0.1"


def webhook_key_url(base_url: str) -> str:
    """The public-key URL for a client whose API base is `base_url`.

    Args:
        base_url: the client's base URL, e.g. `https://api.dyte.io/v2`.

    Returns:
        RealtimeKit's key URL for a RealtimeKit base (`api.cloudflare.com/.../realtime/kit/...`),
        otherwise `/.well-known/webhooks.json` on the base URL's scheme, host and port
        (`https://api.dyte.io/.well-known/webhooks.json`; a fake's own origin in tests).

    Raises:
        ConfigurationError: `base_url` is not an absolute http(s) URL.
    """
    url = parse_http_url(base_url, "base_url")
    if url.host == _REALTIMEKIT_API_HOST and _REALTIMEKIT_PATH_MARK in url.path:
        return REALTIMEKIT_WEBHOOK_KEY_URL
    return str(url.copy_with(path=WELL_KNOWN_PATH, query=None, fragment=None, userinfo=b""))


def check_key_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """`url` if it is a safe place to fetch a public key from.

    A key fetched over plain HTTP could be swapped by anyone on the path, who could then
    forge webhooks: `http://` is refused unless the host is loopback or
    `allow_insecure_http` is set.

    Raises:
        ConfigurationError: not an absolute http(s) URL, or plain http to another host.
    """
    parsed = parse_http_url(url, "webhook key_url")
    if parsed.scheme == "http" and not allow_insecure_http and not is_loopback(parsed.host):
        raise ConfigurationError(
            f"refusing to fetch the webhook public key over plain http from {parsed.host}: "
            "use https, or pass allow_insecure_http=True"
        )
    return url


def _looks_like_pem(text: str) -> bool:
    return text.startswith("-----BEGIN ") and "PUBLIC KEY-----" in text and "-----END " in text


def _pem(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if "\\n" in text and "\n" not in text:  # a PEM whose newlines were escaped twice
        text = text.replace("\\n", "\n")
    return text + "\n" if _looks_like_pem(text) else None


def _find_key(value: Any) -> str | None:
    pem = _pem(value)
    if pem is not None or not isinstance(value, Mapping):
        return pem
    for name in _KEY_NAMES:
        pem = _pem(value.get(name))
        if pem is not None:
            return pem
    data = value.get("data")
    if isinstance(data, Mapping):
        for name in _KEY_NAMES:
            pem = _pem(data.get(name))
            if pem is not None:
                return pem
    return _pem(data)


def public_key_from_body(content: bytes) -> str:
    """The PEM public key in a key endpoint's answer, whatever its known shape.

    Accepted: a plain PEM body; a JSON string holding PEM; `{"publicKey": ...}`,
    `{"public_key": ...}`; and either of those under `data` (RealtimeKit's
    `{"success": true, "data": {"publicKey": ...}}`).

    Args:
        content: the answer's body.

    Returns:
        The PEM text (ending with a newline).

    Raises:
        ResponseDecodeError: no public key in any of those shapes.
    """
    try:
        text = content.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ResponseDecodeError("the webhook key answer is not UTF-8 text") from None
    pem = _pem(text)
    if pem is not None:
        return pem
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        raise ResponseDecodeError(
            "the webhook key answer is neither PEM nor JSON", body=text
        ) from None
    pem = _find_key(decoded)
    if pem is None:
        raise ResponseDecodeError(
            "no PEM public key in the webhook key answer (looked for publicKey, public_key, "
            "data.publicKey, data.public_key)",
            body=text,
        )
    return pem


async def fetch_public_key(
    get_http: Callable[[], httpx.AsyncClient], url: str, *, timeout: float
) -> str:
    """GET the webhook public key from `url` with the client's pooled HTTP client.

    No credentials are sent. Redirects are followed, but never from https to http.

    Args:
        get_http: returns the client's `httpx.AsyncClient` (`AsyncDyte._get_http`).
        url: the absolute key URL.
        timeout: seconds for the whole fetch.

    Returns:
        The PEM public key.

    Raises:
        ClientClosedError: the client is closed (raised by `get_http`).
        APITimeoutError: no answer within `timeout`.
        APIConnectionError: the network failed.
        APIStatusError: a non-2xx answer (the usual subclass for its status).
        ResponseDecodeError: the answer holds no PEM public key.
    """
    http = get_http()
    request = http.build_request(
        "GET",
        url,
        headers={"Accept": _ACCEPT},
        timeout=httpx.Timeout(timeout),
    )
    # The client's default headers carry the API credentials: this host needs none.
    for name in ("Authorization", "Cookie"):
        if name in request.headers:
            del request.headers[name]
    response: httpx.Response | None = None
    with anyio.move_on_after(timeout):
        try:
            response = await http.send(request, auth=None, follow_redirects=True)
            try:
                await response.aread()
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            raise APITimeoutError(
                f"GET {url}: timed out fetching the webhook public key", method="GET", url=url
            ) from None
        except httpx.HTTPError as exc:
            raise APIConnectionError(
                f"GET {url}: connection failed fetching the webhook public key "
                f"({type(exc).__name__})",
                method="GET",
                url=url,
            ) from exc
    if response is None:
        raise APITimeoutError(
            f"GET {url}: no webhook public key within {timeout:g}s", method="GET", url=url
        )
    if url.startswith("https:") and response.url.scheme != "https":
        raise APIConnectionError(
            f"GET {url}: refusing a redirect to plain http for the webhook public key",
            method="GET",
            url=url,
        )
    if not 200 <= response.status_code < 300:
        raise error_from_response(response, method="GET", path=url)
    return public_key_from_body(response.content)
