"""`main`: parse, check, then run one command against a client (or the demo)."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio

from dyte_async._client import AsyncDyte
from dyte_async.cli.arguments import (
    DEFAULT_CONCURRENCY,
    UsageError,
    build_parser,
    check_usage,
    is_fan_out,
)
from dyte_async.cli.output import (
    Progress,
    describe,
    error,
    is_terminal,
    print_items,
    print_outcome,
    print_summary,
)
from dyte_async.errors import ConfigurationError, DyteError, InvalidArgumentError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: `sys.argv[1:]`).

    Returns:
        The exit status: 0 all succeeded, 1 some failed, 2 bad usage or configuration.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        ids = check_usage(args)
        return anyio.run(_dispatch, args, ids)
    except (UsageError, ConfigurationError, InvalidArgumentError) as exc:
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:  # pragma: no cover - interactive
        error("interrupted")
        return 130


async def _dispatch(args: argparse.Namespace, ids: list[str]) -> int:
    if args.command == "demo":
        from dyte_async.cli.demo import run_demo

        return await run_demo(
            meetings=args.meetings,
            go_live_after=args.go_live_after,
            timeout=args.timeout,
            as_json=args.json,
            show_secrets=args.show_secrets,
        )
    async with _client(args) as dyte:
        try:
            if is_fan_out(args):
                return await _fan_out(dyte, args, ids)
            return await _single(dyte, args)
        except (ConfigurationError, InvalidArgumentError):
            raise
        except DyteError as exc:
            error(describe(exc))
            return EXIT_FAILED


@asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncIterator[AsyncDyte]:
    if args.fake:
        # Only the CLI imports the fake, and only when asked for it.
        from dyte_async.testing import FakeDyte

        async with FakeDyte().client() as dyte:
            yield dyte
        return
    async with AsyncDyte(base_url=args.base_url) as dyte:
        yield dyte


# -- one call --------------------------------------------------------------------------


async def _single(dyte: AsyncDyte, args: argparse.Namespace) -> int:
    timeout = args.timeout
    if args.command == "livestreams":  # list
        livestreams = dyte.livestreams.list(status=args.status, per_page=100, timeout=timeout)
        items: Sequence[Any] = await livestreams.to_list(args.limit)
    elif args.action == "list":
        meetings = dyte.meetings.list(search=args.search, per_page=100, timeout=timeout)
        items = await meetings.to_list(args.limit)
    else:
        meeting = await dyte.meetings.create(
            title=args.title,
            live_stream_on_start=args.live_stream_on_start or None,
            timeout=timeout,
        )
        items = [meeting]
    print_items(items, kind=args.command, as_json=args.json, show_secrets=args.show_secrets)
    return EXIT_OK


# -- one call per meeting --------------------------------------------------------------


def _action(dyte: AsyncDyte, args: argparse.Namespace) -> Callable[[str], Awaitable[Any]]:
    ls = dyte.livestreams
    timeout = args.timeout
    if args.action == "start":
        return lambda mid: ls.start(mid, name=args.name, timeout=timeout)
    if args.action == "stop":
        return lambda mid: ls.stop(mid, timeout=timeout)
    if args.action == "status":
        return lambda mid: ls.get_active(mid, timeout=timeout)
    options: dict[str, Any] = {}  # what is not given keeps the poller's defaults
    if timeout is not None:
        options["timeout"] = timeout
    if args.poll_interval is not None:
        options["poll_interval"] = args.poll_interval
    return lambda mid: ls.wait_until_live(mid, **options)


async def _fan_out(dyte: AsyncDyte, args: argparse.Namespace, ids: list[str]) -> int:
    failures: Counter[str] = Counter()
    succeeded = 0
    started = time.monotonic()
    # Waits cost little side by side (one client's waits share their polls), so by
    # default `wait` runs them all at once: every meeting's timeout starts now.
    concurrency = args.concurrency or (len(ids) if args.action == "wait" else DEFAULT_CONCURRENCY)
    with Progress(len(ids), label=args.action, enabled=is_terminal(sys.stderr)) as progress:
        async with dyte.map(_action(dyte, args), ids, concurrency=concurrency) as outcomes:
            async for outcome in outcomes:
                if outcome.ok:
                    succeeded += 1
                else:
                    failures[type(outcome.error).__name__] += 1
                print_outcome(outcome, as_json=args.json, show_secrets=args.show_secrets)
                progress.advance(failed=not outcome.ok)
    elapsed = round(time.monotonic() - started, 3)
    print_summary(args.action, succeeded, failures, elapsed, as_json=args.json)
    return EXIT_FAILED if failures else EXIT_OK
