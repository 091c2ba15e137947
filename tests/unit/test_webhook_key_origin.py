"""Where the webhook key may come from: only the client's key URL.

The key comes only from the client's key URL (the API's own origin, or the user's
`key_url`): a redirect is never followed, wherever it points, and its error names the
origin, never the Location or the body; a network failure names the method and the URL.
How big its answer may be and how strong the key must be: test_webhook_key_size.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from dyte_async import AsyncDyte
from dyte_async.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ConfigurationError,
)
from dyte_async.resources.webhooks import Webhooks
from dyte_async.testing import FakeClock
from tests.unit.webhook_keys import KEY_URL, SECRET, strong, weak

pytestmark = pytest.mark.anyio


@pytest.fixture
def webhooks(dyte: AsyncDyte) -> Webhooks:
    return dyte.webhooks


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    """`exc` and every exception under it (`__cause__`, `__context__`)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def everything_said(exc: BaseException) -> str:
    return " ".join(f"{e!s} {e!r} {e.args!r} {vars(e)!r}" for e in chain(exc))


# -- redirects are never followed -----------------------------------------------------------


async def test_a_redirect_to_another_host_is_refused_and_that_host_never_contacted(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    evil = f"https://user:{SECRET}@keys.evil.example/k?token={SECRET}"
    key = router.get(KEY_URL).mock(
        return_value=httpx.Response(
            302, headers={"location": evil}, text=f"<a href='{evil}'>moved</a>"
        )
    )
    elsewhere = router.route(host="keys.evil.example").mock(
        return_value=httpx.Response(200, text=weak()[1])
    )
    with pytest.raises(APIConnectionError) as caught:
        await webhooks.public_key()
    exc = caught.value
    assert not isinstance(exc, APIStatusError)
    assert str(exc) == (
        f"GET {KEY_URL}: refusing a redirect to another origin (answer 302) for the webhook "
        "public key: the key is fetched only from https://api.dyte.io, and redirects are "
        "not followed"
    )
    assert exc.method == "GET"
    assert exc.url == KEY_URL
    said = everything_said(exc)
    assert SECRET not in said
    assert "evil" not in said
    assert "moved" not in said
    assert key.call_count == 1
    assert elsewhere.call_count == 0
    assert webhooks.fetches == 1


async def test_https_to_http_to_https_is_refused_at_the_first_hop(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    hop = "http://api.dyte.io/.well-known/webhooks.json"
    back = "https://api.dyte.io/.well-known/other.json"
    router.get(KEY_URL).mock(return_value=httpx.Response(301, headers={"location": hop}))
    plain = router.get(hop).mock(return_value=httpx.Response(302, headers={"location": back}))
    again = router.get(back).mock(return_value=httpx.Response(200, text=weak()[1]))
    with pytest.raises(APIConnectionError, match="refusing a redirect to plain http") as caught:
        await webhooks.public_key()
    assert "answer 301" in str(caught.value)
    assert plain.call_count == 0
    assert again.call_count == 0


@pytest.mark.parametrize("status", [300, 301, 302, 303, 304, 307, 308, 399])
async def test_a_same_origin_redirect_is_not_followed_either(
    router: respx.MockRouter, webhooks: Webhooks, status: int
) -> None:
    # The rule is "never follow": even a redirect within https://api.dyte.io is refused.
    moved = "/.well-known/webhooks-v2.json"
    router.get(KEY_URL).mock(return_value=httpx.Response(status, headers={"location": moved}))
    target = router.get("https://api.dyte.io" + moved).mock(
        return_value=httpx.Response(200, text=strong()[1])
    )
    with pytest.raises(APIConnectionError, match="redirect within the same origin") as caught:
        await webhooks.public_key()
    assert f"(answer {status})" in str(caught.value)
    assert target.call_count == 0


async def test_a_redirect_without_a_location_is_refused(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(return_value=httpx.Response(302))
    with pytest.raises(APIConnectionError, match=r"refusing a redirect \(answer 302\)"):
        await webhooks.public_key()


async def test_a_redirect_to_a_malformed_location_is_a_connection_error(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    # httpx itself refuses to parse it (RemoteProtocolError): still no key, still typed.
    bad = f"https://{SECRET}@a:b:c/"
    router.get(KEY_URL).mock(return_value=httpx.Response(302, headers={"location": bad}))
    with pytest.raises(APIConnectionError) as caught:
        await webhooks.public_key()
    assert SECRET not in str(caught.value)


async def test_a_user_key_url_is_its_own_origin(router: respx.MockRouter, dyte: AsyncDyte) -> None:
    url = f"https://me:{SECRET}@keys.example:8443/pem?sig={SECRET}"
    router.get(url).mock(
        return_value=httpx.Response(302, headers={"location": "https://keys.example/x"})
    )
    webhooks = Webhooks(dyte._pipeline, get_http=dyte._get_http, key_url=url)
    with pytest.raises(APIConnectionError) as caught:
        await webhooks.public_key()
    assert "fetched only from https://keys.example:8443," in str(caught.value)
    assert "redirect to another origin" in str(caught.value)  # the port differs
    assert caught.value.url == "https://keys.example:8443/pem"
    assert SECRET not in everything_said(caught.value)


async def test_a_user_key_url_on_plain_http_is_still_refused() -> None:
    dyte = AsyncDyte("org", "key", rate_limit=None)
    with pytest.raises(ConfigurationError, match="plain http"):
        Webhooks(dyte._pipeline, get_http=dyte._get_http, key_url="http://keys.example/k")


# -- edges: a user's client that follows redirects, the 3xx boundary, exact errors -------------


async def test_a_user_client_that_follows_redirects_still_does_not(
    router: respx.MockRouter, clock: FakeClock
) -> None:
    moved = "https://keys.evil.example/k"
    router.get(KEY_URL).mock(return_value=httpx.Response(307, headers={"location": moved}))
    elsewhere = router.get(moved).mock(return_value=httpx.Response(200, text=weak()[1]))
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(router.async_handler), follow_redirects=True
    ) as http:
        dyte = AsyncDyte("org", "key", http_client=http, clock=clock, rate_limit=None)
        with pytest.raises(APIConnectionError, match="redirect to another origin"):
            await dyte.webhooks.public_key()
    assert elsewhere.call_count == 0


async def test_a_malformed_location_httpx_does_not_parse_is_refused_too(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    # httpx reads Location only for 301/302/303/307/308: a 300's is ours to parse.
    router.get(KEY_URL).mock(
        return_value=httpx.Response(300, headers={"location": f"https://{SECRET}@a:b:c/"})
    )
    with pytest.raises(APIConnectionError, match=r"refusing a redirect \(answer 300\)") as caught:
        await webhooks.public_key()
    assert SECRET not in everything_said(caught.value)


@pytest.mark.parametrize(("status", "error"), [(299, None), (400, BadRequestError)])
async def test_the_redirect_rule_is_exactly_3xx(
    router: respx.MockRouter, webhooks: Webhooks, status: int, error: type[Exception] | None
) -> None:
    pem = strong()[1]
    router.get(KEY_URL).mock(
        return_value=httpx.Response(status, text=pem, headers={"location": "/elsewhere"})
    )
    if error is None:
        assert (await webhooks.public_key()).strip() == pem.strip()
    else:
        with pytest.raises(error):
            await webhooks.public_key()


@pytest.mark.parametrize(
    ("failure", "error", "message"),
    [
        (
            httpx.ConnectError("refused"),
            APIConnectionError,
            f"GET {KEY_URL}: connection failed fetching the webhook public key (ConnectError)",
        ),
        (
            httpx.ReadTimeout("slow"),
            APITimeoutError,
            f"GET {KEY_URL}: timed out fetching the webhook public key",
        ),
    ],
)
async def test_network_failures_say_what_and_where(
    router: respx.MockRouter,
    webhooks: Webhooks,
    failure: Exception,
    error: type[APIConnectionError],
    message: str,
) -> None:
    router.get(KEY_URL).mock(side_effect=failure)
    with pytest.raises(error) as caught:
        await webhooks.public_key()
    assert str(caught.value) == message
    assert (caught.value.method, caught.value.url) == ("GET", KEY_URL)
