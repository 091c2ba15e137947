"""dyte.map: bounded concurrency, every outcome kept, clean cancellation."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from dyte_async import AsyncDyte, InvalidArgumentError
from dyte_async._fanout import FanOut, Outcome

pytestmark = pytest.mark.anyio


@pytest.fixture
async def dyte():
    client = AsyncDyte("org", "key", max_concurrency=7)
    yield client
    await client.aclose()


async def test_runs_every_item_and_keeps_failures(dyte):
    async def fn(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        if x % 5 == 0:
            raise ValueError(f"bad {x}")
        return x * 10

    outcomes = []
    async with dyte.map(fn, range(23), concurrency=4) as stream:
        async for outcome in stream:
            outcomes.append(outcome)
    assert sorted(o.index for o in outcomes) == list(range(23))
    failed = sorted(o.item for o in outcomes if not o.ok)
    assert failed == [0, 5, 10, 15, 20]
    for o in outcomes:
        if o.ok:
            assert o.unwrap() == o.item * 10
        else:
            assert isinstance(o.error, ValueError)
            with pytest.raises(ValueError, match=f"bad {o.item}"):
                o.unwrap()


async def test_never_more_than_concurrency_in_flight(dyte):
    running = 0
    peak = 0

    full = anyio.Event()

    async def fn(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 6:
            full.set()
        with anyio.move_on_after(0.5):
            await full.wait()
        running -= 1
        return x

    results = [o.unwrap() async for o in dyte.map(fn, range(50), concurrency=6)]
    assert sorted(results) == list(range(50))
    assert peak == 6


async def test_default_concurrency_is_the_clients_max_concurrency(dyte):
    running = 0
    peak = 0
    full = anyio.Event()

    async def fn(x: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 7:
            full.set()
        # Hold each item until 7 run at once (or a while, if fewer ever do).
        with anyio.move_on_after(0.5):
            await full.wait()
        running -= 1

    async with dyte.map(fn, range(30)) as stream:
        async for _ in stream:
            pass
    assert peak == 7


async def test_results_come_as_they_complete(dyte):
    # Each item finishes once the one before it in `finish` has: "fast", "mid", "slow".
    finish = ["fast", "mid", "slow"]
    done = {name: anyio.Event() for name in finish}
    order = []

    async def fn(name: str) -> str:
        position = finish.index(name)
        if position:
            await done[finish[position - 1]].wait()
        done[name].set()
        return name

    with anyio.fail_after(5):  # a hang guard only
        async with dyte.map(fn, ["slow", "fast", "mid"], concurrency=3) as stream:
            async for outcome in stream:
                order.append(outcome.result)
    assert order == finish


async def test_leaving_early_cancels_the_rest_and_leaves_no_task(dyte):
    started = 0
    finished = 0
    cancelled = 0

    async def fn(x: int) -> int:
        nonlocal started, finished, cancelled
        started += 1
        try:
            if x < 2:
                await anyio.lowlevel.checkpoint()
            else:
                await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise
        finished += 1
        return x

    with anyio.fail_after(5):
        async with dyte.map(fn, range(1000), concurrency=5) as stream:
            async for outcome in stream:
                assert outcome.ok
                break
    assert started <= 7  # items are read lazily: no task per input item
    assert cancelled == started - finished
    assert cancelled >= 1


async def test_async_iterable_input(dyte):
    async def items():
        for i in range(5):
            await anyio.lowlevel.checkpoint()
            yield i

    async def fn(x: int) -> int:
        return -x

    got = sorted([o.unwrap() async for o in dyte.map(fn, items(), concurrency=2)])
    assert got == [-4, -3, -2, -1, 0]


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_bad_concurrency_is_a_clear_error(bad):
    async def fn(x: int) -> int:
        return x

    with pytest.raises(InvalidArgumentError, match="concurrency"):
        FanOut(fn, [1], concurrency=bad)


def test_outcome_reports_ok_and_error():
    good: Outcome[int, int] = Outcome(item=1, index=0, result=2)
    bad: Outcome[int, int] = Outcome(item=1, index=0, error=KeyError("x"))
    assert good.ok
    assert good.unwrap() == 2
    assert not bad.ok
    with pytest.raises(KeyError):
        bad.unwrap()
