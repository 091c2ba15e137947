"""Fixtures of the FakeDyte tests."""

from __future__ import annotations

import base64
import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from dyte_async.testing import FakeClock, FakeDyte

# The `dyte_fake` fixture comes from the pytest11 entry point once the package is installed;
# importing it here makes it available when the tests run from a plain checkout.
from dyte_async.testing._plugin import (  # noqa: F401
    dyte_fake,
    dyte_fake_options,
    pytest_configure,
)
from dyte_async.webhooks import generate_keypair


@functools.cache
def webhook_keypair() -> tuple[str, str]:
    """One RSA key pair for every test (generating one takes tens of milliseconds)."""
    return generate_keypair()


def basic_auth(fake: FakeDyte) -> str:
    token = base64.b64encode(f"{fake.org_id}:{fake.api_key}".encode()).decode()
    return f"Basic {token}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeDyte:
    return FakeDyte(clock=clock, seed=7)


@contextlib.asynccontextmanager
async def in_process(fake: FakeDyte, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the fake's in-process transport, authenticated."""
    headers = {"authorization": basic_auth(fake), **kwargs.pop("headers", {})}
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url, headers=headers, **kwargs
    ) as client:
        yield client


@contextlib.asynccontextmanager
async def over_socket(fake: FakeDyte, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The fake served on 127.0.0.1 and an httpx client talking to it, authenticated."""
    headers = {"authorization": basic_auth(fake), **kwargs.pop("headers", {})}
    async with (
        fake.serve() as base_url,
        httpx.AsyncClient(base_url=base_url, headers=headers, **kwargs) as client,
    ):
        yield client


@pytest.fixture(params=["in-process", "socket"])
def connect(request: pytest.FixtureRequest) -> Any:
    """Either way of talking to a fake: `async with connect(fake) as client`."""
    return in_process if request.param == "in-process" else over_socket


def conforms(actual: Any, example: Any, where: str = "$") -> None:
    """Assert `actual` has every field of `example`, with the same JSON type.

    A null in the example allows anything, or no such key; a non-empty array's first item is
    the pattern of every item; numbers match numbers (int or float).
    """
    if example is None:
        return
    if isinstance(example, bool):
        assert isinstance(actual, bool), f"{where}: {actual!r} is not a boolean"
    elif isinstance(example, (int, float)):
        assert isinstance(actual, (int, float)), f"{where}: {actual!r} is not a number"
        assert not isinstance(actual, bool), f"{where}: {actual!r} is not a number"
    elif isinstance(example, str):
        assert isinstance(actual, str), f"{where}: {actual!r} is not a string"
    elif isinstance(example, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not an array"
        if example:
            for index, item in enumerate(actual):
                conforms(item, example[0], f"{where}[{index}]")
    else:
        assert isinstance(example, dict)
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in example.items():
            if value is None and key not in actual:
                continue  # a null in the example: the fake leaves out what the spec won't null
            assert key in actual, f"{where}: missing {key!r} (has {sorted(actual)})"
            conforms(actual[key], value, f"{where}.{key}")
