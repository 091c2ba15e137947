"""The CLI's arguments: the parser, and what argparse cannot check (exit status 2)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any, Final

from dyte_async._checks import check_livestream_name
from dyte_async._poller import DEFAULT_WAIT_TIMEOUT
from dyte_async._ratelimit import RateLimit
from dyte_async._version import __version__
from dyte_async.cli.hints import BASE_URL_VARIABLE, check_base_url, missing_credentials
from dyte_async.cli.ids import IdsFileError, read_ids
from dyte_async.errors import ConfigurationError
from dyte_async.models import LivestreamStatus

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FAN_OUT_ACTIONS",
    "RATE_LIMIT_OFF",
    "UsageError",
    "build_parser",
    "check_usage",
    "is_fan_out",
    "read_ids",
]

#: The livestream actions that run once per meeting id, through `dyte.map`.
FAN_OUT_ACTIONS = ("start", "stop", "status", "wait")
DEFAULT_CONCURRENCY = 20
#: `--rate-limit off`: no client-side limit.
RATE_LIMIT_OFF: Final = "off"


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


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


_RATE = re.compile(r"^\s*(\d+)\s*/\s*([0-9.]+)\s*s?\s*$")


def _rate_limit(text: str) -> RateLimit | str:
    """`N/SECONDS` (`2000/60`, `100/10s`) or `off`."""
    if text.strip().lower() in (RATE_LIMIT_OFF, "none"):
        return RATE_LIMIT_OFF
    match = _RATE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected N/SECONDS (e.g. 2000/60) or off, got {text!r}")
    try:
        return RateLimit(int(match.group(1)), per=float(match.group(2)))
    except (ConfigurationError, ValueError):
        raise argparse.ArgumentTypeError(
            f"expected N/SECONDS with N and SECONDS above 0, got {text!r}"
        ) from None


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
            "--org-id",
            default=default(None),
            help="organization id (default: DYTE_ORG_ID; the API key only from DYTE_API_KEY)",
        )
        parser.add_argument(
            "--max-retries",
            type=_non_negative_int,
            default=default(None),
            metavar="N",
            help="retries of a failed call (default 2; 0: none)",
        )
        parser.add_argument(
            "--rate-limit",
            type=_rate_limit,
            default=default(None),
            metavar="N/SECONDS",
            help="at most N requests per SECONDS from this run (default 2000/60, Dyte's "
            "limit; `off`: none)",
        )
        parser.add_argument(
            "--allow-insecure-http",
            action="store_true",
            default=default(False),
            help="allow a plain http:// base URL to a host other than this machine "
            "(credentials then travel in clear text)",
        )
        parser.add_argument(
            "--proxy",
            default=default(None),
            metavar="URL",
            help="send every request through this http(s) proxy (default: HTTPS_PROXY / "
            "HTTP_PROXY / ALL_PROXY unless NO_PROXY; put credentials in those variables "
            "rather than on the command line)",
        )
        parser.add_argument(
            "--redis-url",
            default=default(None),
            metavar="URL",
            help="share the rate limit (and waits) with every other process using this Redis "
            "(default: DYTE_REDIS_URL; needs the [redis] extra)",
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
    parser.add_argument("--version", action="version", version=f"dyte-async {__version__}")
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
            help="read meeting ids: one per line, or a CSV's `meeting_id` column (its first "
            "column when no header names one); '-': stdin",
        )
        cmd.add_argument(
            "--failed-out",
            metavar="FILE",
            help="write the meetings that failed or did not run to FILE (a CSV with a "
            "`meeting_id` column): rerun them with --from-file FILE",
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
        UsageError: options that do not go together, no meeting ids, an unreadable file,
            a base URL without a scheme, missing credentials (said in CLI words).
        InvalidArgumentError: a bad livestream `--name` (before anything is sent).
    """
    if args.fake and args.base_url:
        raise UsageError("--fake and --base-url do not go together")
    if args.command == "demo" and args.base_url:
        raise UsageError("demo always runs on the embedded fake; --base-url does not apply")
    ids: list[str] = []
    if is_fan_out(args):
        _check_failed_out(args.failed_out)
        if args.action == "start":
            check_livestream_name(args.name)
        ids = _meeting_ids(args)
    if args.command != "demo" and not args.fake:
        _check_api_settings(args)
    return ids


def _check_api_settings(args: argparse.Namespace) -> None:
    if args.base_url is not None:
        problem = check_base_url(args.base_url, "--base-url")
    else:
        env_url = os.environ.get(BASE_URL_VARIABLE)
        problem = check_base_url(env_url, BASE_URL_VARIABLE) if env_url else None
    problem = problem or missing_credentials(args.org_id, os.environ)
    if problem:
        raise UsageError(problem)


def _check_failed_out(path: str | None) -> None:
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--failed-out {path}: is a directory")
    if not target.parent.is_dir():
        raise UsageError(f"--failed-out {path}: no such directory {str(target.parent)!r}")


def _meeting_ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.meeting_ids)
    try:
        if args.from_file == "-":
            ids.extend(read_ids(sys.stdin))
        elif args.from_file:
            with open(args.from_file, encoding="utf-8") as fh:
                ids.extend(read_ids(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {args.from_file}: {exc}") from None
    except IdsFileError as exc:
        raise UsageError(f"{args.from_file}: {exc}") from None
    if not ids:
        raise UsageError("no meeting ids: pass MEETING_ID... or --from-file FILE")
    return list(dict.fromkeys(ids))  # each meeting once, in the order given
