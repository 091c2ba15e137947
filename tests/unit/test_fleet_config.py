"""`redis=`: which fleet a client joins, what it refuses, and that redis-py stays unimported
until asked for. No Redis is contacted here (see tests/integration/test_fleet_*.py)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import respx

from dyte_async import AsyncDyte, ConfigurationError, RateLimit
from dyte_async._config import ClientConfig
from dyte_async._ratelimit import NoLimiter, SlidingWindowLimiter
from dyte_async._ratelimit._redis import RedisLimiter


def fleet_of(**options: object) -> ClientConfig:
    return ClientConfig.build(org_id="org-1", api_key="key", environ={}, **options)  # type: ignore[arg-type]


def test_without_redis_the_limit_stays_in_process() -> None:
    assert fleet_of().fleet is None
    client = AsyncDyte("org", "key", rate_limit=RateLimit(5, per=1))
    assert isinstance(client._pipeline.limiter, SlidingWindowLimiter)


def test_a_redis_url_makes_a_fleet_keyed_by_the_organization() -> None:
    one = fleet_of(redis="redis://127.0.0.1:6390/0").fleet
    again = ClientConfig.build(
        org_id="org-1", api_key="another-key", redis="redis://10.0.0.1/1", environ={}
    ).fleet
    other = ClientConfig.build(
        org_id="org-2", api_key="key", redis="redis://127.0.0.1:6390/0", environ={}
    ).fleet
    assert one is not None
    assert again is not None
    assert other is not None
    assert one.redis == "redis://127.0.0.1:6390/0"
    assert one.key == again.key  # one organization: one key, whatever the API key
    assert one.key != other.key
    assert one.key.startswith("dyte-ratelimit:")
    assert "org-1" not in one.key


def test_realtimekit_apps_get_one_key_each() -> None:
    def key(app: str) -> str:
        client = AsyncDyte.realtimekit("acct", app, "token", redis="redis://127.0.0.1/0")
        limiter = client._pipeline.limiter
        assert isinstance(limiter, RedisLimiter)
        return limiter._keys[0]

    assert key("app-1") == key("app-1") != key("app-2")


def test_rate_limit_key_overrides_and_is_checked() -> None:
    fleet = fleet_of(redis="redis://127.0.0.1/0", rate_limit_key=" shared ").fleet
    assert fleet is not None
    assert fleet.key == "shared"
    for bad in ("", "  ", "a{b", "c}"):
        with pytest.raises(ConfigurationError, match="rate_limit_key"):
            fleet_of(redis="redis://127.0.0.1/0", rate_limit_key=bad)


@pytest.mark.parametrize("hint", [0, -1, True, 1.5, "2"])
def test_fleet_size_hint_must_be_a_positive_integer(hint: object) -> None:
    with pytest.raises(ConfigurationError, match="fleet_size_hint"):
        fleet_of(redis="redis://127.0.0.1/0", fleet_size_hint=hint)


def test_dyte_redis_url_comes_from_the_environment() -> None:
    config = ClientConfig.build(
        org_id="o", api_key="k", environ={"DYTE_REDIS_URL": " redis://127.0.0.1:7000/2 "}
    )
    assert config.fleet is not None
    assert config.fleet.redis == "redis://127.0.0.1:7000/2"
    with pytest.raises(ConfigurationError, match="DYTE_REDIS_URL must be a redis://"):
        ClientConfig.build(org_id="o", api_key="k", environ={"DYTE_REDIS_URL": "http://x"})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis://", "redis://user:s3cret@"]
)
def test_a_bad_redis_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^redis ") as caught:
        fleet_of(redis=url)
    assert "s3cret" not in str(caught.value)


def test_the_password_of_a_redis_url_stays_out_of_reprs() -> None:
    url = "redis://:s3cret-pw@127.0.0.1:6390/0"
    client = AsyncDyte("org", "key", redis=url)
    config = client._config
    assert "s3cret" not in repr(config)
    assert "s3cret" not in repr(client)
    assert "s3cret" not in repr(client._pipeline.limiter)
    assert "127.0.0.1:6390" in repr(client._pipeline.limiter)


def test_no_rate_limit_means_no_fleet_limiter() -> None:
    client = AsyncDyte("org", "key", rate_limit=None, redis="redis://127.0.0.1/0")
    assert isinstance(client._pipeline.limiter, NoLimiter)


def test_a_client_that_is_not_redis_py_asyncio_is_refused() -> None:
    import redis

    with pytest.raises(ConfigurationError, match=r"redis\.asyncio\.Redis"):
        AsyncDyte("org", "key", redis=redis.Redis())  # type: ignore[arg-type]


def test_without_redis_py_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigurationError, match=r"dyte-async\[redis\]"):
        AsyncDyte("org", "key", redis="redis://127.0.0.1/0")


def test_importing_or_making_a_client_without_redis_does_not_import_redis_py() -> None:
    code = "import sys, dyte_async; dyte_async.AsyncDyte('o', 'k');print('redis' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_under_trio_redis_is_a_configuration_error_before_anything_is_sent(
    anyio_backend: str, router: respx.MockRouter
) -> None:
    route = router.get("/meetings/m-1").respond(200, json={"success": True, "data": {}})
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        redis="redis://127.0.0.1:1/0",  # never contacted
    )
    async with client:
        with pytest.raises(ConfigurationError, match="redis= needs asyncio"):
            await client.meetings.get("m-1")
    assert route.call_count == 0
