"""`ClientConfig.build`: every option of `AsyncDyte` settled once, from arguments and environment.

The environment is passed in (`environ=`), so these tests never touch `os.environ`.
"""

from __future__ import annotations

import base64

import attrs
import httpx
import pytest

from dyte_async import ConfigurationError, RateLimit, RetryPolicy, __version__
from dyte_async._clock import SYSTEM_CLOCK
from dyte_async._config import (
    DEFAULT,
    DEFAULT_BASE_URL,
    DYTE_RATE_LIMIT,
    REALTIMEKIT_RATE_LIMIT,
    ClientConfig,
)
from dyte_async.testing import FakeClock

ENV = {"DYTE_ORG_ID": "env-org-1234", "DYTE_API_KEY": "env-key-secret"}


def basic(org: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{org}:{key}".encode()).decode()


def test_the_defaults() -> None:
    config = ClientConfig.build(org_id="org", api_key="key", environ={})
    assert config.base_url == DEFAULT_BASE_URL == "https://api.dyte.io/v2"
    assert dict(config.headers) == {
        "Authorization": basic("org", "key"),
        "Accept": "application/json",
        "User-Agent": f"dyte-async/{__version__}",
    }
    assert (config.timeout, config.connect_timeout, config.attempt_timeout) == (60.0, 5.0, None)
    assert config.retry == RetryPolicy()
    assert config.rate_limit == DYTE_RATE_LIMIT == RateLimit(2000, 60.0)
    assert config.max_concurrency == 100
    assert config.http_backend == "auto"
    assert (config.http_client, config.transport) == (None, None)
    assert config.allow_insecure_http is False
    assert config.clock is SYSTEM_CLOCK


def test_credentials_and_base_url_come_from_the_environment() -> None:
    env = {**ENV, "DYTE_BASE_URL": "https://api.eu.example.test/v2/"}
    config = ClientConfig.build(environ=env)
    assert config.headers["Authorization"] == basic("env-org-1234", "env-key-secret")
    assert config.base_url == "https://api.eu.example.test/v2"
    assert config.account == "env-…"


def test_arguments_win_over_the_environment() -> None:
    env = {**ENV, "DYTE_BASE_URL": "https://api.eu.example.test/v2"}
    config = ClientConfig.build(
        org_id="arg-org", api_key="arg-key", base_url="https://api.dyte.io/v2", environ=env
    )
    assert config.headers["Authorization"] == basic("arg-org", "arg-key")
    assert config.base_url == "https://api.dyte.io/v2"
    assert config.account == "arg-…"


@pytest.mark.parametrize(
    ("org_id", "api_key", "env", "named", "not_named"),
    [
        (None, None, {}, ("DYTE_ORG_ID", "DYTE_API_KEY"), ()),
        (None, None, {"DYTE_ORG_ID": "org"}, ("DYTE_API_KEY",), ("DYTE_ORG_ID",)),
        (None, "key", {"DYTE_ORG_ID": ""}, ("DYTE_ORG_ID",), ("DYTE_API_KEY",)),
        ("org", "", ENV, ("DYTE_API_KEY",), ("DYTE_ORG_ID",)),
    ],
)
def test_missing_or_empty_credentials_are_named(
    org_id: str | None,
    api_key: str | None,
    env: dict[str, str],
    named: tuple[str, ...],
    not_named: tuple[str, ...],
) -> None:
    with pytest.raises(ConfigurationError) as info:
        ClientConfig.build(org_id=org_id, api_key=api_key, environ=env)
    message = str(info.value)
    assert message.startswith("missing credentials: pass org_id= and api_key=, or set ")
    assert all(name in message for name in named)
    assert not any(name in message for name in not_named)


def test_a_ready_authorization_needs_no_credentials() -> None:
    config = ClientConfig.build(authorization="Bearer tok", environ={})
    assert config.headers["Authorization"] == "Bearer tok"
    assert config.account == "realtimekit"


def test_extra_headers_are_added_and_may_override() -> None:
    config = ClientConfig.build(
        org_id="org", api_key="key", headers={"X-Trace": "t-1", "Accept": "*/*"}, environ={}
    )
    assert config.headers["X-Trace"] == "t-1"
    assert config.headers["Accept"] == "*/*"


def test_the_config_is_frozen_and_its_repr_shows_no_secret() -> None:
    config = ClientConfig.build(org_id="org-secret-id", api_key="key-secret", environ={})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.timeout = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.headers["Authorization"] = "x"  # type: ignore[index]
    text = repr(config)
    for secret in ("org-secret-id", "key-secret", basic("org-secret-id", "key-secret")):
        assert secret not in text
    assert "org-…" in text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://api.dyte.io/v2", "clear text to api.dyte.io"),
        ("ftp://api.dyte.io/v2", "base_url must be an absolute http(s) URL"),
        ("https://org:key@api.dyte.io/v2", "base_url must not carry credentials"),
    ],
)
def test_an_unsafe_or_malformed_base_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ClientConfig.build(org_id="org", api_key="key", base_url=url, environ={})


