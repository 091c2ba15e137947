"""`_transport._proxy`: which proxy each request takes, from `proxy=` or the environment.

The environment is passed in (`environ=`), so these tests never touch `os.environ`; the
requests through a proxy over real sockets are in tests/integration/test_proxy.py.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from dyte_async import AsyncDyte, ConfigurationError
from dyte_async._config import ClientConfig
from dyte_async._redact import redact_text
from dyte_async._transport._proxy import (
    NoProxy,
    Proxy,
    ProxyRoutes,
    check_clear_text,
    parse_proxy,
    resolve_proxies,
)

SECRET = "pr0xy-S3cret-pw"
PROXY = "http://proxy.example:3128"


def routes(environ: dict[str, str], proxy: str | None = None) -> ProxyRoutes | None:
    return resolve_proxies(proxy, trust_env=True, environ=environ)


def via(found: ProxyRoutes | None, url: str) -> str | None:
    if found is None:
        return None
    proxy = found.route_url(url)
    return None if proxy is None else proxy.url


# -- where the proxy comes from ---------------------------------------------------------------


def test_the_proxy_argument_takes_every_request_and_ignores_the_environment() -> None:
    found = routes({"HTTPS_PROXY": "http://other:1", "NO_PROXY": "*"}, proxy=PROXY)
    assert found is not None
    assert not found.from_env
    for url in ("https://api.dyte.io/v2", "http://10.0.0.1/", "http://127.0.0.1:8080/v2"):
        assert via(found, url) == PROXY


def test_each_scheme_takes_its_own_variable_then_all_proxy() -> None:
    env = {"HTTPS_PROXY": "http://secure:1", "ALL_PROXY": "http://fallback:2"}
    assert via(routes(env), "https://api.dyte.io/v2") == "http://secure:1"
    assert via(routes(env), "http://api.dyte.io/v2") == "http://fallback:2"
    assert via(routes({"HTTP_PROXY": "http://plain:3"}), "https://api.dyte.io/") is None


def test_the_lowercase_variable_wins_and_an_empty_one_means_none() -> None:
    both = {"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}
    assert via(routes(both), "https://api.dyte.io/") == "http://lower:1"
    assert routes({"https_proxy": "", "HTTPS_PROXY": "http://upper:2"}) is None


def test_http_proxy_in_capitals_is_ignored_under_cgi() -> None:
    cgi = {"REQUEST_METHOD": "GET", "HTTP_PROXY": "http://attacker:1"}
    assert routes(cgi) is None
    cgi["http_proxy"] = "http://mine:2"
    assert via(routes(cgi), "http://api.dyte.io/") == "http://mine:2"


def test_trust_env_false_reads_nothing() -> None:
    assert resolve_proxies(None, trust_env=False, environ={"HTTPS_PROXY": PROXY}) is None


def test_an_environment_value_without_a_scheme_is_http() -> None:
    found = routes({"HTTPS_PROXY": "proxy.example:3128"})
    assert via(found, "https://api.dyte.io/") == PROXY


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST", "api.localhost", "127.0.0.1", "127.1.2.3", "::1"],
)
def test_loopback_hosts_never_take_an_environment_proxy(host: str) -> None:
    found = routes({"ALL_PROXY": PROXY})
    assert found is not None
    assert found.route("https", host, 8443) is None


# -- NO_PROXY ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "direct"),
    [
        ("dyte.io", "dyte.io", 443, True),
        ("dyte.io", "api.dyte.io", 443, True),
        (".dyte.io", "dyte.io", 443, True),
        (".dyte.io", "api.dyte.io", 443, True),
        ("*.dyte.io", "api.dyte.io", 443, True),
        ("dyte.io", "notdyte.io", 443, False),
        ("dyte.io", "dyte.io.evil.example", 443, False),
        ("API.Dyte.IO", "api.dyte.io", 443, True),
        ("dyte.io.", "api.dyte.io", 443, True),
        ("dyte.io:8443", "dyte.io", 8443, True),
        ("dyte.io:8443", "dyte.io", 443, False),
        ("10.1.2.3", "10.1.2.3", 443, True),
        ("10.1.2.3", "10.1.2.4", 443, False),
        ("10.0.0.0/8", "10.200.0.1", 443, True),
        ("10.0.0.0/8", "11.0.0.1", 443, False),
        ("10.0.0.0/8", "ten.example", 443, False),
        ("fd00::/8", "fd12::1", 443, True),
        ("fd00::1", "fd00:0:0::1", 443, True),
        ("[fd00::1]:8443", "fd00::1", 8443, True),
        ("[fd00::1]:8443", "fd00::1", 443, False),
        ("other.example, dyte.io", "api.dyte.io", 443, True),
        ("other.example dyte.io", "api.dyte.io", 443, True),
        ("*", "anything.example", 443, True),
        ("", "api.dyte.io", 443, False),
        ("dyte.io:port, 10.0.0.0/99, [x", "api.dyte.io", 443, False),
    ],
)
def test_no_proxy_entries(no_proxy: str, host: str, port: int, direct: bool) -> None:
    assert NoProxy.parse(no_proxy).matches(host, port) is direct


def test_no_proxy_applies_to_the_environment_proxies_by_default_port() -> None:
    found = routes({"HTTPS_PROXY": PROXY, "NO_PROXY": "dyte.io:443,internal.example"})
    assert via(found, "https://api.dyte.io/v2") is None
    assert via(found, "https://api.dyte.io:8443/v2") == PROXY
    assert via(found, "https://x.internal.example/") is None
    assert via(found, "https://api.cloudflare.com/") == PROXY


def test_no_proxy_star_turns_the_environment_proxies_off() -> None:
    assert routes({"HTTPS_PROXY": PROXY, "no_proxy": "*"}) is None


# -- the proxy URL ---------------------------------------------------------------------------


def test_credentials_are_percent_decoded_and_make_a_basic_header() -> None:
    proxy = parse_proxy("http://us%40er:p%3Ass@proxy.example:3128/ignored", "proxy=")
    assert (proxy.url, proxy.auth) == (PROXY, ("us@er", "p:ss"))
    token = base64.b64encode(b"us@er:p:ss").decode()
    assert proxy.authorization == f"Basic {token}"
    assert token in proxy.secrets()


def test_default_ports_and_ipv6_hosts() -> None:
    assert parse_proxy("https://proxy.example", "proxy=").url == "https://proxy.example:443"
    assert parse_proxy("http://[fd00::1]", "proxy=").url == "http://[fd00::1]:80"
    assert parse_proxy(httpx.URL(PROXY), "proxy=").url == PROXY


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (f"user:{SECRET}@proxy.example:3128", "must be a URL with a scheme"),
        (f"socks5://user:{SECRET}@proxy.example:1080", "SOCKS proxies"),
        (f"ftp://user:{SECRET}@proxy.example", "http:// or https://"),
        (f"http://user:{SECRET}@proxy.example:notaport", "not a valid URL"),
        (f"http://user:{SECRET}@", "host"),
        ("", "empty"),
        ("http://us\u00e9r:pw@proxy.example", "control or non-ASCII"),
    ],
)
def test_a_bad_proxy_argument_is_named_and_its_password_never_shown(value: str, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words) as caught:
        resolve_proxies(value, trust_env=True, environ={})
    assert "proxy=" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_bad_environment_proxy_names_its_variable() -> None:
    with pytest.raises(ConfigurationError, match="https_proxy") as caught:
        routes({"https_proxy": f"socks5h://user:{SECRET}@proxy.example:1080"})
    assert SECRET not in str(caught.value)
    with pytest.raises(ConfigurationError, match="proxy= must be a URL string"):
        resolve_proxies(3128, trust_env=True, environ={})


def test_no_repr_shows_the_credentials() -> None:
    found = resolve_proxies(f"https://user:{SECRET}@proxy.example", trust_env=True, environ={})
    config = ClientConfig.build(
        org_id="org", api_key="key", environ={}, proxy=f"https://user:{SECRET}@proxy.example"
    )
    shown = [repr(found), str(found), repr(config), repr(config.proxy)]
    assert found is not None
    assert all(SECRET not in text for text in shown)
    assert "auth=<redacted>" in repr(found)


def test_a_password_in_a_url_in_any_message_is_masked() -> None:
    text = redact_text(f"Cannot connect to http://user:{SECRET}@proxy.example:3128 (refused)")
    assert SECRET not in text
    assert "http://user:<redacted>@proxy.example:3128" in text


# -- credentials in clear text -----------------------------------------------------------------


def test_credentials_for_a_remote_http_proxy_need_allow_insecure_http() -> None:
    remote = resolve_proxies(
        None, trust_env=True, environ={"HTTPS_PROXY": f"http://u:{SECRET}@proxy.example:3128"}
    )
    with pytest.raises(ConfigurationError, match=r"HTTPS_PROXY.*proxy\.example") as caught:
        check_clear_text(remote, "https://api.dyte.io/v2", allow_insecure_http=False)
    assert SECRET not in str(caught.value)
    check_clear_text(remote, "https://api.dyte.io/v2", allow_insecure_http=True)
    for safe in (f"http://u:{SECRET}@127.0.0.1:3128", f"https://u:{SECRET}@proxy.example"):
        check_clear_text(
            resolve_proxies(safe, trust_env=True, environ={}),
            "https://api.dyte.io/v2",
            allow_insecure_http=False,
        )


def test_a_plain_http_base_through_a_remote_http_proxy_needs_allow_insecure_http() -> None:
    remote = resolve_proxies(PROXY, trust_env=True, environ={})
    with pytest.raises(ConfigurationError, match=r"clear text through the proxy proxy\.example"):
        check_clear_text(remote, "http://127.0.0.1:8080/v2", allow_insecure_http=False)
    check_clear_text(remote, "https://api.dyte.io/v2", allow_insecure_http=False)
    check_clear_text(remote, "http://127.0.0.1:8080/v2", allow_insecure_http=True)


# -- the client's options ------------------------------------------------------------------------


def test_the_client_keeps_its_routes_and_realtimekit_passes_them_on() -> None:
    dyte = AsyncDyte("org", "key", proxy="http://127.0.0.1:3128")
    assert dyte._config.proxy is not None
    assert via(dyte._config.proxy, dyte.base_url) == "http://127.0.0.1:3128"
    rtk = AsyncDyte.realtimekit("acc", "app", "tok", proxy="http://127.0.0.1:3128")
    assert via(rtk._config.proxy, rtk.base_url) == "http://127.0.0.1:3128"
    assert AsyncDyte("org", "key", proxy=PROXY, trust_env=False)._config.proxy is not None


def test_the_environment_is_read_unless_trust_env_is_false() -> None:
    env = {"HTTPS_PROXY": PROXY}
    config = ClientConfig.build(org_id="org", api_key="key", environ=env)
    assert via(config.proxy, config.base_url) == PROXY
    config = ClientConfig.build(org_id="org", api_key="key", environ=env, trust_env=False)
    assert config.proxy is None
    with pytest.raises(ConfigurationError, match="trust_env"):
        ClientConfig.build(org_id="org", api_key="key", environ=env, trust_env="no")  # type: ignore[arg-type]


def test_a_client_or_transport_passed_in_owns_its_proxy() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    env = {"HTTPS_PROXY": PROXY}
    config = ClientConfig.build(org_id="org", api_key="key", environ=env, transport=transport)
    assert config.proxy is None
    with pytest.raises(ConfigurationError, match="proxy= does not apply with transport="):
        ClientConfig.build(
            org_id="org", api_key="key", environ={}, transport=transport, proxy=PROXY
        )
    with pytest.raises(ConfigurationError, match="proxy= does not apply with http_client="):
        ClientConfig.build(
            org_id="org",
            api_key="key",
            environ={},
            http_client=httpx.AsyncClient(transport=transport),
            proxy=PROXY,
        )


def test_a_proxy_repr_names_its_source() -> None:
    proxy = Proxy("http", "proxy.example", 3128, source="HTTPS_PROXY")
    assert repr(proxy) == "Proxy('http://proxy.example:3128', source='HTTPS_PROXY')"
    assert proxy.auth is None
    assert proxy.authorization is None
    assert proxy.secrets() == ()
