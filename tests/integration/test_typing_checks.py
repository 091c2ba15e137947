"""pyright on the typing test files (expected errors included) and on the package's types.

`tests/typing/*.py` are type-checked only: mypy checks them with the project (`mypy`),
pyright here with `tests/typing/pyrightconfig.json` (strict; an ignore comment that is not
needed is an error, so every expected error must still be one). `--verifytypes` reports
the package's public types: none of the modules listed in `CLEAN` may have an error, and
the whole package none but the findings listed in `PENDING` (and the "partially unknown"
types that follow from them); with `PENDING` empty, the score must be 100 %.
Skipped, with the reason printed by `-ra`, when pyright is not installed (the `dev` extra
has it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
#: The only symbols `--verifytypes` may still find without a type of their own, by file
#: (each: the attribute's annotation is missing). Empty this list as they are annotated:
#: an entry that is no longer found fails the test, so the list can only shrink.
PENDING: dict[str, tuple[str, ...]] = {}


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


@pytest.fixture(scope="module")
def completeness() -> dict[str, Any]:
    """The `typeCompleteness` report of ``pyright --verifytypes dyte_async`` (run once)."""
    done = pyright("--verifytypes", "dyte_async", "--ignoreexternal", "--outputjson")
    report: dict[str, Any] = json.loads(done.stdout)["typeCompleteness"]
    print(f"pyright --verifytypes dyte_async: {report['completenessScore']:.1%}")
    return report


def errors(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(symbol, file relative to the repository or "", message) of every error found."""
    found = []
    for symbol in report["symbols"]:
        for diagnostic in symbol["diagnostics"]:
            if diagnostic["severity"] == "error":
                file = diagnostic.get("file", "")
                where = Path(file).resolve().relative_to(ROOT).as_posix() if file else ""
                found.append((symbol["name"], where, diagnostic["message"]))
    return found


def test_verifytypes_finds_nothing_unknown_in_the_typed_modules(
    completeness: dict[str, Any],
) -> None:
    unclean = sorted(
        symbol["name"]
        for symbol in completeness["symbols"]
        if symbol["diagnostics"] and symbol["name"].startswith(CLEAN)
    )
    assert unclean == []


def test_verifytypes_finds_nothing_unknown_in_the_package_but_the_pending_list(
    completeness: dict[str, Any],
) -> None:
    pending = {
        f"{file.removesuffix('.py').replace('/', '.')}.{name}": file
        for file, names in PENDING.items()
        for name in names
    }
    found = errors(completeness)
    # A type that is "partially unknown" only because it uses one of the findings (its
    # message names no `Unknown` of its own) goes away with them.
    follows = [f for f in found if "partially unknown" in f[2] and "Unknown" not in f[2]]
    own = {(name, file) for name, file, message in found if (name, file, message) not in follows}
    unexpected = sorted(f"{file}: {name}" for name, file in own if pending.get(name) != file)
    assert unexpected == []
    annotated = sorted(
        f"{file}: {name}" for name, file in pending.items() if (name, file) not in own
    )
    assert annotated == [], "annotated now: remove them from PENDING"
    assert own or not follows
    if not PENDING:
        assert found == []
        assert completeness["completenessScore"] == 1.0
