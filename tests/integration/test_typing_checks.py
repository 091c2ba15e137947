"""pyright on the typing test files (expected errors included) and on the package's types.

`tests/typing/*.py` are type-checked only: mypy checks them with the project (`mypy`),
pyright here with `tests/typing/pyrightconfig.json` (strict; an ignore comment that is not
needed is an error, so every expected error must still be one). `--verifytypes` reports
the package's public types: none of the modules listed in `CLEAN` may have an error.
Skipped, with the reason printed by `-ra`, when pyright is not installed (the `dev` extra
has it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyright", reason="pyright is not installed: `pip install -e .[dev]`")

ROOT = Path(__file__).resolve().parents[2]
#: Modules whose public types must all be known to pyright.
CLEAN = (
    "dyte_async.models",
    "dyte_async.errors",
    "dyte_async.cli",
    "dyte_async.resources._fields",
    "dyte_async.resources.meetings.Meetings.create",
    "dyte_async.resources.meetings.Meetings.update",
    "dyte_async.resources.meetings.Meetings.replace",
    "dyte_async.resources.participants.Participants.update",
    "dyte_async.resources.presets.Presets.create",
    "dyte_async.resources.presets.Presets.update",
    "dyte_async._client.AsyncDyte.realtimekit",
    "dyte_async._client_options",
)


def pyright(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_typing_files_pass_pyright_strict_with_every_expected_error() -> None:
    done = pyright("-p", "tests/typing", "--outputjson")
    report = json.loads(done.stdout)
    problems = [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
    ]
    assert problems == []
    assert report["summary"]["filesAnalyzed"] >= 2
    assert done.returncode == 0


def test_verifytypes_finds_nothing_unknown_in_the_typed_modules() -> None:
    done = pyright("--verifytypes", "dyte_async", "--ignoreexternal", "--outputjson")
    report = json.loads(done.stdout)["typeCompleteness"]
    print(f"pyright --verifytypes dyte_async: {report['completenessScore']:.1%}")
    unclean = sorted(
        symbol["name"]
        for symbol in report["symbols"]
        if symbol["diagnostics"] and symbol["name"].startswith(CLEAN)
    )
    assert unclean == []
