"""The `dyte-async` command line: a demo on the embedded fake, and fan-out over meetings.

Exit status: 0 when everything succeeded, 1 when some item failed, 2 for bad usage or
configuration. Stream keys and tokens are redacted from output unless `--show-secrets`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TextIO

import anyio

from dyte_async._client import AsyncDyte
from dyte_async._convert import converter
from dyte_async._fanout import Outcome
from dyte_async.errors import ConfigurationError
from dyte_async.models import Livestream, LivestreamStatus

__all__ = ["main"]

_SECRET_FIELDS = frozenset({"stream_key", "token"})
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", help="API base URL (default: DYTE_BASE_URL or Dyte's)")
    common.add_argument(
        "--fake", action="store_true", help="run against an embedded fake Dyte (no network)"
    )
    common.add_argument("--json", action="store_true", help="one JSON object per line")
    common.add_argument(
        "--show-secrets", action="store_true", help="print stream keys and tokens as they are"
    )
    common.add_argument("--timeout", type=float, default=None, help="seconds per call / wait")

    parser = argparse.ArgumentParser(
        prog="dyte-async", description="Dyte / RealtimeKit livestreams from the shell."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", parents=[common], help="the whole flow on the embedded fake")
    demo.add_argument("--meetings", type=int, default=1, help="meetings to run at once")
    demo.add_argument(
        "--go-live-after", type=float, default=1.5, help="seconds the fake takes to go LIVE"
    )

    ls = sub.add_parser("livestreams", help="livestream commands").add_subparsers(
        dest="action", required=True
    )
    for action, text in (
        ("start", "start livestreaming meetings"),
        ("stop", "stop livestreaming meetings"),
        ("status", "show meetings' active livestreams"),
        ("wait", "wait until meetings' livestreams are LIVE"),
    ):
        cmd = ls.add_parser(action, parents=[common], help=text)
        cmd.add_argument("meeting_ids", nargs="*", metavar="MEETING_ID")
        cmd.add_argument(
            "--from-file", metavar="FILE", help="read meeting ids, one per line ('-': stdin)"
        )
        cmd.add_argument("--concurrency", type=int, default=20, help="meetings at once")
        if action == "start":
            cmd.add_argument("--name", help="livestream name")
    lst = ls.add_parser("list", parents=[common], help="list the organization's livestreams")
    lst.add_argument("--status", help="only this status (LIVE, IDLE, ...)")
    lst.add_argument("--limit", type=int, default=None)

    mt = sub.add_parser("meetings", help="meeting commands").add_subparsers(
        dest="action", required=True
    )
    ml = mt.add_parser("list", parents=[common], help="list meetings")
    ml.add_argument("--search")
    ml.add_argument("--limit", type=int, default=None)
    mc = mt.add_parser("create", parents=[common], help="create a meeting")
    mc.add_argument("--title", required=True)
    mc.add_argument("--live-stream-on-start", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line. Returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return anyio.run(_dispatch, args)
    except ConfigurationError as exc:
        print(f"dyte-async: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 130


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from dyte_async._demo import run_demo

        return await run_demo(
            meetings=args.meetings,
            go_live_after=args.go_live_after,
            as_json=args.json,
            show_secrets=args.show_secrets,
        )
    async with _client(args) as dyte:
        if args.command == "livestreams" and args.action in ("start", "stop", "status", "wait"):
            ids = _meeting_ids(args)
            if args.concurrency < 1:
                raise ConfigurationError("--concurrency must be at least 1")
            return await _fan_out(dyte, args, ids)
        if args.command == "livestreams":
            status = LivestreamStatus(args.status.upper()) if args.status else None
            items = await dyte.livestreams.list(status=status, per_page=100).to_list(args.limit)
            return _print_items(items, args)
        if args.action == "list":
            meetings = await dyte.meetings.list(search=args.search, per_page=100).to_list(
                args.limit
            )
            return _print_items(meetings, args)
        meeting = await dyte.meetings.create(
            title=args.title, live_stream_on_start=args.live_stream_on_start or None
        )
        return _print_items([meeting], args)


@asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncIterator[AsyncDyte]:
    if args.fake:
        from dyte_async.testing import FakeDyte

        fake = FakeDyte()
        async with fake.client() as dyte:
            yield dyte
        return
    async with AsyncDyte(base_url=args.base_url) as dyte:
        yield dyte


def _meeting_ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.meeting_ids)
    if args.from_file:
        if args.from_file == "-":
            ids.extend(_read_ids(sys.stdin))
        else:
            try:
                with open(args.from_file, encoding="utf-8") as fh:
                    ids.extend(_read_ids(fh))
            except OSError as exc:
                raise ConfigurationError(f"cannot read {args.from_file}: {exc}") from None
    if not ids:
        raise ConfigurationError("no meeting ids: pass MEETING_ID... or --from-file")
    return ids


def _read_ids(fh: TextIO) -> list[str]:
    out = []
    for line in fh:
        text = line.split("#", 1)[0].strip().split(",", 1)[0].strip()
        if text:
            out.append(text)
    return out


def _action(dyte: AsyncDyte, args: argparse.Namespace) -> Callable[[str], Awaitable[Any]]:
    ls = dyte.livestreams
    timeout = args.timeout
    if args.action == "start":
        return lambda mid: ls.start(mid, name=args.name, timeout=timeout)
    if args.action == "stop":
        return lambda mid: ls.stop(mid, timeout=timeout)
    if args.action == "status":
        return lambda mid: ls.get_active(mid, timeout=timeout)
    wait_timeout = timeout if timeout is not None else 300.0
    return lambda mid: ls.wait_until_live(mid, timeout=wait_timeout)


async def _fan_out(dyte: AsyncDyte, args: argparse.Namespace, ids: list[str]) -> int:
    progress = _Progress(len(ids), enabled=not args.json and sys.stderr.isatty())
    failures: Counter[str] = Counter()
    ok = 0
    with progress:
        async with dyte.map(_action(dyte, args), ids, concurrency=args.concurrency) as outcomes:
            async for outcome in outcomes:
                if outcome.ok:
                    ok += 1
                else:
                    failures[type(outcome.error).__name__] += 1
                _print_outcome(outcome, args)
                progress.advance(failed=not outcome.ok)
    summary = {"succeeded": ok, "failed": sum(failures.values()), "errors": dict(failures)}
    if args.json:
        print(json.dumps({"summary": summary}), file=sys.stderr)
    else:
        errors = ", ".join(f"{n} {name}" for name, n in failures.most_common())
        print(
            f"done: {ok} succeeded, {summary['failed']} failed"
            + (f" ({errors})" if errors else ""),
            file=sys.stderr,
        )
    return EXIT_OK if not failures else EXIT_FAILED


def to_jsonable(value: Any, *, show_secrets: bool = False) -> Any:
    """A model (or anything) as plain JSON data, with secrets redacted."""
    data = converter.unstructure(value)
    if isinstance(data, dict):
        return {
            k: ("<redacted>" if k in _SECRET_FIELDS and v and not show_secrets else v)
            for k, v in data.items()
        }
    return data


def _print_outcome(outcome: Outcome[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        record: dict[str, Any] = {"meeting_id": outcome.item, "ok": outcome.ok}
        if outcome.ok:
            record["result"] = to_jsonable(outcome.result, show_secrets=args.show_secrets)
        else:
            record["error"] = {"type": type(outcome.error).__name__, "message": str(outcome.error)}
        print(json.dumps(record, default=str), flush=True)
        return
    if not outcome.ok:
        print(f"{outcome.item}: FAILED {type(outcome.error).__name__}: {outcome.error}", flush=True)
    elif isinstance(outcome.result, Livestream):
        ls = outcome.result
        print(f"{outcome.item}: {ls.status} {ls.playback_url or ''}".rstrip(), flush=True)
    else:
        print(f"{outcome.item}: {outcome.result}", flush=True)


def _print_items(items: Sequence[Any], args: argparse.Namespace) -> int:
    for item in items:
        data = to_jsonable(item, show_secrets=args.show_secrets)
        if args.json:
            print(json.dumps(data, default=str))
        else:
            fields = ("id", "status", "title", "name", "meeting_id", "playback_url")
            print("  ".join(str(data[f]) for f in fields if isinstance(data, dict) and data.get(f)))
    return EXIT_OK


class _Progress:
    """A progress bar on a terminal (rich, when installed); nothing otherwise."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._total = total
        self._bar: Any = None
        self._task: Any = None
        self._enabled = enabled
        self._started = time.monotonic()

    def __enter__(self) -> _Progress:
        if not self._enabled:
            return self
        try:
            from rich.progress import Progress
        except ImportError:  # pragma: no cover - rich is in the cli extra
            return self
        self._bar = Progress(transient=True)
        self._bar.__enter__()
        self._task = self._bar.add_task("meetings", total=self._total)
        return self

    def advance(self, *, failed: bool) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
