"""dyte.webhooks: the public key's URL, fetch, cache, and refresh at most once a minute."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dyte_async import AsyncDyte
from dyte_async.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    InternalServerError,
    NotFoundError,
    ResponseDecodeError,
    WebhookSignatureError,
)
from dyte_async.resources.webhooks import Webhooks
from dyte_async.testing import FakeClock
from dyte_async.webhooks import (
    DYTE_WEBHOOK_KEY_URL,
    REALTIMEKIT_WEBHOOK_KEY_URL,
    LivestreamStatusUpdate,
    WebhookPayloadError,
    generate_keypair,
    public_key_from_body,
    sign,
    signed_headers,
    webhook_key_url,
)
from dyte_async.webhooks._keys import check_key_url

KEY_URL = DYTE_WEBHOOK_KEY_URL
BODY = b'{"event":"livestreaming.statusUpdate","streamId":"s-1","status":"LIVE"}'


def keypair(name: str = "main") -> tuple[str, str]:
    return _keypair(name)


@functools.cache
def _keypair(name: str) -> tuple[str, str]:
    return generate_keypair()


def rtk_answer(public_pem: str) -> httpx.Response:
    return httpx.Response(
        200, json={"success": True, "data": {"publicKey": public_pem}, "message": ""}
    )


# -- where the key lives ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.dyte.io/v2", "https://api.dyte.io/.well-known/webhooks.json"),
        ("https://api.dyte.io/v2/", "https://api.dyte.io/.well-known/webhooks.json"),
        (
            "https://api.cloudflare.com/client/v4/accounts/acc/realtime/kit/app",
            "https://api.realtime.cloudflare.com/.well-known/webhooks.json",
        ),
        (
            "https://api.realtime.cloudflare.com/v2",
            "https://api.realtime.cloudflare.com/.well-known/webhooks.json",
        ),
        ("http://127.0.0.1:8765/v2", "http://127.0.0.1:8765/.well-known/webhooks.json"),
        (
            "https://proxy.example:8443/dyte/v2?x=1",
            "https://proxy.example:8443/.well-known/webhooks.json",
        ),
    ],
)
def test_webhook_key_url_follows_the_base_urls_host(base_url: str, expected: str) -> None:
    assert webhook_key_url(base_url) == expected


def test_the_realtimekit_default_is_the_documented_url() -> None:
    assert (
        REALTIMEKIT_WEBHOOK_KEY_URL
        == "https://api.realtime.cloudflare.com/.well-known/webhooks.json"
    )
    assert DYTE_WEBHOOK_KEY_URL == "https://api.dyte.io/.well-known/webhooks.json"


@pytest.mark.parametrize(
    "base_url", ["", "api.dyte.io/v2", "ftp://x/y", "https://", "https://x:abc/"]
)
def test_webhook_key_url_rejects_a_bad_base(base_url: str) -> None:
    with pytest.raises(ConfigurationError):
        webhook_key_url(base_url)


def test_a_plain_http_key_url_is_refused_except_on_loopback() -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        check_key_url("http://keys.example/.well-known/webhooks.json")
    assert check_key_url("http://keys.example/k", allow_insecure_http=True)
    assert check_key_url("http://localhost:1/k")
    assert check_key_url("http://[::1]:1/k")
    with pytest.raises(ConfigurationError):
        check_key_url("file:///etc/key.pem")
    with pytest.raises(ConfigurationError):
        check_key_url("https://x:abc/")


# -- every answer shape ------------------------------------------------------------------------


PEM = keypair()[1]


@pytest.mark.parametrize(
    "body",
    [
        PEM,
        "\n  " + PEM + "\n\n",
        json.dumps(PEM),
        json.dumps({"publicKey": PEM}),
        json.dumps({"public_key": PEM}),
        json.dumps({"data": {"publicKey": PEM}}),
        json.dumps({"data": {"public_key": PEM}}),
        json.dumps({"success": True, "data": {"publicKey": PEM}, "message": ""}),
        json.dumps({"data": PEM}),
        json.dumps({"publicKey": PEM.replace("\n", "\\n")}),  # newlines escaped twice
    ],
    ids=[
        "pem",
        "padded-pem",
        "json-string",
        "publicKey",
        "public_key",
        "data.publicKey",
        "data.public_key",
        "realtimekit",
        "data-string",
        "escaped-newlines",
    ],
)
def test_every_known_answer_shape_gives_the_pem(body: str) -> None:
    assert public_key_from_body(body.encode()).strip() == PEM.strip()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"hello",
        b"{}",
        b'{"data": {}}',
        b'{"publicKey": 5}',
        b"[1]",
        b'{"publicKey": "not a pem"}',
        b'{"success": false, "error": "nope"}',
    ],
)
def test_an_answer_without_a_key_is_a_decode_error(body: bytes) -> None:
    with pytest.raises(ResponseDecodeError):
        public_key_from_body(body)


# -- fetch and cache ------------------------------------------------------------------------------


@pytest.fixture
async def dyte(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[AsyncDyte]:
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
    )
    async with client:
        yield client


def resource(dyte: AsyncDyte, **kwargs: Any) -> Webhooks:
    """`dyte.webhooks`, or one built with other options (`refresh_interval`, ...)."""
    if not kwargs:
        return dyte.webhooks
    kwargs.setdefault("key_url", webhook_key_url(dyte.base_url))
    return Webhooks(dyte._pipeline, get_http=dyte._get_http, **kwargs)


@pytest.fixture
def webhooks(dyte: AsyncDyte) -> Webhooks:
    return resource(dyte)


pytestmark = pytest.mark.anyio


async def test_the_key_is_fetched_once_and_cached(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    route = router.get(KEY_URL).mock(return_value=rtk_answer(PEM))
    assert webhooks.key_url == KEY_URL
    assert "not fetched" in repr(webhooks)
    assert (await webhooks.public_key()).strip() == PEM.strip()
    assert (await webhooks.public_key()).strip() == PEM.strip()
    assert route.call_count == 1
    assert webhooks.fetches == 1
    assert "cached" in repr(webhooks)


async def test_the_fetch_sends_no_credentials(router: respx.MockRouter, webhooks: Webhooks) -> None:
    route = router.get(KEY_URL).mock(return_value=httpx.Response(200, text=PEM))
    await webhooks.public_key()
    request = route.calls.last.request
    assert "authorization" not in request.headers
    assert request.method == "GET"


async def test_a_user_http_client_with_auth_sends_no_credentials(
    router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(KEY_URL).mock(return_value=httpx.Response(200, text=PEM))
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(router.async_handler),
        auth=("user", "secret"),
        headers={"Authorization": "Bearer x"},
        cookies={"session": "s"},
    ) as http:
        dyte = AsyncDyte("org", "key", http_client=http, clock=clock, rate_limit=None)
        await resource(dyte).public_key()
    request = route.calls.last.request
    assert "authorization" not in request.headers
    assert "cookie" not in request.headers


async def test_concurrent_first_uses_share_one_fetch(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    route = router.get(KEY_URL).mock(return_value=rtk_answer(PEM))
    private_pem, _ = keypair()
    headers = {"dyte-signature": sign(BODY, private_pem)}
    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(webhooks.verify, BODY, headers)
    assert route.call_count == 1


async def test_refresh_true_fetches_again(router: respx.MockRouter, webhooks: Webhooks) -> None:
    route = router.get(KEY_URL).mock(return_value=rtk_answer(PEM))
    await webhooks.public_key()
    await webhooks.public_key(refresh=True)
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(500, json={"error": {"message": "down"}}), InternalServerError),
        (httpx.Response(404, text="nope"), NotFoundError),
        (httpx.Response(200, text="<html>hi</html>"), ResponseDecodeError),
        (httpx.Response(200, json={"success": True, "data": {}}), ResponseDecodeError),
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
    ],
    ids=["500", "404", "html", "no-key", "connect", "timeout"],
)
async def test_fetch_failures_are_library_errors(
    router: respx.MockRouter, webhooks: Webhooks, answer: Any, error: type[Exception]
) -> None:
    router.get(KEY_URL).mock(side_effect=[answer])
    with pytest.raises(error):
        await webhooks.public_key()


async def test_a_non_rsa_key_is_not_cached(router: respx.MockRouter, webhooks: Webhooks) -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    router.get(KEY_URL).mock(side_effect=[httpx.Response(200, text=ec_pem), rtk_answer(PEM)])
    with pytest.raises(ResponseDecodeError, match="RSA"):
        await webhooks.public_key()
    assert (await webhooks.public_key()).strip() == PEM.strip()


async def test_a_slow_key_endpoint_times_out(router: respx.MockRouter, webhooks: Webhooks) -> None:
    arrived: list[httpx.Request] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        arrived.append(request)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    router.get(KEY_URL).mock(side_effect=slow)
    # The key fetch's timeout runs on real time (not the client's Clock): 50 ms here.
    with pytest.raises(APITimeoutError, match="webhook public key"):
        await webhooks.public_key(timeout=0.05)
    assert len(arrived) == 1


async def test_redirects_are_not_followed_and_never_to_plain_http(
    router: respx.MockRouter, dyte: AsyncDyte
) -> None:
    # Redirects were followed before (only the final scheme was checked); now none is
    # followed (see test_webhook_key_origin.py), and plain http is still never reached.
    moved = "https://keys.example/webhooks.json"
    key = router.get(KEY_URL).mock(return_value=httpx.Response(302, headers={"location": moved}))
    elsewhere = router.get(moved).mock(return_value=httpx.Response(200, text=PEM))
    webhooks = resource(dyte)
    with pytest.raises(APIConnectionError, match="redirect"):
        await webhooks.public_key()
    assert elsewhere.call_count == 0

    key.mock(return_value=httpx.Response(302, headers={"location": "http://api.dyte.io/k"}))
    plain = router.get("http://api.dyte.io/k").mock(return_value=httpx.Response(200, text=PEM))
    with pytest.raises(APIConnectionError, match="plain http"):
        await webhooks.public_key(refresh=True)
    assert plain.call_count == 0
    assert key.call_count == 2


async def test_a_closed_client_says_so(router: respx.MockRouter, dyte: AsyncDyte) -> None:
    webhooks = resource(dyte)
    await dyte.aclose()
    with pytest.raises(ClientClosedError):
        await webhooks.public_key()


async def test_the_key_url_is_a_constructor_parameter(
    router: respx.MockRouter, dyte: AsyncDyte
) -> None:
    route = router.get(REALTIMEKIT_WEBHOOK_KEY_URL).mock(return_value=rtk_answer(PEM))
    webhooks = resource(dyte, key_url=REALTIMEKIT_WEBHOOK_KEY_URL)
    await webhooks.public_key()
    assert route.call_count == 1


def test_the_resource_refuses_unsafe_settings() -> None:
    dyte = AsyncDyte("org", "key", rate_limit=None)
    with pytest.raises(ConfigurationError):
        Webhooks(dyte._pipeline, get_http=dyte._get_http, key_url="http://keys.example/k")
    with pytest.raises(ConfigurationError):
        Webhooks(dyte._pipeline, get_http=dyte._get_http, refresh_interval=-1)
    assert Webhooks(dyte._pipeline, get_http=dyte._get_http).key_url == DYTE_WEBHOOK_KEY_URL


# -- verify with the cached key, refreshing at most once a minute ----------------------------------


async def test_verify_and_parse_returns_the_event(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(return_value=rtk_answer(PEM))
    headers = signed_headers(BODY, keypair()[0], flavor="realtimekit", delivery_id="d-1")
    event = await webhooks.verify_and_parse(BODY, headers)
    assert isinstance(event, LivestreamStatusUpdate)
    assert (event.stream_id, event.delivery_id) == ("s-1", "d-1")


async def test_verify_and_parse_tells_payload_errors_from_signature_errors(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(return_value=rtk_answer(PEM))
    body = b'{"no": "event"}'
    with pytest.raises(WebhookPayloadError):
        await webhooks.verify_and_parse(body, signed_headers(body, keypair()[0]))
    with pytest.raises(WebhookSignatureError):
        await webhooks.verify_and_parse(BODY, signed_headers(body, keypair()[0]))


async def test_a_missing_signature_fails_without_fetching_the_key(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    route = router.get(KEY_URL).mock(return_value=rtk_answer(PEM))
    for headers in ({}, {"dyte-signature": "%%%"}):
        with pytest.raises(WebhookSignatureError):
            await webhooks.verify(BODY, headers)
    assert route.call_count == 0


async def test_verify_refreshes_a_rotated_key_at_most_once_a_minute(
    router: respx.MockRouter, webhooks: Webhooks, clock: FakeClock
) -> None:
    old_public = keypair("old")[1]
    new_private, new_public = keypair()
    served = [old_public]
    route = router.get(KEY_URL).mock(side_effect=lambda request: rtk_answer(served[0]))
    good = {"rtk-signature": sign(BODY, new_private)}
    forged = {"rtk-signature": sign(BODY, keypair("forger")[0])}

    await webhooks.verify(BODY, {"rtk-signature": sign(BODY, keypair("old")[0])})
    assert route.call_count == 1

    served[0] = new_public  # the service rotates its key
    clock.advance(30)
    with pytest.raises(WebhookSignatureError):  # fetched 30 s ago: no refresh yet
        await webhooks.verify(BODY, good)
    assert route.call_count == 1

    clock.advance(30)
    await webhooks.verify(BODY, good)  # 60 s: refresh, the new key matches
    assert route.call_count == 2
    assert (await webhooks.public_key()).strip() == new_public.strip()

    for _ in range(5):  # forged requests right after: no fetch at all
        with pytest.raises(WebhookSignatureError):
            await webhooks.verify(BODY, forged)
    assert route.call_count == 2

    clock.advance(61)
    for _ in range(5):  # a minute later: one fetch for the lot
        with pytest.raises(WebhookSignatureError):
            await webhooks.verify(BODY, forged)
    assert route.call_count == 3
    assert webhooks.fetches == 3


async def test_concurrent_failures_share_one_refresh(
    router: respx.MockRouter, webhooks: Webhooks, clock: FakeClock
) -> None:
    served = [keypair("old")[1]]

    async def answer(request: httpx.Request) -> httpx.Response:
        # let the other verifications fail on the old key meanwhile
        await anyio.wait_all_tasks_blocked()
        return rtk_answer(served[0])

    route = router.get(KEY_URL).mock(side_effect=answer)
    await webhooks.public_key()
    served[0] = keypair()[1]
    clock.advance(61)
    good = {"dyte-signature": sign(BODY, keypair()[0])}
    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(webhooks.verify, BODY, good)
    assert route.call_count == 2


async def test_a_failed_refresh_is_a_signature_error_and_waits_its_minute(
    router: respx.MockRouter, webhooks: Webhooks, clock: FakeClock
) -> None:
    route = router.get(KEY_URL).mock(
        side_effect=[rtk_answer(PEM), httpx.Response(503), rtk_answer(PEM)]
    )
    forged = {"dyte-signature": sign(BODY, keypair("forger")[0])}
    await webhooks.public_key()
    clock.advance(60)
    with pytest.raises(WebhookSignatureError) as info:
        await webhooks.verify(BODY, forged)
    assert isinstance(info.value.__cause__, APIStatusError)
    assert route.call_count == 2
    with pytest.raises(WebhookSignatureError):
        await webhooks.verify(BODY, forged)
    assert route.call_count == 2
    # the cached key still works meanwhile
    await webhooks.verify(BODY, {"dyte-signature": sign(BODY, keypair()[0])})


async def test_without_a_cached_key_a_fetch_failure_is_not_a_signature_error(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(return_value=httpx.Response(502))
    with pytest.raises(InternalServerError):
        await webhooks.verify(BODY, {"dyte-signature": sign(BODY, keypair()[0])})


async def test_the_refresh_interval_is_configurable(
    router: respx.MockRouter, dyte: AsyncDyte, clock: FakeClock
) -> None:
    route = router.get(KEY_URL).mock(return_value=rtk_answer(PEM))
    webhooks = resource(dyte, refresh_interval=5.0)
    forged = {"dyte-signature": sign(BODY, keypair("forger")[0])}
    await webhooks.public_key()
    clock.advance(5)
    with pytest.raises(WebhookSignatureError):
        await webhooks.verify(BODY, forged)
    assert route.call_count == 2


async def test_verify_honours_the_reserialised_flag(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(return_value=rtk_answer(PEM))
    pretty = json.dumps(json.loads(BODY), indent=2).encode()
    headers = {"dyte-signature": sign(BODY, keypair()[0])}  # BODY is the compact form
    with pytest.raises(WebhookSignatureError):
        await webhooks.verify(pretty, headers)
    await webhooks.verify(pretty, headers, allow_reserialized=True)


async def test_without_cryptography_the_resource_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, webhooks: Webhooks
) -> None:
    import sys

    from dyte_async.webhooks import _crypto

    for name in ("cryptography", *_crypto._MODULES):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ConfigurationError, match=r"dyte-async\[webhooks\]"):
        await webhooks.public_key()
    with pytest.raises(ConfigurationError, match=r"dyte-async\[webhooks\]"):
        await webhooks.verify(BODY, {})
