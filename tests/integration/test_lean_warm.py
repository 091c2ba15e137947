"""Warm start: `async with AsyncDyte(...)` makes what the first call would otherwise make
(aiohttp imported and the lean lane's session opened, the livestream resource imported,
the hot decoders generated), and `import dyte_async` still imports none of it. Fresh
interpreters, no network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import asyncio, json, sys
import dyte_async
after_import = {m: m in sys.modules for m in WATCHED}

async def main():
    async with dyte_async.AsyncDyte("org", "key", base_url="http://127.0.0.1:9/v2") as dyte:
        lane = dyte._pipeline.lean
        opened = {m: m in sys.modules for m in WATCHED}
        return opened, lane is not None and lane.session is not None

opened, session = asyncio.run(main())
print(json.dumps({"after_import": after_import, "opened": opened, "session": session}))
"""
WATCHED = ["aiohttp", "dyte_async.resources.livestreams", "dyte_async._convert", "cattrs"]


def run() -> dict[str, object]:
    code = f"WATCHED = {WATCHED!r}\n" + PROGRAM
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_opening_the_client_warms_what_the_first_call_needs() -> None:
    result = run()
    assert result["after_import"] == dict.fromkeys(WATCHED, False)
    assert result["opened"] == dict.fromkeys(WATCHED, True)
    assert result["session"] is True
