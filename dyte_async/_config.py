"""`ClientConfig`: an `AsyncDyte`'s options, checked once, from its arguments and the environment.

`ClientConfig.build(...)` takes the arguments of `AsyncDyte(...)` as they were given and
settles each concern in one small step: the credentials (`DYTE_ORG_ID`, `DYTE_API_KEY`),
the base URL (`DYTE_BASE_URL`, no clear text to a remote host), the timeouts, the retry
policy, the rate limit and the HTTP backend. What comes out is frozen plain data; the
client builds its pipeline and its HTTP client from it.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs
import httpx

from dyte_async._body import DEFAULT_MAX_RESPONSE_BYTES
from dyte_async._clock import SYSTEM_CLOCK, Clock
from dyte_async._fleet import Fleet
from dyte_async._net import is_loopback, parse_http_url
from dyte_async._ratelimit import DYTE_DEFAULT, REALTIMEKIT_DEFAULT, RateLimit
from dyte_async._retry import RetryPolicy
from dyte_async._transport import HTTP_BACKENDS, HttpBackend
from dyte_async._transport._proxy import ProxyRoutes, check_clear_text, resolve_proxies
from dyte_async.errors import ConfigurationError

__all__ = [
    "DEFAULT",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "DYTE_RATE_LIMIT",
    "REALTIMEKIT_BASE_URL",
    "REALTIMEKIT_RATE_LIMIT",
    "ClientConfig",
    "Default",
    "check_headers",
    "check_timeouts",
    "clean_credential",
    "retry_policy",
]

DEFAULT_BASE_URL: Final = "https://api.dyte.io/v2"
REALTIMEKIT_BASE_URL: Final = (
    "https://api.cloudflare.com/client/v4/accounts/{account_id}/realtime/kit/{app_id}"
)
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_MAX_CONCURRENCY: Final = 100
DYTE_RATE_LIMIT: Final = DYTE_DEFAULT
REALTIMEKIT_RATE_LIMIT: Final = REALTIMEKIT_DEFAULT


class Default:
    """The type of `DEFAULT`: "the API's own default" where None means "none at all"."""

    def __repr__(self) -> str:
        return "DEFAULT"


#: `AsyncDyte(rate_limit=DEFAULT)`: the API's own limit (None turns the limit off).
DEFAULT: Final = Default()


@attrs.frozen(kw_only=True)
class ClientConfig:
    """What an `AsyncDyte` was configured with, checked (see `ClientConfig.build`).

    Attributes:
        base_url: the API base, without a trailing slash.
        account: the organization id, masked (`"abcd…"`), or `"realtimekit"`.
        headers: sent with every request: Authorization, Accept, User-Agent and the
            caller's own (never shown in the repr: it holds the credentials).
        timeout: default seconds for a whole call.
        connect_timeout: seconds to open a connection.
        attempt_timeout: seconds one attempt may take (None: the rest of the call's).
        retry: the retry policy.
        rate_limit: the client-side rate limit (None: no limit).
        max_concurrency: requests in flight at once.
        http_backend: "auto", "aiohttp" or "httpcore".
        http_client: the caller's `httpx.AsyncClient`, or None to build one.
        transport: the transport of the client we build, or None for `http_backend`'s.
        allow_insecure_http: plain http to any host is allowed (asked for, or implied by
            `http_client`, whose owner owns the transport).
        clock: the clock the client reads time from.
        max_response_bytes: the most bytes of one answer's body read (decoded).
        fleet: the Redis the rate limit is shared through (`redis=`), or None.
        proxy: the proxy of each request of the client we build (`proxy=`, else the
            environment's when `trust_env`), or None: direct. Always None with
            `http_client=` or `transport=` (their owner sets their proxy).
    """

    base_url: str
    account: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    timeout: float
    connect_timeout: float
    attempt_timeout: float | None
    retry: RetryPolicy
    rate_limit: RateLimit | None
    max_concurrency: int
    http_backend: HttpBackend
    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    allow_insecure_http: bool
    clock: Clock
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    fleet: Fleet | None = None
    proxy: ProxyRoutes | None = None

    @classmethod
    def build(
        cls,
        *,
        org_id: str | None = None,
        api_key: str | None = None,
        authorization: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        attempt_timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | Default | None = DEFAULT,
        default_rate_limit: RateLimit = DYTE_RATE_LIMIT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_backend: HttpBackend = "auto",
        allow_insecure_http: bool = False,
        clock: Clock | None = None,
        headers: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        redis: object | None = None,
        rate_limit_key: str | None = None,
        fleet_size_hint: int = 1,
        proxy: str | httpx.URL | None = None,
        trust_env: bool = True,
    ) -> ClientConfig:
        """The configuration of `AsyncDyte(...)` with these arguments.

        Args:
            org_id, api_key: the Dyte credentials; `DYTE_ORG_ID` / `DYTE_API_KEY` when None.
            authorization: a ready `Authorization` header (RealtimeKit's bearer token);
                when given, `org_id` and `api_key` are not needed.
            base_url: `DYTE_BASE_URL` when None, else Dyte's v2 API.
            default_rate_limit: the limit `rate_limit=DEFAULT` stands for.
            environ: the environment to read (default: `os.environ`).
            redis: a Redis URL or redis-py asyncio client; `DYTE_REDIS_URL` when None.
            proxy, trust_env: the proxy (`_transport._proxy.resolve_proxies`).
            The others: as `AsyncDyte`'s.

        Raises:
            ConfigurationError: credentials missing, an unsafe or malformed base URL, a
                timeout or concurrency out of range, conflicting retry options, an
                unknown backend, a malformed proxy URL or one that would receive
                credentials in clear text. Checked in that order; messages never show a
                secret.
        """
        env = os.environ if environ is None else environ
        authorization, account, org = _credentials(org_id, api_key, authorization, env)
        insecure_ok = allow_insecure_http or http_client is not None
        url = _base_url(base_url, env, allow_insecure_http=insecure_ok)
        _check_limits(timeout, connect_timeout, attempt_timeout, max_concurrency)
        policy = retry_policy(retry, max_retries)
        check_headers(headers)
        _check_backend(http_backend)
        _check_max_response_bytes(max_response_bytes)
        fleet = _fleet(redis, rate_limit_key, fleet_size_hint, env, default_key=(url, org))
        routes = _proxy(proxy, trust_env, env, http_client, transport)
        check_clear_text(routes, url, allow_insecure_http=insecure_ok)
        return cls(
            base_url=url,
            account=account,
            headers=_headers(authorization, headers),
            timeout=timeout,
            connect_timeout=connect_timeout,
            attempt_timeout=attempt_timeout,
            retry=policy,
            rate_limit=default_rate_limit if isinstance(rate_limit, Default) else rate_limit,
            max_concurrency=max_concurrency,
            http_backend=http_backend,
            http_client=http_client,
            transport=transport,
            allow_insecure_http=insecure_ok,
            clock=clock or SYSTEM_CLOCK,
            max_response_bytes=max_response_bytes,
            fleet=fleet,
            proxy=routes,
        )


def _credentials(
    org_id: str | None, api_key: str | None, authorization: str | None, env: Mapping[str, str]
) -> tuple[str, str, str]:
    """The `Authorization` header, the account as the repr shows it (org id masked), and
    the org id ("" with a ready `authorization`).

    A ready `authorization` is used as it is; else `Basic base64(org_id:api_key)`, each
    credential from its argument or else from the environment.
    """
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        authorization = f"{scheme} {clean_credential(token, 'api_token')}"
        return authorization, _mask(org_id) if org_id else "realtimekit", ""
    org_id = _given_or_env(org_id, "org_id", env, "DYTE_ORG_ID")
    api_key = _given_or_env(api_key, "api_key", env, "DYTE_API_KEY")
    if not org_id or not api_key:
        missing = [
            name
            for name, value in (("DYTE_ORG_ID", org_id), ("DYTE_API_KEY", api_key))
            if not value
        ]
        raise ConfigurationError(
            "missing credentials: pass org_id= and api_key=, or set " + " and ".join(missing)
        )
    token = base64.b64encode(f"{org_id}:{api_key}".encode()).decode("ascii")
    return f"Basic {token}", _mask(org_id), org_id


def clean_credential(value: str, name: str) -> str:
    """`value` without surrounding whitespace, when it can go into an HTTP header.

    Args:
        value: a credential (org id, API key, token, account or app id).
        name: what the message calls it (the argument, or the environment variable).

    Returns:
        The stripped value.

    Raises:
        ConfigurationError: not a string, or a control or non-ASCII character inside;
            the message names `name`, never the value.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string, got {type(value).__name__}")
    value = value.strip()
    bad = next((c for c in value if not c.isascii() or not c.isprintable()), None)
    if bad is not None:
        kind = "a non-ASCII" if not bad.isascii() else "a control"
        raise ConfigurationError(
            f"{name} contains {kind} character (at index {value.index(bad)}); "
            "check how it was copied or read"
        )
    return value


def _given_or_env(
    given: str | None, name: str, env: Mapping[str, str], variable: str
) -> str | None:
    """The credential given as `name`, else the environment's `variable`, cleaned."""
    if given is not None:
        return clean_credential(given, name)
    value = env.get(variable)
    return None if value is None else clean_credential(value, variable)


def _base_url(given: str | None, env: Mapping[str, str], *, allow_insecure_http: bool) -> str:
    """The base URL (argument, `DYTE_BASE_URL`, default) without its trailing slash, when
    it is safe to send credentials to."""
    url = given or env.get("DYTE_BASE_URL") or DEFAULT_BASE_URL
    parsed = parse_http_url(url, "base_url")
    if parsed.userinfo:
        raise ConfigurationError("base_url must not carry credentials")
    if parsed.scheme == "http" and not allow_insecure_http and not is_loopback(parsed.host):
        raise ConfigurationError(
            f"refusing to send credentials in clear text to {parsed.host}: use https, "
            "or pass allow_insecure_http=True"
        )
    return url.rstrip("/")


def _fleet(
    redis: object | None,
    key: str | None,
    fleet_size_hint: int,
    env: Mapping[str, str],
    *,
    default_key: tuple[str, str],
) -> Fleet | None:
    """The fleet `redis=` (else `DYTE_REDIS_URL`) makes this client a member of, or None."""
    from dyte_async._fleet._link import check_redis_url, derive_key

    if redis is None:
        url = env.get("DYTE_REDIS_URL", "").strip()
        if not url:
            return None
        redis = check_redis_url(url, "DYTE_REDIS_URL")
    elif isinstance(redis, str):
        redis = check_redis_url(redis)
    if key is None:
        key = derive_key(*default_key)
    elif not _is_key(key):
        raise ConfigurationError("rate_limit_key must be a non-empty string without braces")
    if not _is_count(fleet_size_hint):
        raise ConfigurationError(
            f"fleet_size_hint must be an integer >= 1, not {fleet_size_hint!r}"
        )
    return Fleet(redis=redis, key=key.strip(), fleet_size_hint=fleet_size_hint)


def _proxy(
    proxy: str | httpx.URL | None,
    trust_env: bool,
    env: Mapping[str, str],
    http_client: httpx.AsyncClient | None,
    transport: httpx.AsyncBaseTransport | None,
) -> ProxyRoutes | None:
    """The routes of the client we build; None with a client or transport passed in."""
    if not isinstance(trust_env, bool):
        raise ConfigurationError(f"trust_env must be True or False, not {trust_env!r}")
    if http_client is not None or transport is not None:
        if proxy is not None:
            given = "http_client=" if http_client is not None else "transport="
            raise ConfigurationError(
                f"proxy= does not apply with {given}: set the proxy on what you pass in"
            )
        return None
    return resolve_proxies(proxy, trust_env=trust_env, environ=env)


def _is_key(key: object) -> bool:
    return isinstance(key, str) and bool(key.strip()) and "{" not in key and "}" not in key


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _headers(authorization: str, extra: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(
        {
            "Authorization": authorization,
            "Accept": "application/json",
            "User-Agent": f"dyte-async/{_version()}",
            **(extra or {}),
        }
    )


def _check_backend(http_backend: str) -> None:
    if http_backend not in HTTP_BACKENDS:
        raise ConfigurationError(
            f"http_backend must be 'auto', 'aiohttp' or 'httpcore', got {http_backend!r}"
        )


def _check_limits(
    timeout: float, connect_timeout: float, attempt_timeout: float | None, max_concurrency: int
) -> None:
    check_timeouts(timeout, connect_timeout, attempt_timeout)
    if max_concurrency < 1:
        raise ConfigurationError("max_concurrency must be at least 1")


def _check_max_response_bytes(max_response_bytes: int) -> None:
    if max_response_bytes < 1:
        raise ConfigurationError("max_response_bytes must be a positive whole number of bytes")


def check_timeouts(timeout: float, connect_timeout: float, attempt_timeout: float | None) -> None:
    """Raise `ConfigurationError` unless every timeout is a positive number of seconds."""
    given = [timeout, connect_timeout] + ([] if attempt_timeout is None else [attempt_timeout])
    if not all(_is_seconds(t) for t in given):
        raise ConfigurationError("timeout, connect_timeout and attempt_timeout must be positive")


def _is_seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


#: a header name: an RFC 9110 token
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_headers(headers: Mapping[str, str] | None) -> None:
    """Raise `ConfigurationError` for a header that cannot be sent as given: a name that
    is not a token, a value that is not text or holds a control or non-ASCII character
    (no value is shown: it may be a credential)."""
    given: list[tuple[object, object]] = list((headers or {}).items())  # given by anyone
    for name, value in given:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ConfigurationError(f"headers: {name!r} is not a valid header name")
        if not isinstance(value, str) or not all(" " <= c <= "~" or c == "\t" for c in value):
            raise ConfigurationError(f"headers: the value of {name!r} must be printable ASCII text")


def retry_policy(
    retry: RetryPolicy | None, max_retries: int | None, base: RetryPolicy | None = None
) -> RetryPolicy:
    """The policy of `retry=`, or `base` (default: `RetryPolicy()`) with `max_retries=`
    (not both)."""
    if retry is not None and max_retries is not None:
        raise ConfigurationError("pass either max_retries= or retry=, not both")
    if retry is not None:
        return retry
    base = RetryPolicy() if base is None else base
    return base if max_retries is None else attrs.evolve(base, max_retries=max_retries)


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 4 else "…"


@functools.cache
def _version() -> str:
    # importlib.metadata costs ~8 ms to import: paid by the first client, not the import.
    from dyte_async._version import __version__

    return __version__
