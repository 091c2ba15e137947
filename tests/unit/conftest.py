"""Shared fixtures of the unit tests: one respx router and one fake clock (the library's).

Unit tests never open a socket and never sleep for real: requests go to `router` through
`httpx.MockTransport`, time is `clock` (`dyte_async.testing.FakeClock`), moved by the code
under test when it sleeps or by the test with `clock.advance(...)`.
"""

from __future__ import annotations

import pytest
import respx

from dyte_async.testing import FakeClock

#: The default Dyte base URL, which every unit test's client talks to.
BASE = "https://api.dyte.io/v2"
#: Where `clock` starts (any value far from zero, so "time 0" bugs show).
START = 1000.0


@pytest.fixture
def router() -> respx.MockRouter:
    """Routes under `BASE`; routes not called are not an error."""
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


@pytest.fixture
def clock() -> FakeClock:
    """The library's virtual clock, starting at `START`."""
    return FakeClock(START)
