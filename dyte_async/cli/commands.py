"""`main`: parse, check, then run one command against a client (or the demo)."""

from __future__ import annotations

import argparse
import os
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
    RATE_LIMIT_OFF,
    UsageError,
    build_parser,
    check_usage,
    is_fan_out,
)
from dyte_async.cli.hints import BASE_URL_VARIABLE, cli_message, missing_v2_hint
from dyte_async.cli.ids import write_failed
from dyte_async.cli.output import (
    Progress,
    describe,
    error,
    is_terminal,
    print_items,
    print_outcome,
    print_summary,
)
from dyte_async.errors import (
    AuthenticationError,
    ConfigurationError,
    DyteError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "client_options", "main"]

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
    except (UsageError, InvalidArgumentError) as exc:
        error(str(exc))
        return EXIT_USAGE
    except ConfigurationError as exc:
        error(cli_message(str(exc)))
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
        except (AuthenticationError, PermissionDeniedError) as exc:
            error(_credentials_line(exc))
            return EXIT_FAILED
        except DyteError as exc:
            error(describe(exc))
            if isinstance(exc, NotFoundError):
                _hint_missing_v2(args)
            return EXIT_FAILED


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `AsyncDyte` options the command line sets (those not given keep the defaults).

    Args:
        args: the parsed arguments.

    Returns:
        Keyword arguments for `AsyncDyte` (or `FakeDyte.client`).
    """
    options: dict[str, Any] = {}
    if args.max_retries is not None:
        options["max_retries"] = args.max_retries
    if args.rate_limit is not None:
        options["rate_limit"] = None if args.rate_limit == RATE_LIMIT_OFF else args.rate_limit
    if args.redis_url is not None:
        options["redis"] = args.redis_url
    return options


@asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncIterator[AsyncDyte]:
    if args.fake:
        # Only the CLI imports the fake, and only when asked for it.
        from dyte_async.testing import FakeDyte

        async with FakeDyte().client(**client_options(args)) as dyte:
            yield dyte
        return
    async with AsyncDyte(
        org_id=args.org_id,
        base_url=args.base_url,
        allow_insecure_http=args.allow_insecure_http,
        proxy=args.proxy,  # the embedded fake (above) needs none
        **client_options(args),
    ) as dyte:
        yield dyte


def _credentials_line(exc: DyteError) -> str:
    status = getattr(exc, "status_code", None)
    return (
        f"stopped: the API refused the credentials ({type(exc).__name__}, {status}): "
        "check DYTE_ORG_ID (or --org-id), DYTE_API_KEY and the base URL"
    )


def _hint_missing_v2(args: argparse.Namespace) -> None:
    if args.fake:
        return
    hint = missing_v2_hint(args.base_url or os.environ.get(BASE_URL_VARIABLE))
    if hint:
        error(hint)


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
    failed: dict[str, str] = {}  # meeting id -> why, for --failed-out
    done: set[str] = set()
    refused: DyteError | None = None
    succeeded = 0
    started = time.monotonic()
    # Waits cost little side by side (one client's waits share their polls), so by
    # default `wait` runs them all at once: every meeting's timeout starts now.
    concurrency = args.concurrency or (len(ids) if args.action == "wait" else DEFAULT_CONCURRENCY)
    try:
        with Progress(len(ids), label=args.action, enabled=is_terminal(sys.stderr)) as progress:
            async with dyte.map(_action(dyte, args), ids, concurrency=concurrency) as outcomes:
                async for outcome in outcomes:
                    done.add(outcome.item)
                    if outcome.error is None:
                        succeeded += 1
                    else:
                        failures[type(outcome.error).__name__] += 1
                        failed[outcome.item] = type(outcome.error).__name__
                    if isinstance(outcome.error, (AuthenticationError, PermissionDeniedError)):
                        # Every other meeting would get the same answer: stop at the first.
                        refused = outcome.error
                        if args.json:
                            print_outcome(outcome, as_json=True, show_secrets=args.show_secrets)
                        break
                    print_outcome(outcome, as_json=args.json, show_secrets=args.show_secrets)
                    progress.advance(failed=not outcome.ok)
    except BaseException:  # interrupted: still say what is left to do
        if args.failed_out is not None:
            _write_failed_out(args.failed_out, ids, failed, done)
        raise
    if refused is not None:
        error(_credentials_line(refused) + f"; {len(ids) - len(done)} meeting(s) not run")
    elif failures["NotFoundError"]:
        _hint_missing_v2(args)
    if args.failed_out is not None:
        _write_failed_out(args.failed_out, ids, failed, done)
    elapsed = round(time.monotonic() - started, 3)
    print_summary(args.action, succeeded, failures, elapsed, as_json=args.json)
    return EXIT_FAILED if failures else EXIT_OK


def _write_failed_out(path: str, ids: list[str], failed: dict[str, str], done: set[str]) -> None:
    """Write the meetings that failed or never ran, in input order, for a rerun."""
    rows = [(mid, failed.get(mid, "not run")) for mid in ids if mid in failed or mid not in done]
    try:
        write_failed(path, rows)
    except OSError as exc:
        error(f"cannot write --failed-out {path}: {exc.strerror or exc}")
        return
    if rows:
        error(f"{len(rows)} meeting(s) to run again written to {path} (--from-file {path})")