def test_plain_http_is_allowed_when_asked_or_with_a_client_of_ones_own() -> None:
    url = "http://dyte.internal.example/v2"
    asked = ClientConfig.build(
        org_id="o", api_key="k", base_url=url, allow_insecure_http=True, environ={}
    )
    assert asked.allow_insecure_http is True
    http = httpx.AsyncClient()
    own = ClientConfig.build(org_id="o", api_key="k", base_url=url, http_client=http, environ={})
    assert own.allow_insecure_http is True
    assert own.http_client is http
    assert own.base_url == url


TIMEOUTS = "timeout, connect_timeout and attempt_timeout must be positive"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, TIMEOUTS),
        ({"connect_timeout": 0}, TIMEOUTS),
        ({"connect_timeout": -1}, TIMEOUTS),
        ({"attempt_timeout": 0}, TIMEOUTS),
        ({"max_concurrency": 0}, "max_concurrency must be at least 1"),
        (
            {"max_retries": 1, "retry": RetryPolicy()},
            "pass either max_retries= or retry=, not both",
        ),
        (
            {"http_backend": "curl"},
            "http_backend must be 'auto', 'aiohttp' or 'httpcore', got 'curl'",
        ),
    ],
)
def test_impossible_or_conflicting_options_are_refused(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        ClientConfig.build(org_id="org", api_key="key", environ={}, **options)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_the_least_timeouts_and_concurrency_are_accepted() -> None:
    config = ClientConfig.build(
        org_id="o",
        api_key="k",
        timeout=0.5,
        connect_timeout=0.5,
        attempt_timeout=0.5,
        max_concurrency=1,
        environ={},
    )
    assert (config.timeout, config.connect_timeout, config.attempt_timeout) == (0.5, 0.5, 0.5)
    assert config.max_concurrency == 1


@pytest.mark.parametrize(
    ("org_id", "shown"), [("abcd", "…"), ("abcde", "abcd…"), ("org-123456", "org-…")]
)
def test_the_account_shows_at_most_four_characters(org_id: str, shown: str) -> None:
    assert ClientConfig.build(org_id=org_id, api_key="k", environ={}).account == shown
    # With a ready Authorization (RealtimeKit), an org id given anyway is masked the same.
    assert ClientConfig.build(org_id=org_id, authorization="Bearer t", environ={}).account == shown


def test_only_trailing_slashes_leave_the_base_url() -> None:
    config = ClientConfig.build(
        org_id="o", api_key="k", base_url="https://api.example.test/X//", environ={}
    )
    assert config.base_url == "https://api.example.test/X"


def test_the_clear_text_and_userinfo_messages() -> None:
    with pytest.raises(ConfigurationError) as info:
        ClientConfig.build(org_id="o", api_key="k", base_url="http://api.dyte.io/v2", environ={})
    assert str(info.value) == (
        "refusing to send credentials in clear text to api.dyte.io: use https, "
        "or pass allow_insecure_http=True"
    )
    with pytest.raises(ConfigurationError) as info:
        ClientConfig.build(
            org_id="o", api_key="k", base_url="https://u:p@api.dyte.io/v2", environ={}
        )
    assert str(info.value) == "base_url must not carry credentials"


def test_credentials_are_checked_first_then_the_url_then_the_rest() -> None:
    with pytest.raises(ConfigurationError, match="missing credentials"):
        ClientConfig.build(base_url="ftp://x", timeout=0, environ={})
    with pytest.raises(ConfigurationError, match="base_url"):
        ClientConfig.build(org_id="o", api_key="k", base_url="ftp://x", timeout=0, environ={})
    with pytest.raises(ConfigurationError, match="timeout"):
        ClientConfig.build(org_id="o", api_key="k", timeout=0, max_concurrency=0, environ={})


def test_retry_rate_limit_and_clock_options() -> None:
    clock = FakeClock()
    config = ClientConfig.build(
        org_id="o", api_key="k", max_retries=5, rate_limit=None, clock=clock, environ={}
    )
    assert config.retry == RetryPolicy(max_retries=5)
    assert config.attempt_timeout is None
    assert config.rate_limit is None
    assert config.clock is clock
    policy = RetryPolicy(max_retries=0)
    limit = RateLimit(10, 1.0)
    config = ClientConfig.build(org_id="o", api_key="k", retry=policy, rate_limit=limit, environ={})
    assert config.retry is policy
    assert config.rate_limit is limit


def test_default_stands_for_the_apis_own_rate_limit() -> None:
    assert repr(DEFAULT) == "DEFAULT"
    config = ClientConfig.build(
        authorization="Bearer t", default_rate_limit=REALTIMEKIT_RATE_LIMIT, environ={}
    )
    assert config.rate_limit == RateLimit(250, 10.0)
