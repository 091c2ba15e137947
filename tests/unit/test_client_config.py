"""`AsyncDyte`: configuration from arguments and environment, lifecycle, and its repr."""

from __future__ import annotations

import base64
import inspect

import httpx
import pytest
import respx

from dyte_async import (
    AsyncDyte,
    ClientClosedError,
    ConfigurationError,
    DyteError,
    RateLimit,
    RetryPolicy,
    __version__,
)
from dyte_async.testing import FakeClock
from tests import spec_examples as ex
from tests.unit.harness import mocked

MEETING_ID = "bbb03399-24e3-4b0c-90ec-172e97e636be"


def basic(org: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{org}:{key}".encode()).decode()


class RecordingTransport(httpx.AsyncBaseTransport):
    """Answers every request with the active-livestream example; records aclose()."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.closed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=ex.ACTIVE_LIVESTREAM_200)

    async def aclose(self) -> None:
        self.closed += 1


def client(transport: httpx.AsyncBaseTransport, *args: str | None, **options: object) -> AsyncDyte:
    options.setdefault("rate_limit", None)
    return AsyncDyte(*args, transport=transport, clock=FakeClock(), **options)  # type: ignore[arg-type]


# --- the signature ----------------------------------------------------------------------

KW = inspect.Parameter.KEYWORD_ONLY
POS = inspect.Parameter.POSITIONAL_OR_KEYWORD


def test_the_public_signatures_stay_as_they_are() -> None:
    params = inspect.signature(AsyncDyte).parameters.values()
    public = [(p.name, p.kind, repr(p.default)) for p in params if not p.name.startswith("_")]
    assert public == [
        ("org_id", POS, "None"),
        ("api_key", POS, "None"),
        ("base_url", KW, "None"),
        ("timeout", KW, "60.0"),
        ("connect_timeout", KW, "5.0"),
        ("attempt_timeout", KW, "None"),
        ("max_retries", KW, "None"),
        ("retry", KW, "None"),
        ("rate_limit", KW, "DEFAULT"),
        ("max_concurrency", KW, "100"),
        ("http_client", KW, "None"),
        ("transport", KW, "None"),
        ("http_backend", KW, "'auto'"),
        ("allow_insecure_http", KW, "False"),
        ("clock", KW, "None"),
        ("headers", KW, "None"),
        ("max_response_bytes", KW, "4194304"),
        ("redis", KW, "None"),
        ("rate_limit_key", KW, "None"),
        ("fleet_size_hint", KW, "1"),
        ("proxy", KW, "None"),
        ("trust_env", KW, "True"),
        ("tracer_provider", KW, "None"),
        ("meter_provider", KW, "None"),
    ]
    rtk = inspect.signature(AsyncDyte.realtimekit).parameters.values()
    assert [(p.name, p.kind) for p in rtk] == [
        ("account_id", POS),
        ("app_id", POS),
        ("api_token", POS),
        ("options", inspect.Parameter.VAR_KEYWORD),
    ]


def test_an_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="proxies"):
        AsyncDyte("org", "key", proxies="http://proxy")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="proxies"):
        AsyncDyte.realtimekit("acc", "app", "tok", proxies="http://proxy")  # type: ignore[call-arg]


# --- credentials and base URL -----------------------------------------------------------


@pytest.mark.anyio
async def test_credentials_and_base_url_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DYTE_ORG_ID", "env-org")
    monkeypatch.setenv("DYTE_API_KEY", "env-key")
    monkeypatch.setenv("DYTE_BASE_URL", "https://api.eu.example.test/v2/")
    transport = RecordingTransport()
    async with client(transport) as dyte:
        await dyte.livestreams.get_active(MEETING_ID)
    (request,) = transport.requests
    assert (
        str(request.url)
        == f"https://api.eu.example.test/v2/meetings/{MEETING_ID}/active-livestream"
    )
    assert request.headers["authorization"] == basic("env-org", "env-key")


@pytest.mark.anyio
async def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYTE_ORG_ID", "env-org")
    monkeypatch.setenv("DYTE_API_KEY", "env-key")
    monkeypatch.setenv("DYTE_BASE_URL", "https://api.eu.example.test/v2")
    transport = RecordingTransport()
    async with client(transport, "arg-org", "arg-key", base_url="https://api.dyte.io/v2") as dyte:
        await dyte.livestreams.get_active(MEETING_ID)
    (request,) = transport.requests
    assert request.url.host == "api.dyte.io"
    assert request.headers["authorization"] == basic("arg-org", "arg-key")


@pytest.mark.anyio
async def test_the_default_base_url_is_dytes_v2_and_headers_identify_the_client() -> None:
    transport = RecordingTransport()
    async with client(transport, "org", "key", headers={"X-Trace": "t-1"}) as dyte:
        assert dyte.base_url == "https://api.dyte.io/v2"
        await dyte.livestreams.get_active(MEETING_ID)
    (request,) = transport.requests
    assert str(request.url).startswith("https://api.dyte.io/v2/meetings/")
    assert request.headers["authorization"] == basic("org", "key")
    assert request.headers["user-agent"] == f"dyte-async/{__version__}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-trace"] == "t-1"


def test_no_credentials_raises_configuration_error_naming_both_variables() -> None:
    with pytest.raises(ConfigurationError) as info:
        AsyncDyte()
    assert "DYTE_ORG_ID" in str(info.value)
    assert "DYTE_API_KEY" in str(info.value)
    assert isinstance(info.value, DyteError)


def test_a_missing_api_key_is_named_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYTE_ORG_ID", "env-org")
    with pytest.raises(ConfigurationError) as info:
        AsyncDyte()
    assert "DYTE_API_KEY" in str(info.value)
    assert "DYTE_ORG_ID" not in str(info.value)


def test_empty_credentials_count_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYTE_ORG_ID", "")
    with pytest.raises(ConfigurationError, match="DYTE_ORG_ID"):
        AsyncDyte(api_key="key")
    with pytest.raises(ConfigurationError, match="DYTE_API_KEY"):
        AsyncDyte("org", "")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.dyte.io/v2",
        "http://10.0.0.5:8080/v2",
        "http://localhost.evil.example/v2",
    ],
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="allow_insecure_http"):
        AsyncDyte("org", "key", base_url=url)


def test_plain_http_from_the_environment_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYTE_BASE_URL", "http://api.dyte.io/v2")
    with pytest.raises(ConfigurationError):
        AsyncDyte("org", "key")


@pytest.mark.anyio
async def test_plain_http_is_allowed_when_asked() -> None:
    transport = RecordingTransport()
    async with client(
        transport, "org", "key", base_url="http://10.0.0.5:8080/v2", allow_insecure_http=True
    ) as dyte:
        await dyte.livestreams.get_active(MEETING_ID)
    assert transport.requests[0].url.scheme == "http"


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/v2",
        "http://127.0.0.1:9000",
        "http://[::1]:8000/v2",
        "http://api.localhost",
    ],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    dyte = AsyncDyte("org", "key", base_url=url)
    assert dyte.base_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["ftp://api.dyte.io/v2", "api.dyte.io/v2", "https://", "https://org:key@api.dyte.io/v2"]
)
def test_a_malformed_base_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        AsyncDyte("org", "key", base_url=url)


@pytest.mark.parametrize(
    "url",
    ["https://user:hunter2-S3cret@api.dyte.io/v2", "http://user:hunter2-S3cret@remote.example/v2"],
)
def test_a_base_url_with_credentials_is_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        AsyncDyte("org", "key", base_url=url)
    assert "hunter2-S3cret" not in str(info.value)


@pytest.mark.parametrize(
    "url", ["ftp://user:hunter2-S3cret@files.example/v2", "https://user:hunter2-S3cret@/v2"]
)
def test_a_malformed_base_url_error_does_not_echo_its_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        AsyncDyte("org", "key", base_url=url)
    assert "hunter2-S3cret" not in str(info.value)


def test_conflicting_or_impossible_options_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        AsyncDyte("org", "key", timeout=0)
    with pytest.raises(ConfigurationError):
        AsyncDyte("org", "key", max_concurrency=0)
    with pytest.raises(ConfigurationError):
        AsyncDyte("org", "key", max_retries=1, retry=RetryPolicy())


# --- RealtimeKit -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_realtimekit_builds_the_cloudflare_base_url_with_bearer_auth() -> None:
    transport = RecordingTransport()
    dyte = AsyncDyte.realtimekit(
        ex.RTK_ACCOUNT, ex.RTK_APP, ex.RTK_TOKEN, transport=transport, rate_limit=None
    )
    async with dyte:
        await dyte.livestreams.get_active(MEETING_ID)
    (request,) = transport.requests
    assert str(request.url) == f"{ex.RTK_BASE_URL}/meetings/{MEETING_ID}/active-livestream"
    assert request.headers["authorization"] == f"Bearer {ex.RTK_TOKEN}"
    assert ex.RTK_TOKEN not in repr(dyte)


def test_realtimekit_has_its_own_default_rate_limit() -> None:
    rtk = AsyncDyte.realtimekit("acc", "app", "tok")
    dyte = AsyncDyte("org", "key")
    assert rtk.rate_limit == RateLimit(250, 10.0)
    assert dyte.rate_limit == RateLimit(2000, 60.0)


def test_realtimekit_does_not_need_dyte_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYTE_BASE_URL", "https://api.eu.example.test/v2")
    rtk = AsyncDyte.realtimekit("acc", "app", "tok")
    assert rtk.base_url == "https://api.cloudflare.com/client/v4/accounts/acc/realtime/kit/app"


@pytest.mark.parametrize(
    ("account", "app", "token"),
    [
        ("", "app", "tok"),
        ("acc", "", "tok"),
        ("acc", "app", ""),
        ("a/b", "app", "tok"),
        ("acc", "x?y", "tok"),
    ],
)
def test_realtimekit_refuses_empty_or_path_breaking_ids(account: str, app: str, token: str) -> None:
    with pytest.raises(ConfigurationError):
        AsyncDyte.realtimekit(account, app, token)


# --- lifecycle ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_client_passed_in_gets_auth_per_request_and_is_not_closed(
    router: respx.MockRouter,
) -> None:
    route = router.get(f"/meetings/{MEETING_ID}/active-livestream").respond(
        200, json=ex.ACTIVE_LIVESTREAM_200
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(router.async_handler), headers={"X-App": "mine"}
    ) as http:
        dyte = AsyncDyte(
            ex.ORG_ID, ex.API_KEY, http_client=http, clock=FakeClock(), rate_limit=None
        )
        async with dyte:
            await dyte.livestreams.get_active(MEETING_ID)
        await dyte.aclose()
        assert dyte.is_closed
        assert not http.is_closed
        # ... and stays usable by its owner.
        response = await http.get(f"{ex.BASE_URL}/meetings/{MEETING_ID}/active-livestream")
        assert response.status_code == 200
        assert "authorization" not in response.request.headers
    first = route.calls[0].request
    assert first.headers["authorization"] == ex.AUTHORIZATION
    assert first.headers["x-app"] == "mine"


@pytest.mark.anyio
async def test_a_client_passed_in_skips_the_url_check() -> None:
    router = respx.MockRouter(base_url="http://dyte.internal.example/v2", assert_all_called=False)
    router.route().respond(200, json=ex.ACTIVE_LIVESTREAM_200)
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
        dyte = AsyncDyte("org", "key", base_url="http://dyte.internal.example/v2", http_client=http)
        async with dyte:
            await dyte.livestreams.get_active(MEETING_ID)
    assert router.calls.call_count == 1


@pytest.mark.anyio
async def test_the_client_we_build_on_a_transport_is_closed_once() -> None:
    transport = RecordingTransport()
    dyte = client(transport, "org", "key")
    async with dyte:
        await dyte.livestreams.get_active(MEETING_ID)
    assert transport.closed == 1
    await dyte.aclose()  # idempotent
    assert transport.closed == 1
    assert dyte.is_closed


@pytest.mark.anyio
async def test_a_call_after_close_raises_client_closed_error_and_sends_nothing() -> None:
    transport = RecordingTransport()
    dyte = client(transport, "org", "key")
    async with dyte:
        await dyte.livestreams.get_active(MEETING_ID)
    with pytest.raises(ClientClosedError) as info:
        await dyte.livestreams.get_active(MEETING_ID)
    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value, DyteError)
    with pytest.raises(ClientClosedError):
        await dyte.livestreams.list().to_list()
    with pytest.raises(ClientClosedError):
        await dyte.meetings.create(title="x")
    with pytest.raises(ClientClosedError):
        async with dyte:
            pass
    assert len(transport.requests) == 1


@pytest.mark.anyio
async def test_a_client_closed_before_use_never_opens() -> None:
    transport = RecordingTransport()
    dyte = client(transport, "org", "key")
    await dyte.aclose()
    await dyte.aclose()
    with pytest.raises(ClientClosedError):
        await dyte.livestreams.get_active(MEETING_ID)
    assert transport.requests == []


@pytest.mark.anyio
async def test_a_client_used_without_async_with_opens_lazily_and_closes() -> None:
    transport = RecordingTransport()
    dyte = client(transport, "org", "key")
    assert not dyte.is_closed
    await dyte.livestreams.get_active(MEETING_ID)
    await dyte.aclose()
    assert transport.closed == 1


# --- repr -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_repr_shows_no_secret_and_no_full_org_id() -> None:
    async with mocked() as m:
        text = repr(m.dyte)
        assert "open" in text
    for secret in (ex.API_KEY, ex.BASIC_TOKEN, ex.ORG_ID):
        assert secret not in text
        assert secret not in repr(m.dyte)
    assert "closed" in repr(m.dyte)
    assert ex.BASE_URL in text


@pytest.mark.anyio
async def test_repr_names_the_base_url_the_masked_account_and_the_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dyte = AsyncDyte("org-123456", "key")
    assert repr(dyte) == "<AsyncDyte https://api.dyte.io/v2 account=org-… open>"
    await dyte.aclose()
    assert repr(dyte) == "<AsyncDyte https://api.dyte.io/v2 account=org-… closed>"
    assert repr(AsyncDyte("abc", "key")) == "<AsyncDyte https://api.dyte.io/v2 account=… open>"
    monkeypatch.setenv("DYTE_ORG_ID", "envorg-42")
    monkeypatch.setenv("DYTE_API_KEY", "key")
    assert "account=envo… " in repr(AsyncDyte())
    rtk = AsyncDyte.realtimekit("acc", "app", "tok")
    rtk_url = "https://api.cloudflare.com/client/v4/accounts/acc/realtime/kit/app"
    assert repr(rtk) == f"<AsyncDyte {rtk_url} account=realtimekit open>"
