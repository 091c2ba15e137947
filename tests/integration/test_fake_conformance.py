"""Conformance: Schemathesis fuzzes the served FakeDyte from the spec shipped in the package.

Every operation the fake implements, positive and negative data, a few cases each (the
whole test stays well under a minute). Fails on any 5xx, any answer slower than the
timeout, any successful answer outside its response schema (the official one plus the
documented `_deviations.DEVIATIONS`), and any write-only secret in an answer.
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("schemathesis")

from dyte_async.testing import FakeDyte
from dyte_async.testing._spec import patched_spec, raw_spec
from tests.integration.fake_conformance import fuzz, served_fake

EXAMPLES = 4
BUDGET_SECONDS = 45.0


def test_the_served_fake_conforms_to_the_spec() -> None:
    fake = FakeDyte(rate_limit=None, go_live_after=0.2, offline_after=0.1, seed=3)
    started = time.monotonic()
    with served_fake(fake) as base_url:
        tally = fuzz(
            base_url,
            spec=patched_spec(),
            examples=EXAMPLES,
            seed=1,
            timeout=5.0,
            deadline=started + BUDGET_SECONDS,
        )
    shown = "\n".join(f for f in tally.failures if "accepted invalid" not in f)
    assert tally.server_errors == 0, shown
    assert tally.hangs == 0, shown
    assert tally.invalid_answers == 0, shown
    assert tally.secrets_echoed == 0, shown
    assert tally.requests >= 36 * EXAMPLES  # every operation ran, in positive and negative
    assert tally.by_status[200] + tally.by_status[201] > 36  # and most reached a handler
    assert tally.negative_sent > 0


def test_every_documented_deviation_changes_the_official_schema() -> None:
    import copy

    from dyte_async.testing import _deviations

    for deviation in _deviations.DEVIATIONS:
        spec = copy.deepcopy(raw_spec())
        nodes = _deviations._nodes(spec, deviation)
        assert nodes, deviation.reason
        before = copy.deepcopy(nodes)
        original = _deviations.DEVIATIONS
        try:
            _deviations.DEVIATIONS = (deviation,)
            _deviations.apply_deviations(spec)
        finally:
            _deviations.DEVIATIONS = original
        assert nodes != before, deviation.reason
