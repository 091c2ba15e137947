"""The pytest plugin (entry point `pytest11`): the `dyte_fake` fixture and its options.

```python
@pytest.fixture
def dyte_fake_options():              # a whole module or conftest.py
    return {"clock": "fake", "go_live_after": 0.5}

@pytest.mark.dyte_fake(strict_auth=True)   # one test (merged over the fixture's options)
async def test_wrong_key_is_refused(dyte_fake): ...
```

The options are `FakeDyte` arguments, plus `clock="fake"`: a new `FakeClock` for each
test, shared by the fake and `dyte_fake.client()`, so waits take no real time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dyte_async.testing._fake import FakeDyte

__all__ = ["dyte_fake", "dyte_fake_options", "fake_from_options", "pytest_configure"]

MARKER = "dyte_fake"


def pytest_configure(config: pytest.Config) -> None:
    """Register the `dyte_fake` marker (the project runs with `--strict-markers`)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): FakeDyte arguments for the dyte_fake fixture "
        '(clock="fake" for a FakeClock per test)',
    )


def fake_from_options(options: dict[str, Any]) -> FakeDyte:
    """Build the fake `options` describe (`clock="fake"`: a new `FakeClock`).

    Raises:
        TypeError: an option `FakeDyte` does not take.
        ValueError: an option value `FakeDyte` refuses.
    """
    from dyte_async.testing._clock import FakeClock
    from dyte_async.testing._fake import FakeDyte

    options = dict(options)
    if options.get("clock") == "fake":
        options["clock"] = FakeClock()
    return FakeDyte(**options)


@pytest.fixture
def dyte_fake_options() -> dict[str, Any]:
    """The `FakeDyte` arguments of `dyte_fake`: override this fixture to configure it.

    Returns:
        `{}` (the defaults: system clock, LIVE about 1 s after a start, any credentials).
    """
    return {}


@pytest.fixture
def dyte_fake(request: pytest.FixtureRequest, dyte_fake_options: dict[str, Any]) -> FakeDyte:
    """A fresh `FakeDyte` for each test, built from `dyte_fake_options` and the
    `@pytest.mark.dyte_fake(...)` marker's keyword arguments (the marker wins).

    Returns:
        The fake; use `dyte_fake.client()` or `dyte_fake.transport()` to talk to it.
    """
    options = dict(dyte_fake_options)
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        options.update(marker.kwargs)
    return fake_from_options(options)
