"""The `dyte-async` command line: a demo on the embedded fake, and fan-out over meetings.

    dyte-async demo [--meetings N] [--json]
    dyte-async livestreams start|stop|status|wait MEETING_ID... [--from-file FILE|-]
    dyte-async livestreams list [--status LIVE] [--limit N]
    dyte-async meetings list [--search TEXT] [--limit N]
    dyte-async meetings create --title TEXT [--live-stream-on-start]

Credentials come from `DYTE_ORG_ID` and `DYTE_API_KEY` (and `DYTE_BASE_URL`, or
`--base-url`); `--fake` points any command at an embedded, in-memory FakeDyte instead.
Results go to stdout (one JSON object per line with `--json`); the progress bar, the
final summary and errors go to stderr.

Exit status: 0 when everything succeeded, 1 when some item (or the command) failed, 2 for
bad usage or configuration. Stream keys and tokens are redacted unless `--show-secrets`.
"""

from __future__ import annotations

import argparse
import datetime
import enum
import json
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TextIO

import anyio

from dyte_async._client import AsyncDyte
from dyte_async._convert import converter
from dyte_async._fanout import Outcome
from dyte_async._poller import DEFAULT_WAIT_TIMEOUT
from dyte_async.errors import (
    APIStatusError,
    ConfigurationError,
    DyteError,
    InvalidArgumentError,
)
from dyte_async.models import Livestream, LivestreamStatus
from dyte_async.resources.livestreams import _check_name

__all__ = ["emit", "main", "read_ids", "to_jsonable"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
REDACTED = "<redacted>"
_SECRET_FIELDS = frozenset({"stream_key", "token"})
_FAN_OUT_ACTIONS = ("start", "stop", "status", "wait")
DEFAULT_CONCURRENCY = 20


class _UsageError(Exception):
    """Bad usage found after parsing (exit status 2)."""


# -- arguments -------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str, *, allow_zero: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (0 <= value < float("inf")) or (value == 0 and not allow_zero):
        least = "0 or more" if allow_zero else "a positive number"
        raise argparse.ArgumentTypeError(f"must be {least}, got {text}")
    return value


def _positive_float(text: str) -> float:
    return _seconds(text)


def _non_negative_float(text: str) -> float:
    return _seconds(text, allow_zero=True)


def _add_common(parser: argparse.ArgumentParser, *, top: bool, api: bool = True) -> None:
    # On the top parser the options get their defaults; on the sub-commands they are
    # SUPPRESSed so that `dyte-async --json meetings list` is not undone by the sub-parser.
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    if api:
        parser.add_argument(
            "--base-url",
            default=default(None),
            help="API base URL (default: DYTE_BASE_URL, else https://api.dyte.io/v2)",
        )
        parser.add_argument(
            "--fake",
            action="store_true",
            default=default(False),
            help="run against an embedded, in-memory fake Dyte (no network, no credentials)",
        )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="one JSON object per line"
    )
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        default=default(False),
        help="print stream keys and tokens as they are (default: redacted)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=default(None),
        help=f"seconds per call (for `wait`: per meeting, default {DEFAULT_WAIT_TIMEOUT:g})",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dyte-async",
        description="Dyte livestreams from the shell. Credentials: DYTE_ORG_ID, DYTE_API_KEY.",
        epilog="Exit status: 0 all succeeded, 1 some failed, 2 bad usage or configuration.",
    )
    _add_common(parser, top=True)
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, top=False)
    output = argparse.ArgumentParser(add_help=False)
    _add_common(output, top=False, api=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        parents=[output],
        help="the whole flow on the embedded fake (no credentials needed)",
        description="Create a meeting, start its livestream, watch it go LIVE, print the "
        "playback URL and stop it, all against an embedded fake Dyte.",
    )
    demo.add_argument(
        "--fake", action="store_true", default=argparse.SUPPRESS, help="(always so for the demo)"
    )
    demo.add_argument(
        "--meetings", type=_positive_int, default=1, help="meetings at once (the fan-out path)"
    )
    demo.add_argument(
        "--go-live-after",
        type=_non_negative_float,
        default=1.5,
        help="seconds the fake takes to go LIVE (default 1.5)",
    )

    ls = sub.add_parser("livestreams", help="livestream commands").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    for action, text in (
        ("start", "start livestreaming meetings"),
        ("stop", "stop meetings' livestreams"),
        ("status", "show meetings' active livestreams"),
        ("wait", "wait until meetings' livestreams are LIVE"),
    ):
        cmd = ls.add_parser(action, parents=[common], help=text, description=text + ".")
        cmd.add_argument("meeting_ids", nargs="*", metavar="MEETING_ID")
        cmd.add_argument(
            "--from-file",
            metavar="FILE",
            help="read meeting ids, one per line or in a CSV's first column ('-': stdin)",
        )
        cmd.add_argument(
            "--concurrency",
            type=_positive_int,
            default=None,
            help=(
                "meetings waited on at once (default: all; their polls are shared)"
                if action == "wait"
                else f"meetings at once (default {DEFAULT_CONCURRENCY})"
            ),
        )
        if action == "start":
            cmd.add_argument("--name", help="livestream name (letters, digits, '-', '_')")
        if action == "wait":
            cmd.add_argument(
                "--poll-interval", type=_positive_float, default=None, help="seconds between polls"
            )
    lst = ls.add_parser("list", parents=[common], help="list the organization's livestreams")
    lst.add_argument(
        "--status",
        type=str.upper,
        choices=[s.value for s in LivestreamStatus],
        help="only livestreams in this status",
    )
    lst.add_argument("--limit", type=_positive_int, default=None, help="at most this many")

    mt = sub.add_parser("meetings", help="meeting commands").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    ml = mt.add_parser("list", parents=[common], help="list meetings")
    ml.add_argument("--search", help="match meeting id or title")
    ml.add_argument("--limit", type=_positive_int, default=None, help="at most this many")
    mc = mt.add_parser("create", parents=[common], help="create a meeting")
    mc.add_argument("--title", required=True)
    mc.add_argument(
        "--live-stream-on-start", action="store_true", help="livestream when the meeting starts"
    )
    return parser


