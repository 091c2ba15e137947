"""Misuse gets a typed error before anything is sent: credentials that cannot go into a
header, ids that cannot go into a path, a client used from a second event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from dyte_async import AsyncDyte, ConfigurationError, InvalidArgumentError
from dyte_async._config import ClientConfig
from dyte_async.testing import FakeClock

SECRET = "key-S3cr3tValue-9d8e7f6a5b4c"

# -- credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\n", "\x00", "\x7f", "é", "\u2028", "\ud800", " \t"])
@pytest.mark.parametrize(
    ("where", "named"),
    [
        ("org_id", "org_id"),
        ("api_key", "api_key"),
        ("env_org", "DYTE_ORG_ID"),
        ("env_key", "DYTE_API_KEY"),
    ],
)
def test_a_credential_with_a_control_or_non_ascii_character_is_refused(
    bad: str, where: str, named: str
) -> None:
    value = SECRET[:10] + bad + SECRET[10:]
    args: dict[str, Any] = {"org_id": "org", "api_key": "key", "environ": {}}
    if where.startswith("env"):
        variable = "DYTE_ORG_ID" if where == "env_org" else "DYTE_API_KEY"
        args = {"environ": {"DYTE_ORG_ID": "org", "DYTE_API_KEY": "key", variable: value}}
    else:
        args[where] = value
    with pytest.raises(ConfigurationError) as info:
        ClientConfig.build(**args)
    message = str(info.value)
    assert named in message
    assert SECRET[:10] not in message
    assert SECRET[10:] not in message


@pytest.mark.parametrize("padding", [" ", "\n", "\r\n", "\t", " \n "])
def test_surrounding_whitespace_is_stripped(padding: str) -> None:
    plain = ClientConfig.build(org_id="org", api_key=SECRET, environ={})
    padded = ClientConfig.build(org_id=padding + "org", api_key=SECRET + padding, environ={})
    from_env = ClientConfig.build(
        environ={"DYTE_ORG_ID": "org" + padding, "DYTE_API_KEY": padding + SECRET}
    )
    assert padded.headers["Authorization"] == plain.headers["Authorization"]
    assert from_env.headers["Authorization"] == plain.headers["Authorization"]


def test_only_whitespace_is_a_missing_credential() -> None:
    with pytest.raises(ConfigurationError, match="missing credentials"):
        ClientConfig.build(org_id="org", api_key=" \n", environ={})


def test_a_realtimekit_token_read_from_a_file_is_stripped() -> None:
    dyte = AsyncDyte.realtimekit("acc", "app", SECRET + "\n")
    assert dyte._config.headers["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("name", ["account_id", "app_id", "api_token"])
@pytest.mark.parametrize("bad", ["\x00", "é", "\n\x1b"])
def test_realtimekit_credentials_are_checked(name: str, bad: str) -> None:
    args = {"account_id": "acc", "app_id": "app", "api_token": "tok"}
    args[name] = SECRET[:10] + bad + SECRET[10:]
    with pytest.raises(ConfigurationError) as info:
        AsyncDyte.realtimekit(args["account_id"], args["app_id"], args["api_token"])
    assert name in str(info.value)
    assert SECRET[10:] not in str(info.value)


# -- ids ----------------------------------------------------------------------------------------


@pytest.fixture
async def dyte(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[AsyncDyte]:
    async with AsyncDyte(
        "org", "key", transport=httpx.MockTransport(router.async_handler), clock=clock
    ) as client:
        yield client


BAD_IDS = {
    "surrogate": "m\ud800",
    "newline": "m1\nX-Injected: 1",
    "nul": "m\x00",
    "escape": "m\x1b[31m",
    "huge": "m" * (1 << 20),
    "just-over": "m" * 1025,
}


@pytest.mark.anyio
@pytest.mark.parametrize("bad", list(BAD_IDS.values()), ids=list(BAD_IDS))
async def test_an_id_that_cannot_be_a_path_segment_is_refused_before_sending(
    dyte: AsyncDyte, router: respx.MockRouter, bad: str
) -> None:
    route = router.route()
    calls = [
        lambda: dyte.livestreams.get_active(bad),
        lambda: dyte.livestreams.start(bad),
        lambda: dyte.meetings.get(bad),
        lambda: dyte.active_sessions.kick_all(bad),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError) as info:
            await call()
        assert "meeting_id" in str(info.value)
        assert len(str(info.value)) < 200
    assert route.call_count == 0


@pytest.mark.anyio
async def test_an_id_of_1024_characters_is_sent(dyte: AsyncDyte, router: respx.MockRouter) -> None:
    long_id = "m" * 1024
    route = router.get(f"/meetings/{long_id}/active-livestream").respond(
        200, json={"success": True, "data": {"id": "ls1", "status": "LIVE"}}
    )
    await dyte.livestreams.get_active(long_id)
    assert route.call_count == 1


# -- event loops ---------------------------------------------------------------------------------


def test_a_client_shared_by_two_asyncio_runs_raises_a_configuration_error() -> None:
    router = respx.MockRouter(base_url="https://api.dyte.io/v2", assert_all_called=False)
    router.get("/meetings/m1/active-livestream").respond(
        200, json={"success": True, "data": {"id": "ls1", "status": "LIVE"}}
    )
    dyte = AsyncDyte("org", "key", transport=httpx.MockTransport(router.async_handler))

    async def call() -> Any:
        return await dyte.livestreams.get_active("m1")

    assert asyncio.run(call()).id == "ls1"
    with pytest.raises(ConfigurationError, match="one client per event loop"):
        asyncio.run(call())
    assert router.calls.call_count == 1  # nothing sent from the second loop


def test_a_real_backend_shared_by_two_asyncio_runs_raises_no_runtime_error() -> None:
    dyte = AsyncDyte("org", "key", base_url="http://127.0.0.1:9/v2", http_backend="httpcore")

    async def call() -> None:
        await dyte.__aenter__()

    asyncio.run(call())
    with pytest.raises(ConfigurationError) as info:
        asyncio.run(call())
    assert not isinstance(info.value, RuntimeError)
