"""The pytest plugin (entry point `pytest11`): the `dyte_fake` fixture."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dyte_async.testing._fake import FakeDyte

__all__ = ["dyte_fake"]


@pytest.fixture
def dyte_fake() -> FakeDyte:
    """A fresh `FakeDyte()` for each test (system clock, default settings).

    Returns:
        The fake; use `dyte_fake.client()` or `dyte_fake.transport()` to talk to it.
    """
    from dyte_async.testing._fake import FakeDyte

    return FakeDyte()
