"""Test helpers for users of dyte_async: a fake Dyte API and a virtual clock."""

from __future__ import annotations

from dyte_async.testing._clock import FakeClock

__all__ = ["FakeClock"]
