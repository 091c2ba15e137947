"""Authentication, routing errors, paging rules and the rate limit."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from dyte_async.testing import FakeClock, FakeDyte, _routes
from tests.fake.conftest import basic_auth, in_process, webhook_keypair

pytestmark = pytest.mark.anyio

RTK = "https://api.cloudflare.example/client/v4/accounts/acc123/realtime/kit/app-1"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


MALFORMED = [
    None,
    "",
    "Basic",
    "Basic !!!not-base64",
    "Basic " + base64.b64encode(b"no-colon").decode(),
    _basic("", "key"),
    _basic("org", ""),
    "Basic " + base64.b64encode(b"org:k\x00ey").decode(),
    "Bearer fake-rtk-token",  # Bearer is for RealtimeKit paths only
    "Token abc",
]


@pytest.mark.parametrize("authorization", MALFORMED)
async def test_v2_needs_well_formed_basic_auth(
    fake: FakeDyte, connect: Any, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    async with connect(fake) as client:
        client.headers.pop("authorization")
        response = await client.get("/livestreams", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert fake.requests[-1].status == 401
    assert fake.requests[-1].org_id is None


@pytest.mark.parametrize(
    "authorization",
    [
        *MALFORMED,
        _basic("fake-org-id", "wrong"),
        _basic("other-org", "fake-api-key"),
    ],
)
async def test_strict_v2_needs_the_fakes_own_credentials(
    clock: FakeClock, connect: Any, authorization: str | None
) -> None:
    fake = FakeDyte(clock=clock, strict_auth=True)
    headers = {} if authorization is None else {"authorization": authorization}
    async with connect(fake) as client:
        good = await client.get("/livestreams")
        client.headers.pop("authorization")
        response = await client.get("/livestreams", headers=headers)
    assert good.status_code == 200
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert [r.status for r in fake.requests] == [200, 401]
    assert fake.requests[-1].org_id is None


async def test_any_well_formed_credentials_are_accepted_by_default(
    clock: FakeClock, connect: Any
) -> None:
    fake = FakeDyte(clock=clock)
    assert not fake.strict_auth
    async with connect(fake) as client:
        created = await client.post(
            "/meetings", json={"title": "a"}, headers={"authorization": _basic("org-a", "key-a")}
        )
        listed = await client.get(
            "/meetings", headers={"authorization": _basic("org-b", "p@ss:with:colons")}
        )
    assert created.status_code == 201
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["data"]] == [created.json()["data"]["id"]]
    assert [r.org_id for r in fake.requests] == ["org-a", "org-b"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"org_id": "mine"},
        {"api_key": "secret"},
        {"api_token": "tok"},
        {"strict_auth": True},
    ],
)
async def test_giving_credentials_makes_the_check_exact(kwargs: dict[str, Any]) -> None:
    fake = FakeDyte(**kwargs)
    assert fake.strict_auth
    async with in_process(fake) as client:
        own = await client.get("/livestreams")
        other = await client.get(
            "/livestreams", headers={"authorization": _basic("someone", "else")}
        )
    assert own.status_code == 200
    assert other.status_code == 401
    assert repr(fake).startswith("FakeDyte(org_id=")
    assert "secret" not in repr(fake._credentials)


async def test_strict_auth_false_with_credentials_stays_lenient() -> None:
    fake = FakeDyte(org_id="mine", api_key="secret", strict_auth=False)
    async with in_process(fake) as client:
        other = await client.get("/livestreams", headers={"authorization": _basic("x", "y")})
    assert other.status_code == 200
    assert fake.requests[-1].org_id == "x"


@pytest.mark.parametrize("bad", ["", "  ", 5])
def test_empty_credentials_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="org_id must be a non-empty string"):
        FakeDyte(org_id=bad)


async def test_a_new_users_first_client_works() -> None:
    """The issue's newcomer path, as written: any credentials, the in-process transport."""
    from dyte_async import AsyncDyte

    fake = FakeDyte()
    async with AsyncDyte(
        org_id="o", api_key="k", http_client=httpx.AsyncClient(transport=fake.transport())
    ) as dyte:
        meeting = await dyte.meetings.create(title="first")
    assert meeting.title == "first"
    assert fake.requests[-1].org_id == "o"


async def test_a_new_users_first_client_works_over_a_socket() -> None:
    from dyte_async import AsyncDyte

    fake = FakeDyte()
    async with (
        fake.serve() as base_url,
        AsyncDyte(org_id="my-org", api_key="my-real-key", base_url=base_url) as dyte,
    ):
        meeting = await dyte.meetings.create(title="first")
        listed = await dyte.meetings.list().to_list()
    assert [m.id for m in listed] == [meeting.id]
    assert {r.org_id for r in fake.requests} == {"my-org"}


async def test_realtimekit_accepts_any_bearer_token_and_names_the_app(fake: FakeDyte) -> None:
    async with httpx.AsyncClient(transport=fake.transport(), base_url=RTK) as client:
        ok = await client.get("/meetings", headers={"authorization": "Bearer anything"})
        spaced = await client.get("/meetings", headers={"authorization": "Bearer two words"})
        basic = await client.get("/meetings", headers={"authorization": basic_auth(fake)})
    assert ok.status_code == 200
    assert spaced.status_code == 401
    assert basic.status_code == 401
    assert [r.org_id for r in fake.requests] == ["app-1", None, None]


