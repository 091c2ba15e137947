"""`dyte_async.cli.main` in-process: usage and configuration errors exit 2, `--fake` runs.

`--fake` and the demo run on an embedded FakeDyte; here it is made on the shared virtual
`clock`, so no test waits for real time and elapsed time is read off that clock.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import dyte_async.testing
from dyte_async.cli import main
from dyte_async.testing import FakeClock, FakeDyte
from tests.unit.conftest import START


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> list[FakeDyte]:
    """Every FakeDyte the CLI makes (for `--fake` or the demo), each on the virtual `clock`."""
    made: list[FakeDyte] = []

    class VirtualFakeDyte(FakeDyte):
        def __init__(self, **options: object) -> None:
            super().__init__(clock=clock, **options)  # type: ignore[arg-type]
            made.append(self)

    # The CLI imports the fake when it needs it, from the public `dyte_async.testing`.
    monkeypatch.setattr(dyte_async.testing, "FakeDyte", VirtualFakeDyte)
    return made


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param([], "required: COMMAND", id="no-command"),
        pytest.param(["bogus"], "invalid choice: 'bogus'", id="unknown-command"),
        pytest.param(["livestreams"], "required: ACTION", id="no-action"),
        pytest.param(
            ["livestreams", "start", "m1", "--concurrency", "0"],
            "must be at least 1, got 0",
            id="concurrency-0",
        ),
        pytest.param(
            ["livestreams", "start", "m1", "--timeout", "-1"],
            "must be a positive number, got -1",
            id="negative-timeout",
        ),
        pytest.param(
            ["livestreams", "stop", "m1", "--timeout", "0"],
            "must be a positive number, got 0",
            id="timeout-0",
        ),
        pytest.param(
            ["livestreams", "stop", "m1", "--timeout", "inf"],
            "must be a positive number, got inf",
            id="timeout-inf",
        ),
        pytest.param(
            ["livestreams", "wait", "m1", "--timeout", "soon"],
            "not a number: 'soon'",
            id="timeout-not-number",
        ),
        pytest.param(
            ["livestreams", "list", "--status", "SLEEPING"],
            "invalid choice: 'SLEEPING'",
            id="unknown-status",
        ),
        pytest.param(
            ["meetings", "list", "--limit", "0"], "must be at least 1, got 0", id="limit-0"
        ),
        pytest.param(
            ["meetings", "list", "--limit", "ten"], "not an integer: 'ten'", id="limit-not-int"
        ),
        pytest.param(["meetings", "create"], "required: --title", id="create-without-title"),
        pytest.param(
            ["demo", "--meetings", "0"], "must be at least 1, got 0", id="demo-no-meetings"
        ),
        pytest.param(
            ["demo", "--go-live-after", "-1"], "must be 0 or more, got -1", id="demo-negative-delay"
        ),
        pytest.param(
            ["demo", "--go-live-after", "nan"], "must be 0 or more, got nan", id="demo-nan-delay"
        ),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage: dyte-async" in captured.err
    assert message in captured.err


def test_the_least_values_are_accepted(
    capsys: pytest.CaptureFixture[str], fakes: list[FakeDyte]
) -> None:
    argv = ["livestreams", "status", "--fake", "--concurrency", "1", "--timeout", "0.5", "m1"]
    assert main(argv) == 1  # parsed and run: m1 does not exist in the empty fake
    assert len(fakes) == 1
    assert capsys.readouterr().out.startswith("m1: FAILED NotFoundError")


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["livestreams", "start", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--from-file", "--concurrency", "--timeout", "--json", "--show-secrets"):
        assert option in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["livestreams", "start"],
            "dyte-async: no meeting ids: pass MEETING_ID... or --from-file FILE\n",
        ),
        (
            ["livestreams", "stop", "--from-file", "/no/such/file.txt"],
            "cannot read /no/such/file.txt: ",
        ),
        (
            ["livestreams", "start", "m1", "--name", "not a name"],
            "livestream name may hold only letters, digits, '-' and '_', got 'not a name'",
        ),
        (
            ["--fake", "--base-url", "http://127.0.0.1:1/v2", "meetings", "list"],
            "dyte-async: --fake and --base-url do not go together\n",
        ),
        (
            ["--base-url", "http://127.0.0.1:1/v2", "demo"],
            "dyte-async: demo always runs on the embedded fake; --base-url does not apply\n",
        ),
        (
            ["meetings", "list"],
            "missing credentials: set DYTE_ORG_ID (or --org-id) and DYTE_API_KEY; ",
        ),
    ],
)
def test_configuration_errors_exit_2_before_anything_is_sent(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("dyte-async: ")
    assert message in captured.err


def test_credentials_are_never_sent_in_clear_text_to_a_remote_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DYTE_ORG_ID", "org")
    monkeypatch.setenv("DYTE_API_KEY", "secret-key")
    assert main(["meetings", "list", "--base-url", "http://dyte.example/v2"]) == 2
    err = capsys.readouterr().err
    assert "clear text" in err
    assert "secret-key" not in err


def test_ids_are_read_from_stdin_with_a_dash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("meeting_id\nm1\nm2,title\nm1\n"))
    assert main(["livestreams", "status", "--fake", "--from-file", "-", "x0"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["x0", "m1", "m2"]


def test_an_empty_ids_file_is_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("meeting_id\n# nothing yet\n\n", encoding="utf-8")
    assert main(["livestreams", "status", "--from-file", str(ids), "--fake"]) == 2
    assert "no meeting ids" in capsys.readouterr().err


def test_fake_meetings_create_and_list_need_no_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["meetings", "create", "--fake", "--title", "Town hall", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    meeting = json.loads(line)
    assert meeting["title"] == "Town hall"
    assert meeting["live_stream_on_start"] is False
    # Every --fake run has its own, empty fake.
    assert main(["meetings", "list", "--fake"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "meetings: 0\n"


def test_fake_status_of_unknown_meetings_fails_each_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["livestreams", "status", "--fake", "a", "b", "a"]) == 1
    captured = capsys.readouterr()
    lines = sorted(captured.out.splitlines())
    assert len(lines) == 2  # "a" given twice, asked once
    assert lines[0].startswith("a: FAILED NotFoundError: 404")
    assert lines[1].startswith("b: FAILED NotFoundError: 404")
    assert captured.err.startswith("status: 0 succeeded, 2 failed (2 NotFoundError) in ")


def test_a_livestream_list_of_the_empty_fake(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["livestreams", "list", "--fake", "--status", "live", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_wait_on_unknown_meetings_fails_each_at_once(
    capsys: pytest.CaptureFixture[str], clock: FakeClock, fakes: list[FakeDyte]
) -> None:
    ids = [f"m{i}" for i in range(30)]  # the embedded fake starts empty: none exists
    argv = ["livestreams", "wait", "--fake", "--timeout", "60", "--poll-interval", "0.1", *ids]
    assert main([*argv, "--json"]) == 1
    (fake,) = fakes
    assert fake.clock is clock
    elapsed = clock.now() - START
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert sorted(r["meeting_id"] for r in records) == sorted(ids)
    assert {r["error"]["type"] for r in records} == {"NotFoundError"}
    assert all("does not exist" in r["error"]["message"] for r in records)
    assert json.loads(captured.err)["summary"]["errors"] == {"NotFoundError": 30}
    assert elapsed < 5  # each failed at its first poll, not at the 60 s timeout


def test_the_demo_runs_in_process(
    capsys: pytest.CaptureFixture[str], fakes: list[FakeDyte]
) -> None:
    assert main(["--fake", "demo", "--meetings", "3", "--go-live-after", "0", "--json"]) == 0
    assert len(fakes) == 1
    steps = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum(step["step"].startswith("LIVE ") for step in steps) == 3
    assert steps[-1]["stopped"] == 3