# -- entry point -----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: `sys.argv[1:]`).

    Returns:
        The exit status: 0 all succeeded, 1 some failed, 2 bad usage or configuration.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        ids = _check_usage(args)
        return anyio.run(_dispatch, args, ids)
    except (_UsageError, ConfigurationError, InvalidArgumentError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:  # pragma: no cover - interactive
        _error("interrupted")
        return 130


def _check_usage(args: argparse.Namespace) -> list[str]:
    """Check what argparse cannot; return the meeting ids of a fan-out command."""
    if args.fake and args.base_url:
        raise _UsageError("--fake and --base-url do not go together")
    if args.command == "demo" and args.base_url:
        raise _UsageError("demo always runs on the embedded fake; --base-url does not apply")
    if args.command == "livestreams" and args.action in _FAN_OUT_ACTIONS:
        if args.action == "start":
            _check_name(args.name)  # InvalidArgumentError: usage, before anything is sent
        return _meeting_ids(args)
    return []


async def _dispatch(args: argparse.Namespace, ids: list[str]) -> int:
    if args.command == "demo":
        from dyte_async._demo import run_demo

        return await run_demo(
            meetings=args.meetings,
            go_live_after=args.go_live_after,
            timeout=args.timeout,
            as_json=args.json,
            show_secrets=args.show_secrets,
        )
    async with _client(args) as dyte:
        try:
            if args.command == "livestreams" and args.action in _FAN_OUT_ACTIONS:
                return await _fan_out(dyte, args, ids)
            return await _single(dyte, args)
        except (ConfigurationError, InvalidArgumentError):
            raise
        except DyteError as exc:
            _error(_describe(exc))
            return EXIT_FAILED


async def _single(dyte: AsyncDyte, args: argparse.Namespace) -> int:
    timeout = args.timeout
    if args.command == "livestreams":  # list
        livestreams = dyte.livestreams.list(status=args.status, per_page=100, timeout=timeout)
        return _print_items(await livestreams.to_list(args.limit), args, kind="livestreams")
    if args.action == "list":
        meetings = dyte.meetings.list(search=args.search, per_page=100, timeout=timeout)
        return _print_items(await meetings.to_list(args.limit), args, kind="meetings")
    meeting = await dyte.meetings.create(
        title=args.title, live_stream_on_start=args.live_stream_on_start or None, timeout=timeout
    )
    return _print_items([meeting], args, kind="meetings")


@asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncIterator[AsyncDyte]:
    if args.fake:
        from dyte_async.testing import FakeDyte

        async with FakeDyte().client() as dyte:
            yield dyte
        return
    async with AsyncDyte(base_url=args.base_url) as dyte:
        yield dyte


# -- meeting ids -----------------------------------------------------------------------


def _meeting_ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.meeting_ids)
    if args.from_file == "-":
        ids.extend(read_ids(sys.stdin))
    elif args.from_file:
        try:
            with open(args.from_file, encoding="utf-8") as fh:
                ids.extend(read_ids(fh))
        except (OSError, UnicodeDecodeError) as exc:
            raise _UsageError(f"cannot read {args.from_file}: {exc}") from None
    if not ids:
        raise _UsageError("no meeting ids: pass MEETING_ID... or --from-file FILE")
    return list(dict.fromkeys(ids))  # each meeting once, in the order given


def read_ids(lines: Iterable[str]) -> list[str]:
    """Meeting ids from lines: one per line, or a CSV's first column.

    Blank lines, `#` comments and a `meeting_id` header are skipped.
    """
    out: list[str] = []
    for line in lines:
        text = line.split("#", 1)[0].split(",", 1)[0].strip().strip('"').strip()
        is_header = not out and text.lower() == "meeting_id"
        if text and not is_header:
            out.append(text)
    return out