async def test_realtimekit_paths_take_a_bearer_token(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, strict_auth=True)
    async with httpx.AsyncClient(transport=fake.transport(), base_url=RTK) as client:
        ok = await client.post(
            "/meetings", json={"title": "rtk"}, headers={"authorization": "Bearer fake-rtk-token"}
        )
        wrong = await client.get("/meetings", headers={"authorization": "Bearer nope"})
        basic = await client.get("/meetings", headers={"authorization": basic_auth(fake)})
    assert ok.status_code == 201
    assert wrong.status_code == 401
    assert wrong.json() == {"message": "Unauthorized"}
    assert basic.status_code == 401
    assert fake.requests[0].path == "/meetings"
    assert fake.requests[0].route == "POST /meetings"


async def test_realtimekit_base_url_attribute(fake: FakeDyte) -> None:
    headers = {"authorization": f"Bearer {fake.api_token}"}
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.realtimekit_base_url, headers=headers
    ) as client:
        response = await client.get("/livestreams")
    assert response.status_code == 200


async def test_unknown_routes_and_methods(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        unknown = await client.get("/no/such/thing")
        wrong_method = await client.delete("/livestreams")
        outside = await client.get("https://fake.dyte.invalid/v3/livestreams")
    assert unknown.status_code == 404
    assert unknown.json()["success"] is False
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, POST"
    assert wrong_method.json()["error"]["code"] == 405
    assert outside.status_code == 404
    assert fake.requests[0].route is None


async def test_well_known_serves_the_fakes_key_or_the_one_set(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, webhook_keypair=webhook_keypair())
    url = "https://fake.dyte.invalid/.well-known/webhooks.json"
    other = "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n"
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        own = await client.get(url)
        fake.webhook_public_key_pem = other
        replaced = await client.get(url)
        fake.webhook_public_key_pem = None
        restored = await client.get(url)
    assert own.json() == {
        "success": True,
        "data": {"publicKey": webhook_keypair()[1]},
        "message": "",
    }
    assert replaced.json()["data"]["publicKey"] == other
    assert restored.json() == own.json()
    assert fake.webhook_public_key_pem == webhook_keypair()[1]


async def test_paging_rules(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, max_per_page=5, default_per_page=3)
    for index in range(7):
        fake.add_meeting(title=f"m{index}")
    async with in_process(fake) as client:

        async def paging(**params: Any) -> Any:
            response = await client.get("/meetings", params=params)
            assert response.status_code == 200, response.text
            return response.json()["paging"], len(response.json()["data"])

        assert await paging() == ({"total_count": 7, "start_offset": 1, "end_offset": 3}, 3)
        assert await paging(page_no=0) == (
            {"total_count": 7, "start_offset": 1, "end_offset": 3},
            3,
        )
        assert await paging(per_page=50) == (
            {"total_count": 7, "start_offset": 1, "end_offset": 5},
            5,
        )
        assert await paging(per_page=5, page_no=2) == (
            {"total_count": 7, "start_offset": 6, "end_offset": 7},
            2,
        )
        assert await paging(per_page=5, page_no=3) == (
            {"total_count": 7, "start_offset": 11, "end_offset": 10},
            0,
        )
        for bad in ({"page_no": -1}, {"per_page": "ten"}, {"page_no": 1.5}):
            response = await client.get("/meetings", params=bad)
            assert response.status_code == 400
            assert response.json()["error"]["message"].startswith("BAD_REQUEST")


async def test_rate_limit_429_with_retry_after(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, rate_limit=(3, 10.0))
    async with in_process(fake) as client:
        statuses = []
        for _ in range(3):  # at t = 0, 1, 2
            statuses.append((await client.get("/livestreams")).status_code)
            clock.advance(1)
        clock.advance(1)
        limited = await client.get("/livestreams")
        clock.advance(5.5)
        still = await client.get("/livestreams")
        clock.advance(0.5)  # the first request leaves the window
        freed = await client.get("/livestreams")
        limited_again = await client.get("/livestreams")
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "6"
    assert limited.json() == {
        "success": False,
        "error": {"code": 429, "message": "Too many requests"},
    }
    assert still.status_code == 429
    assert still.headers["retry-after"] == "1"
    assert freed.status_code == 200
    assert limited_again.status_code == 429
    assert limited_again.headers["retry-after"] == "1"
    assert [r.status for r in fake.requests].count(429) == 3


async def test_rate_limit_is_per_client_address(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, rate_limit=(1, 60.0))
    async with in_process(fake) as client:
        assert (await client.get("/livestreams")).status_code == 200
        assert (await client.get("/livestreams")).status_code == 429
    async with fake.serve() as base_url, httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/livestreams", headers={"authorization": basic_auth(fake)})
    assert response.status_code == 200
    assert fake.requests[-1].client == "127.0.0.1"


async def test_rate_limit_off(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, rate_limit=None)
    async with in_process(fake) as client:
        for _ in range(50):
            assert (await client.get("/presets")).status_code == 200


async def test_internal_errors_are_500(fake: FakeDyte, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(ctx: Any) -> Any:
        raise RuntimeError("kaput")

    routes = tuple(
        _routes.Route(r.method, r.template, boom) if r.key == "GET /presets" else r
        for r in _routes.ROUTES
    )
    monkeypatch.setattr(_routes, "ROUTES", routes)
    async with in_process(fake) as client:
        response = await client.get("/presets")
    assert response.status_code == 500
    assert "RuntimeError: kaput" in response.json()["error"]["message"]
