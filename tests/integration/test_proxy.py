"""Proxies over real sockets: a recording proxy on 127.0.0.1 in front of a served FakeDyte.

The client asks for `dyte.test`, a name only the proxy "resolves" (it sends every tunnel
and forwarded request to the fake), so an answer proves the request went through the
proxy. https base URLs reach the fake through a CONNECT tunnel and a TLS front with a
throwaway CA (trusted through `SSL_CERT_FILE`, as a user trusts a corporate CA); http
ones in absolute form. Each runs on the aiohttp transport (asyncio: the lean lane and the
httpx lane) and on httpcore (asyncio and trio). Where a test needs `dyte.test` to reach
the fake directly (NO_PROXY, trust_env=False), `socket.getaddrinfo` answers 127.0.0.1
for it (no query leaves the machine).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from dyte_async import APIConnectionError, APIStatusError, AsyncDyte, ConfigurationError
from dyte_async._transport import _tls
from dyte_async.testing import FakeDyte
from tests.integration.proxy_server import Recorder, make_tls, recording_proxy, tls_front

pytestmark = pytest.mark.anyio

HOST = "dyte.test"
USER = "proxy-user"
PASSWORD = "proxy-pw-S3cr3t-42"
PROXY_VARIABLES = (
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUEST_METHOD",
)  # fmt: skip


@pytest.fixture(params=["aiohttp", "httpcore"])
def backend(request: pytest.FixtureRequest, anyio_backend: str) -> str:
    if request.param == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def trusted_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The server's TLS context; its CA trusted by the transports (`SSL_CERT_FILE`)."""
    context, ca_file = make_tls(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    _tls.default_ssl_context.cache_clear()
    try:
        yield context
    finally:
        monkeypatch.delenv("SSL_CERT_FILE")
        _tls.default_ssl_context.cache_clear()


@contextlib.asynccontextmanager
async def fake_behind(
    tls: Any = None, *, require: bytes | None = None, proxy_tls: Any = None
) -> AsyncIterator[tuple[FakeDyte, Recorder, int]]:
    """A served fake (behind a TLS front when `tls` is given) and a proxy to it (over
    TLS with `proxy_tls`).

    Yields:
        The fake, the proxy's recorder, and the port `dyte.test` stands for.
    """
    fake = FakeDyte()
    async with fake.serve() as base_url:
        port = httpx.URL(base_url).port
        assert port is not None
        async with contextlib.AsyncExitStack() as stack:
            if tls is not None:
                port = await stack.enter_async_context(tls_front(("127.0.0.1", port), tls))
            proxy = await stack.enter_async_context(
                recording_proxy(("127.0.0.1", port), require=require, tls=proxy_tls)
            )
            yield fake, proxy, port


def client(fake: FakeDyte, base_url: str, backend: str, **options: Any) -> AsyncDyte:
    return AsyncDyte(
        fake.org_id,
        fake.api_key,
        base_url=base_url,
        http_backend=backend,  # type: ignore[arg-type]
        max_retries=0,
        timeout=10,
        **options,
    )


async def round_trip(dyte: AsyncDyte) -> None:
    """A write and a read, on every lane the client has (the webhook key fetch is
    the httpx lane's when the lean lane takes the calls)."""
    with anyio.fail_after(15):
        meeting = await dyte.meetings.create(title="Proxied town hall")
        assert (await dyte.meetings.get(meeting.id)).title == "Proxied town hall"
        await dyte.webhooks.public_key()


def resolve_test_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `dyte.test` resolve to 127.0.0.1 for direct connections."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (HOST, HOST.encode()):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# -- through the proxy ----------------------------------------------------------------------


async def test_proxy_argument_tunnels_https_with_connect(backend: str, trusted_ca: Any) -> None:
    async with (
        fake_behind(trusted_ca) as (fake, proxy, _),
        client(fake, f"https://{HOST}/v2", backend, proxy=proxy.url) as dyte,
    ):
        await round_trip(dyte)
    assert proxy.lines
    assert all(line == b"CONNECT dyte.test:443 HTTP/1.1" for line in proxy.lines)
    assert proxy.forwarded == []  # the API's credentials went inside the tunnel only
    assert proxy.authorizations == [None] * len(proxy.lines)
    assert len(fake.requests) >= 2


async def test_proxy_argument_forwards_plain_http_in_absolute_form(backend: str) -> None:
    async with fake_behind() as (fake, proxy, _):
        dyte = client(fake, f"http://{HOST}/v2", backend, proxy=proxy.url, allow_insecure_http=True)
        async with dyte:
            await round_trip(dyte)
    assert proxy.lines[0].startswith(b"POST http://dyte.test/v2/meetings ")
    assert proxy.lines[1].startswith(b"GET http://dyte.test/v2/meetings/")
    assert proxy.lines[2] == b"GET http://dyte.test/.well-known/webhooks.json HTTP/1.1"
    assert not any(line.startswith(b"CONNECT") for line in proxy.lines)
    assert proxy.authorizations == [None] * 3  # the API's credentials are no proxy's


async def test_https_proxy_variable_is_honoured_by_default(
    backend: str, trusted_ca: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fake_behind(trusted_ca) as (fake, proxy, _):
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        async with client(fake, f"https://{HOST}/v2", backend) as dyte:
            await round_trip(dyte)
    assert proxy.lines
    assert all(line.startswith(b"CONNECT dyte.test:443 ") for line in proxy.lines)
    assert proxy.authorizations == [None] * len(proxy.lines)


async def test_http_proxy_variable_without_a_scheme_is_honoured(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fake_behind() as (fake, proxy, _):
        monkeypatch.setenv("http_proxy", proxy.url.removeprefix("http://"))
        dyte = client(fake, f"http://{HOST}/v2", backend, allow_insecure_http=True)
        async with dyte:
            await round_trip(dyte)
    assert len(proxy.lines) == 3
    assert proxy.lines[0].startswith(b"POST http://dyte.test/v2/meetings ")


async def test_no_proxy_sends_the_host_direct(
    backend: str, trusted_ca: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fake_behind(trusted_ca) as (fake, proxy, port):
        resolve_test_host(monkeypatch)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost, .dyte.test")
        async with client(fake, f"https://{HOST}:{port}/v2", backend) as dyte:
            await round_trip(dyte)
    assert proxy.lines == []
    assert len(fake.requests) >= 2


async def test_trust_env_false_ignores_the_proxy_variables(
    backend: str, trusted_ca: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fake_behind(trusted_ca) as (fake, proxy, port):
        resolve_test_host(monkeypatch)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        dyte = client(fake, f"https://{HOST}:{port}/v2", backend, trust_env=False)
        async with dyte:
            await round_trip(dyte)
    assert proxy.lines == []


async def test_loopback_hosts_never_take_the_environment_proxy(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fake_behind() as (fake, proxy, port):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        async with client(fake, f"http://127.0.0.1:{port}/v2", backend) as dyte:
            await round_trip(dyte)
    assert proxy.lines == []


@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_an_https_proxy_is_reached_over_tls(
    backend: str, scheme: str, trusted_ca: Any
) -> None:
    if sys.version_info < (3, 11) and backend == "aiohttp" and scheme == "https":
        pytest.skip("aiohttp tunnels TLS inside TLS from Python 3.11 (asyncio's start_tls)")
    wanted = basic(USER, PASSWORD)
    front = trusted_ca if scheme == "https" else None
    async with fake_behind(front, require=wanted, proxy_tls=trusted_ca) as (fake, proxy, _):
        assert proxy.url.startswith("https://")
        # The proxy's credentials travel inside TLS: no allow_insecure_http for them.
        url = proxy.url.replace("https://", f"https://{USER}:{PASSWORD}@")
        options = {"allow_insecure_http": True} if scheme == "http" else {}
        async with client(fake, f"{scheme}://{HOST}/v2", backend, proxy=url, **options) as dyte:
            await round_trip(dyte)
    if scheme == "https":  # TLS to the API inside TLS to the proxy
        assert all(line == b"CONNECT dyte.test:443 HTTP/1.1" for line in proxy.lines)
    else:
        assert proxy.lines[0].startswith(b"POST http://dyte.test/v2/meetings ")
    assert proxy.authorizations == [wanted] * len(proxy.lines)


# -- proxy credentials ----------------------------------------------------------------------


def basic(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


def with_credentials(url: str, password: str = PASSWORD) -> str:
    return url.replace("http://", f"http://{USER}:{password}@")


async def test_proxy_credentials_reach_the_proxy_and_no_repr(backend: str, trusted_ca: Any) -> None:
    wanted = basic(USER, PASSWORD)
    async with fake_behind(trusted_ca, require=wanted) as (fake, proxy, _):
        dyte = client(fake, f"https://{HOST}/v2", backend, proxy=with_credentials(proxy.url))
        async with dyte:
            await round_trip(dyte)
            shown = repr(dyte) + repr(dyte._config) + str(dyte._config)
    assert proxy.authorizations
    assert all(auth == wanted for auth in proxy.authorizations)
    assert PASSWORD not in shown
    assert wanted.decode() not in shown


async def test_proxy_credentials_on_plain_http_reach_the_proxy_only(backend: str) -> None:
    wanted = basic(USER, PASSWORD)
    async with fake_behind(require=wanted) as (fake, proxy, _):
        dyte = client(
            fake,
            f"http://{HOST}/v2",
            backend,
            proxy=with_credentials(proxy.url),
            allow_insecure_http=True,
        )
        async with dyte:
            await round_trip(dyte)
    assert proxy.authorizations == [wanted] * 3
    assert all(b"proxy-authorization" not in head.lower() for head in proxy.forwarded)


async def test_a_proxy_refusing_the_credentials_is_a_typed_error_without_them(
    backend: str, trusted_ca: Any
) -> None:
    async with fake_behind(trusted_ca, require=basic(USER, "another")) as (fake, proxy, _):
        dyte = client(fake, f"https://{HOST}/v2", backend, proxy=with_credentials(proxy.url))
        async with dyte:
            with anyio.fail_after(10), pytest.raises(APIConnectionError) as caught:
                await dyte.meetings.create(title="never sent")
    assert "407" in str(caught.value)
    assert_no_proxy_secret(caught.value)
    assert fake.requests == []


async def test_a_407_to_a_plain_http_request_is_a_status_error_without_them(
    backend: str,
) -> None:
    async with fake_behind(require=basic(USER, "another")) as (fake, proxy, _):
        dyte = client(
            fake,
            f"http://{HOST}/v2",
            backend,
            proxy=with_credentials(proxy.url),
            allow_insecure_http=True,
        )
        async with dyte:
            with anyio.fail_after(10), pytest.raises(APIStatusError) as caught:
                await dyte.meetings.create(title="never sent")
    assert caught.value.status_code == 407  # the proxy's own answer, in absolute form
    assert_no_proxy_secret(caught.value)
    assert fake.requests == []


def assert_no_proxy_secret(error: BaseException) -> None:
    """Neither the proxy's password nor its header anywhere in the error's chain."""
    chain: list[str] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 10:
        chain.append(f"{current!s} {current!r} {getattr(current, 'args', '')}")
        request = getattr(current, "request", None)
        if isinstance(request, httpx.Request):
            chain.append(repr(request.headers.multi_items()))
        current = current.__cause__ or current.__context__
    text = "\n".join(chain)
    assert PASSWORD not in text
    assert basic(USER, PASSWORD).decode() not in text


async def test_a_proxy_that_is_down_is_a_connection_error(backend: str) -> None:
    fake = FakeDyte()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()  # nothing listens there now
    dyte = client(fake, f"https://{HOST}/v2", backend, proxy=f"http://127.0.0.1:{port}")
    async with dyte:
        with anyio.fail_after(10), pytest.raises(APIConnectionError):
            await dyte.meetings.create(title="never sent")


async def test_credentials_in_clear_to_a_remote_proxy_are_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        AsyncDyte("org", "key", proxy=f"http://{USER}:{PASSWORD}@proxy.example:3128")
    assert "proxy.example" in str(caught.value)
    assert "allow_insecure_http" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    # Allowed when asked, and over TLS to the proxy.
    AsyncDyte(
        "org",
        "key",
        proxy=f"http://{USER}:{PASSWORD}@proxy.example:3128",
        allow_insecure_http=True,
    )
    AsyncDyte("org", "key", proxy=f"https://{USER}:{PASSWORD}@proxy.example:3128")