# -- fan-out ---------------------------------------------------------------------------


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
    with _Progress(len(ids), label=args.action, enabled=_is_terminal(sys.stderr)) as progress:
        async with dyte.map(_action(dyte, args), ids, concurrency=concurrency) as outcomes:
            async for outcome in outcomes:
                if outcome.ok:
                    succeeded += 1
                else:
                    failures[type(outcome.error).__name__] += 1
                _print_outcome(outcome, args)
                progress.advance(failed=not outcome.ok)
    failed = sum(failures.values())
    elapsed = round(time.monotonic() - started, 3)
    if args.json:
        summary = {
            "succeeded": succeeded,
            "failed": failed,
            "errors": dict(failures.most_common()),
            "seconds": elapsed,
        }
        emit(json.dumps({"summary": summary}), sys.stderr)
    else:
        errors = ", ".join(f"{n} {name}" for name, n in failures.most_common())
        emit(
            f"{args.action}: {succeeded} succeeded, {failed} failed"
            + (f" ({errors})" if errors else "")
            + f" in {elapsed:.1f}s",
            sys.stderr,
        )
    return EXIT_FAILED if failed else EXIT_OK


def _print_outcome(outcome: Outcome[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        record: dict[str, Any] = {"meeting_id": outcome.item, "ok": outcome.ok}
        if outcome.error is None:
            record["result"] = to_jsonable(outcome.result, show_secrets=args.show_secrets)
        else:
            record["error"] = _error_record(outcome.error)
        emit(json.dumps(record))
    elif outcome.error is not None:
        emit(f"{outcome.item}: FAILED {_describe(outcome.error)}")
    elif isinstance(outcome.result, Livestream):
        ls = outcome.result
        emit(f"{outcome.item}: {ls.status} livestream {ls.id} {ls.playback_url or ''}".rstrip())
    else:
        emit(f"{outcome.item}: {outcome.result}")


def _error_record(error: BaseException) -> dict[str, Any]:
    record: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, APIStatusError):
        record["status_code"] = error.status_code
    return record


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# -- output ----------------------------------------------------------------------------


def to_jsonable(value: Any, *, show_secrets: bool = False) -> Any:
    """A model (or anything) as plain JSON data, with secrets redacted at any depth.

    Args:
        value: an attrs model, a container of them, or plain data.
        show_secrets: keep `stream_key` and `token` as they are.
    """
    return _plain(converter.unstructure(value), show_secrets)


def _plain(data: Any, show_secrets: bool) -> Any:
    if isinstance(data, dict):
        return {
            str(k): (
                REDACTED
                if k in _SECRET_FIELDS and v and not show_secrets
                else _plain(v, show_secrets)
            )
            for k, v in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [_plain(v, show_secrets) for v in data]
    if isinstance(data, enum.Enum):
        return data.value
    if isinstance(data, (datetime.datetime, datetime.date)):
        return data.isoformat()
    return data


_TEXT_FIELDS = {
    "meetings": ("id", "status", "title", "created_at"),
    "livestreams": ("id", "status", "name", "meeting_id", "playback_url"),
}


def _print_items(items: Sequence[Any], args: argparse.Namespace, *, kind: str) -> int:
    for item in items:
        data = to_jsonable(item, show_secrets=args.show_secrets)
        if args.json:
            emit(json.dumps(data))
        else:
            emit("  ".join(str(data.get(f) or "-") for f in _TEXT_FIELDS[kind]))
    if not args.json:
        emit(f"{kind}: {len(items)}", sys.stderr)
    return EXIT_OK


def emit(line: str, stream: TextIO | None = None) -> None:
    """Print one line; a reader that went away (`| head`) does not stop the work."""
    stream = stream if stream is not None else sys.stdout
    try:
        print(line, file=stream, flush=True)
    except BrokenPipeError:
        # Point the closed stream at /dev/null so later writes (and the flush at exit)
        # are silent, and carry on: a half-done batch of starts or stops is worse.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _error(message: str) -> None:
    emit(f"dyte-async: {message}", sys.stderr)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


class _Progress:
    """A progress bar on stderr when it is a terminal (with `rich`, the `cli` extra)."""

    def __init__(self, total: int, *, label: str, enabled: bool) -> None:
        self._total = total
        self._label = label
        self._enabled = enabled
        self._failed = 0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if not self._enabled:
            return self
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )
        except ImportError:  # pragma: no cover - rich is in the cli extra
            return self
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            # Lines printed to stdout go above the bar when both are the terminal; when
            # stdout is a file or a pipe they must go there, not to the bar's stderr.
            redirect_stdout=_is_terminal(sys.stdout),
        )
        self._bar.__enter__()
        self._task = self._bar.add_task(self._label, total=self._total, failed=0)
        return self

    def advance(self, *, failed: bool) -> None:
        self._failed += failed
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self._failed)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
