"""`python -m dyte_async.testing`: run a FakeDyte on a local port until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from dyte_async.testing._fake import REALTIMEKIT_PATH, FakeDyte

__all__ = ["banner", "build_fake", "main", "serve_options"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dyte_async.testing",
        description="Serve a fake Dyte v2 API (in memory) on a local port.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--go-live-after",
        type=float,
        default=1.0,
        help="seconds from start to LIVE (negative: only via set_status; default 1.0)",
    )
    parser.add_argument(
        "--org-id", help="accept only this org id (with --api-key; default: any credentials)"
    )
    parser.add_argument("--api-key", help="accept only this API key (default: any)")
    parser.add_argument("--api-token", help="accept only this RealtimeKit token (default: any)")
    parser.add_argument(
        "--strict-auth",
        action="store_true",
        help="accept only the fake's own credentials (fake-org-id:fake-api-key by default)",
    )
    parser.add_argument("--no-rate-limit", action="store_true", help="turn the 2000/min limit off")
    limits = parser.add_argument_group("server limits")
    limits.add_argument(
        "--max-body-bytes", type=int, default=1024 * 1024, help="largest request body (1 MiB)"
    )
    limits.add_argument(
        "--header-timeout", type=float, default=10.0, help="seconds for a head, or a body (10)"
    )
    limits.add_argument(
        "--idle-timeout", type=float, default=30.0, help="seconds a keep-alive may idle (30)"
    )
    limits.add_argument(
        "--max-connections", type=int, default=1024, help="connections served at once (1024)"
    )
    limits.add_argument(
        "--request-log-size", type=int, default=10_000, help="requests remembered (10000)"
    )
    parser.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="URL",
        help="POST signed livestreaming.statusUpdate webhooks to URL (loopback; repeatable)",
    )
    parser.add_argument(
        "--webhook-flavor",
        choices=("dyte", "realtimekit"),
        default="dyte",
        help="dyte-* or rtk-* headers and payload (default: dyte)",
    )
    return parser


def build_fake(argv: Sequence[str] | None = None) -> FakeDyte:
    """The fake the command line describes (webhooks registered).

    Args:
        argv: the arguments (default: `sys.argv[1:]`).

    Returns:
        The fake, not serving yet.
    """
    parser = _parser()
    return _build(parser, parser.parse_args(argv))


def _fake(args: argparse.Namespace, go_live_after: float | None) -> FakeDyte:
    return FakeDyte(
        org_id=args.org_id,
        api_key=args.api_key,
        api_token=args.api_token,
        strict_auth=True if args.strict_auth else None,
        go_live_after=go_live_after,
        offline_after=None if go_live_after is None else min(0.2, go_live_after),
        rate_limit=None if args.no_rate_limit else (2000, 60.0),
        request_log_size=args.request_log_size,
    )


def _build(parser: argparse.ArgumentParser, args: argparse.Namespace) -> FakeDyte:
    go_live_after = None if args.go_live_after < 0 else args.go_live_after
    try:
        fake = _fake(args, go_live_after)
    except ValueError as exc:
        parser.error(str(exc))
    for url in args.webhook:
        try:
            fake.add_webhook(url, flavor=args.webhook_flavor)
        except ValueError as exc:
            parser.error(f"--webhook {url}: {exc}")
    return fake


def serve_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `FakeDyte.serve` keyword arguments of the parsed command line."""
    return {
        "max_body_bytes": args.max_body_bytes,
        "header_timeout": args.header_timeout,
        "idle_timeout": args.idle_timeout,
        "max_connections": args.max_connections,
    }


def banner(
    fake: FakeDyte, base_url: str, *, webhooks: Sequence[str] = (), flavor: str = "dyte"
) -> list[str]:
    """The lines printed when the served fake starts.

    Args:
        fake: the fake being served.
        base_url: its v2 base URL (what `serve()` yielded).
        webhooks: the webhook receivers registered.
        flavor: their flavor.

    Returns:
        The lines: both base URLs, the credentials accepted, the environment for the CLI
        and the library, a curl example, the webhook key URL.
    """
    origin = base_url.removesuffix("/v2")
    realtimekit = origin + REALTIMEKIT_PATH
    if fake.strict_auth:
        accepted = [
            f"  credentials:  only org {fake.org_id!r} with its API key on /v2 "
            "(Basic base64(org_id:api_key)),",
            "                and only its Bearer token on RealtimeKit (strict)",
        ]
        token = fake.api_token
    else:
        accepted = [
            "  credentials:  any on /v2 (Basic base64(org_id:api_key), both non-empty),",
            "                any Bearer token on RealtimeKit (--strict-auth to check them)",
        ]
        token = "any-token"
    lines = [
        f"FakeDyte serving at {base_url}",
        f"  Dyte v2 base URL:      {base_url}",
        f"  RealtimeKit base URL:  {realtimekit}",
        *accepted,
        f"  environment:  DYTE_BASE_URL={base_url} DYTE_ORG_ID={fake.org_id} "
        f"DYTE_API_KEY={fake.api_key}",
        f"  try:          curl -u {fake.org_id}:{fake.api_key} {base_url}/meetings",
        f"                curl -H 'Authorization: Bearer {token}' {realtimekit}/meetings",
        f"  webhook public key: {origin}/.well-known/webhooks.json",
    ]
    lines += [f"  webhooks ({flavor}) to {url}" for url in webhooks]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake server until interrupted.

    Args:
        argv: the arguments (default: `sys.argv[1:]`).

    Returns:
        The exit status.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    fake = _build(parser, args)

    async def run() -> None:
        async with fake.serve(args.host, args.port, **serve_options(args)) as base_url:
            for line in banner(fake, base_url, webhooks=args.webhook, flavor=args.webhook_flavor):
                print(line)
            print("Press Ctrl-C to stop.", flush=True)
            # Wait for SIGINT/SIGTERM as a signal, not as KeyboardInterrupt: on Python 3.10
            # anyio's asyncio runner turns Ctrl-C into a CancelledError traceback.
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    return

    try:
        with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C before the receiver is set
            anyio.run(run)
    except OSError as exc:  # e.g. a busy port: one line, no traceback
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a limit out of range
        parser.error(str(exc))
    print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
