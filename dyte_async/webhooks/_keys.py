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

Where the key may come from: only the key URL itself, which is on the API's own origin
(`webhook_key_url(base_url)`) or is the user's `key_url`, over https (plain http only to
loopback, or with `allow_insecure_http=True`: `check_key_url`). Redirects are never
followed, not even within the same origin: a 3xx is an `APIConnectionError` naming the
origin. Following same-origin redirects would be safe, but no service is known to
redirect its key URL, and refusing every one leaves no rule about origins, schemes and
relative Locations to get wrong. The answer is asked for without compression and read
up to `MAX_KEY_ANSWER_BYTES`; past that the fetch stops with a `ResponseDecodeError`.
Keys shorter than 2048 bits are refused when loaded (`_crypto.MIN_KEY_BITS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

import anyio
import httpx

from dyte_async._body import BodyCorrupt, BodyTooLarge, UnsupportedEncoding, read_capped
from dyte_async._net import is_loopback, parse_http_url
from dyte_async._response import error_from_response
from dyte_async.errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    ResponseDecodeError,
    ResponseTooLargeError,
)

__all__ = [
    "DYTE_WEBHOOK_KEY_URL",
    "MAX_KEY_ANSWER_BYTES",
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


#: Largest webhook key answer read, in bytes (after any Content-Encoding is undone). A PEM
#: RSA key of 4096 bits is about 800 bytes; 64 KiB leaves room for any envelope around it.
MAX_KEY_ANSWER_BYTES: Final = 64 * 1024


def _origin(url: httpx.URL) -> str:
    """`scheme://host[:port]` of `url`: never its credentials, path or query."""
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def _shown(url: httpx.URL) -> str:
    """`url` as error messages show it: origin and path, no credentials, no query."""
    return _origin(url) + url.path


def _redirect_error(response: httpx.Response, key_url: httpx.URL, shown: str) -> APIConnectionError:
    # A redirect is refused as an APIConnectionError, not an APIStatusError: the key could
    # not be fetched from the one place it may come from, which is a failure to complete
    # the request (like httpx's own redirect errors), not an error the service reported;
    # and an APIStatusError carries the answer's headers and body by contract, which here
    # would hand the Location (perhaps with credentials) to every log that prints it.
    # The message names the key URL's origin and, at most, the Location's scheme.
    target = ""
    location: httpx.URL | None = None
    raw = response.headers.get("location")
    if raw:
        try:
            location = key_url.join(raw)
        except (httpx.InvalidURL, UnicodeError, ValueError):
            location = None
    if location is not None and location.scheme == "http" and key_url.scheme == "https":
        target = " to plain http"
    elif location is not None and _origin(location) == _origin(key_url):
        target = " within the same origin"
    elif location is not None:
        target = " to another origin"
    return APIConnectionError(
        f"GET {shown}: refusing a redirect{target} (answer {response.status_code}) for the "
        f"webhook public key: the key is fetched only from {_origin(key_url)}, and "
        "redirects are not followed",
        method="GET",
        url=shown,
    )


def _too_large(response: httpx.Response, shown: str) -> ResponseDecodeError:
    return ResponseTooLargeError(
        f"GET {shown}: the webhook key answer is larger than {MAX_KEY_ANSWER_BYTES} bytes",
        status_code=response.status_code,
    )


async def _read_capped(response: httpx.Response, shown: str) -> bytes:
    """The answer's body (inflated), or `ResponseDecodeError` as soon as it passes the cap.

    The raw stream is read with the shared capped reader (`dyte_async._body`), not
    `aiter_bytes`: httpx inflates a whole network chunk at once (a 64 KiB gzip chunk of
    zeros is 64 MB), while the reader stops at the cap. A transport that has already read
    the answer hands over its content, which is only measured.
    """
    if response.is_stream_consumed:
        if len(response.content) > MAX_KEY_ANSWER_BYTES:
            raise _too_large(response, shown)
        return response.content
    encoding = response.headers.get("content-encoding")
    try:
        return await read_capped(response.aiter_raw(), encoding, MAX_KEY_ANSWER_BYTES, strict=True)
    except BodyTooLarge:
        raise _too_large(response, shown) from None
    except UnsupportedEncoding:
        # The header's value is the server's: not quoted.
        raise ResponseDecodeError(
            f"GET {shown}: the webhook key answer has an unsupported Content-Encoding",
            status_code=response.status_code,
        ) from None
    except BodyCorrupt:
        raise ResponseDecodeError(
            f"GET {shown}: the webhook key answer's compressed body "
            "(gzip or deflate, as its Content-Encoding says) is corrupt",
            status_code=response.status_code,
        ) from None


def _status_error(response: httpx.Response, body: bytes, shown: str) -> Exception:
    # The body was streamed: an answer holding it (already decoded) for the usual mapping.
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() != "content-encoding"
    ]
    read = httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=response.extensions,
    )
    return error_from_response(read, method="GET", path=shown)


async def fetch_public_key(
    get_http: Callable[[], httpx.AsyncClient], url: str, *, timeout: float
) -> str:
    """GET the webhook public key from `url` with the client's pooled HTTP client.

    `url` is the only place the key may come from (`webhook_key_url(base_url)`, or a user's
    URL checked by `check_key_url`): redirects are never followed, so a redirect to another
    host, or from https through plain http, cannot hand over an attacker's key. No
    credentials are sent. The answer is read up to `MAX_KEY_ANSWER_BYTES` (64 KiB).

    Args:
        get_http: returns the client's `httpx.AsyncClient` (`AsyncDyte._get_http`).
        url: the absolute key URL.
        timeout: seconds for the whole fetch.

    Returns:
        The PEM public key.

    Raises:
        ClientClosedError: the client is closed (raised by `get_http`).
        APITimeoutError: no answer within `timeout`.
        APIConnectionError: the network failed, or the answer was a redirect (3xx); the
            message names the key URL's origin, never the redirect's target.
        APIStatusError: a 4xx or 5xx answer (the usual subclass for its status).
        ResponseDecodeError: the answer holds no PEM public key, or is larger than
            `MAX_KEY_ANSWER_BYTES`.
    """
    http = get_http()
    key_url = httpx.URL(url)
    shown = _shown(key_url)
    request = http.build_request(
        "GET",
        url,
        # identity: a key needs no compression, and nothing is inflated past the cap.
        headers={"Accept": _ACCEPT, "Accept-Encoding": "identity"},
        timeout=httpx.Timeout(timeout),
    )
    # The client's default headers carry the API credentials: this host needs none.
    for name in ("Authorization", "Cookie"):
        if name in request.headers:
            del request.headers[name]
    outcome: tuple[httpx.Response, bytes] | None = None
    with anyio.move_on_after(timeout):
        try:
            response = await http.send(request, auth=None, follow_redirects=False, stream=True)
            try:
                if 300 <= response.status_code < 400:
                    raise _redirect_error(response, key_url, shown)
                outcome = response, await _read_capped(response, shown)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            raise APITimeoutError(
                f"GET {shown}: timed out fetching the webhook public key",
                method="GET",
                url=shown,
            ) from None
        except httpx.HTTPError as exc:
            raise APIConnectionError(
                f"GET {shown}: connection failed fetching the webhook public key "
                f"({type(exc).__name__})",
                method="GET",
                url=shown,
            ) from exc
    if outcome is None:
        raise APITimeoutError(
            f"GET {shown}: no webhook public key within {timeout:g}s", method="GET", url=shown
        )
    response, body = outcome
    if not 200 <= response.status_code < 300:
        raise _status_error(response, body, shown)
    return public_key_from_body(body)
