"""`python -m dyte_async.testing`: run a FakeDyte on a local port until Ctrl-C."""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Sequence

import anyio

from dyte_async.testing._fake import FakeDyte

__all__ = ["main"]


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
    parser.add_argument("--org-id", default="fake-org-id")
    parser.add_argument("--api-key", default="fake-api-key")
    parser.add_argument("--api-token", default="fake-rtk-token")
    parser.add_argument("--no-rate-limit", action="store_true", help="turn the 2000/min limit off")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake server until interrupted.

    Args:
        argv: the arguments (default: `sys.argv[1:]`).

    Returns:
        The exit status.
    """
    args = _parser().parse_args(argv)
    go_live_after = None if args.go_live_after < 0 else args.go_live_after
    fake = FakeDyte(
        org_id=args.org_id,
        api_key=args.api_key,
        api_token=args.api_token,
        go_live_after=go_live_after,
        offline_after=None if go_live_after is None else min(0.2, go_live_after),
        rate_limit=None if args.no_rate_limit else (2000, 60.0),
    )

    async def run() -> None:
        async with fake.serve(args.host, args.port) as base_url:
            basic = base64.b64encode(f"{fake.org_id}:{fake.api_key}".encode()).decode()
            print(f"FakeDyte serving at {base_url}", flush=True)
            print(f"  DYTE_BASE_URL={base_url}")
            print(f"  DYTE_ORG_ID={fake.org_id}")
            print(f"  DYTE_API_KEY={fake.api_key}")
            print(f"  Authorization: Basic {basic}")
            print("Press Ctrl-C to stop.", flush=True)
            await anyio.sleep_forever()

    try:
        anyio.run(run)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
