"""The CLI's arguments: the parser, and what argparse cannot check (exit status 2)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any

from dyte_async._checks import check_livestream_name
from dyte_async._poller import DEFAULT_WAIT_TIMEOUT
from dyte_async.models import LivestreamStatus

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FAN_OUT_ACTIONS",
    "UsageError",
    "build_parser",
    "check_usage",
    "is_fan_out",
    "read_ids",
]

#: The livestream actions that run once per meeting id, through `dyte.map`.
FAN_OUT_ACTIONS = ("start", "stop", "status", "wait")
DEFAULT_CONCURRENCY = 20


class UsageError(Exception):
    """Bad usage found after parsing (exit status 2)."""


# -- argument types ----------------------------------------------------------------------


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


# -- the parser --------------------------------------------------------------------------


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


def build_parser() -> argparse.ArgumentParser:
    """The `dyte-async` parser, with its sub-commands."""
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
    _add_demo(sub, output)
    _add_livestreams(sub, common)
    _add_meetings(sub, common)
    return parser


def _add_demo(sub: Any, output: argparse.ArgumentParser) -> None:
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


def _add_livestreams(sub: Any, common: argparse.ArgumentParser) -> None:
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


def _add_meetings(sub: Any, common: argparse.ArgumentParser) -> None:
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


# -- after parsing -----------------------------------------------------------------------


def is_fan_out(args: argparse.Namespace) -> bool:
    """True for the livestream actions that run once per meeting id."""
    return bool(args.command == "livestreams" and args.action in FAN_OUT_ACTIONS)


def check_usage(args: argparse.Namespace) -> list[str]:
    """Check what argparse cannot; return the meeting ids of a fan-out command.

    Raises:
        UsageError: options that do not go together, no meeting ids, an unreadable file.
        InvalidArgumentError: a bad livestream `--name` (before anything is sent).
    """
    if args.fake and args.base_url:
        raise UsageError("--fake and --base-url do not go together")
    if args.command == "demo" and args.base_url:
        raise UsageError("demo always runs on the embedded fake; --base-url does not apply")
    if is_fan_out(args):
        if args.action == "start":
            check_livestream_name(args.name)
        return _meeting_ids(args)
    return []


def _meeting_ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.meeting_ids)
    if args.from_file == "-":
        ids.extend(read_ids(sys.stdin))
    elif args.from_file:
        try:
            with open(args.from_file, encoding="utf-8") as fh:
                ids.extend(read_ids(fh))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {args.from_file}: {exc}") from None
    if not ids:
        raise UsageError("no meeting ids: pass MEETING_ID... or --from-file FILE")
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
