"""The CLI's pieces: meeting ids, JSON and redaction, outcomes and summary, a closed stdout."""

from __future__ import annotations

import datetime
import io
import json
import os
from collections import Counter

import pytest

from dyte_async._fanout import Outcome
from dyte_async.cli.arguments import read_ids
from dyte_async.cli.output import (
    Progress,
    emit,
    is_terminal,
    print_items,
    print_outcome,
    print_summary,
    redact,
    to_jsonable,
)
from dyte_async.errors import NotFoundError
from dyte_async.models import (
    Livestream,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
    Participant,
)


def test_ids_are_read_one_per_line_or_from_a_csv_first_column() -> None:
    text = (
        "meeting_id,title\n"
        "m1,Town hall\n"
        "  m2  \n"
        "\n"
        "# a comment\n"
        '"m3","quoted"\n'
        "m4  # trailing comment\n"
        "m5 # a comment # with a hash\n"
        "m6,title,more columns\n"
        '"X7",ids may start with X\n'
    )
    assert read_ids(io.StringIO(text)) == ["m1", "m2", "m3", "m4", "m5", "m6", "X7"]


def test_only_a_leading_header_is_skipped() -> None:
    assert read_ids(["m1", "meeting_id"]) == ["m1", "meeting_id"]


def test_json_output_redacts_secrets_at_any_depth() -> None:
    at = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    ls = Livestream(id="ls1", status=LivestreamStatus.LIVE, stream_key="sk_secret", created_at=at)
    details = LivestreamDetails(livestream=ls, sessions=(LivestreamSession(id="s1"),))

    data = to_jsonable(details)
    assert data["livestream"]["stream_key"] == "<redacted>"
    assert data["livestream"]["status"] == "LIVE"
    assert type(data["livestream"]["status"]) is str
    assert data["livestream"]["created_at"] == "2024-05-01T12:00:00+00:00"
    assert data["sessions"][0]["id"] == "s1"
    assert "sk_secret" not in repr(data)

    assert to_jsonable(Participant(id="p1", token="tok"))["token"] == "<redacted>"
    assert to_jsonable(ls, show_secrets=True)["stream_key"] == "sk_secret"
    # Nothing to hide: an absent key stays None.
    assert to_jsonable(Livestream(id="ls2"))["stream_key"] is None
    assert to_jsonable("Stopped live stream successfully") == "Stopped live stream successfully"


def test_a_closed_stdout_does_not_stop_the_work() -> None:
    read_fd, write_fd = os.pipe()
    os.close(read_fd)  # the reader went away, as with `| head`
    with open(write_fd, "w", encoding="utf-8") as stream:
        emit("first", stream)  # EPIPE: the stream now points at /dev/null
        emit("second", stream)


def test_the_progress_bar_is_off_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress(2, label="start", enabled=False) as progress:
        progress.advance(failed=False)
        progress.advance(failed=True)
    assert capsys.readouterr() == ("", "")


def test_the_progress_bar_runs_with_rich(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("rich")
    with Progress(2, label="start", enabled=True) as progress:
        progress.advance(failed=False)
        progress.advance(failed=True)
    # Not a terminal here: rich draws nothing, and the bar is transient anyway.
    assert capsys.readouterr().out == ""


def test_the_fan_out_summary_counts_errors_by_type(capsys: pytest.CaptureFixture[str]) -> None:
    failures = Counter({"NotFoundError": 2, "ConflictError": 1})
    print_summary("start", 7, failures, 1.25, as_json=False)
    print_summary("stop", 3, Counter(), 0.04, as_json=False)
    print_summary("wait", 7, failures, 1.25, as_json=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    text, clean, record = captured.err.splitlines()
    assert text == "start: 7 succeeded, 3 failed (2 NotFoundError, 1 ConflictError) in 1.2s"
    assert clean == "stop: 3 succeeded, 0 failed in 0.0s"
    assert json.loads(record) == {
        "summary": {
            "succeeded": 7,
            "failed": 3,
            "errors": {"NotFoundError": 2, "ConflictError": 1},
            "seconds": 1.25,
        }
    }


def test_outcomes_print_as_text_or_json(capsys: pytest.CaptureFixture[str]) -> None:
    live = Livestream(
        id="ls1", status=LivestreamStatus.LIVE, playback_url="https://p/x.m3u8", stream_key="sk"
    )
    print_outcome(Outcome(item="m1", index=0, result=live), as_json=False, show_secrets=False)
    print_outcome(Outcome(item="m2", index=1, result="Stopped"), as_json=False, show_secrets=False)
    gone = NotFoundError("no such meeting", status_code=404)
    print_outcome(Outcome(item="m3", index=2, error=gone), as_json=False, show_secrets=False)
    print_outcome(Outcome(item="m3", index=2, error=gone), as_json=True, show_secrets=False)
    print_outcome(Outcome(item="m1", index=0, result=live), as_json=True, show_secrets=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "m1: LIVE livestream ls1 https://p/x.m3u8",
        "m2: Stopped",
        f"m3: FAILED NotFoundError: {gone}",
    ]
    failed, ok = (json.loads(line) for line in lines[3:])
    assert failed == {
        "meeting_id": "m3",
        "ok": False,
        "error": {"type": "NotFoundError", "message": str(gone), "status_code": 404},
    }
    assert ok["ok"] is True
    assert ok["result"]["stream_key"] == "<redacted>"


def test_redact_hides_only_a_value_there_is() -> None:
    assert redact("tok", show=False) == "<redacted>"
    assert redact("tok", show=True) == "tok"
    assert redact(None, show=False) is None
    assert redact("", show=False) == ""


def test_listings_print_fields_as_text_or_json(capsys: pytest.CaptureFixture[str]) -> None:
    ls = Livestream(id="ls1", status=LivestreamStatus.LIVE, meeting_id="m1", stream_key="sk")
    print_items([ls], kind="livestreams", as_json=False, show_secrets=False)
    print_items([ls], kind="livestreams", as_json=True, show_secrets=True)
    print_items([], kind="meetings", as_json=True, show_secrets=False)
    captured = capsys.readouterr()
    text, record = captured.out.splitlines()
    assert text == "ls1  LIVE  -  m1  -"  # absent fields print as "-"
    assert json.loads(record)["stream_key"] == "sk"
    assert captured.err == "livestreams: 1\n"  # the count in text mode only


def test_secrets_are_shown_at_any_depth_only_when_asked() -> None:
    ls = Livestream(id="ls1", stream_key="sk_secret")
    details = LivestreamDetails(livestream=ls, sessions=())
    assert to_jsonable(details, show_secrets=True)["livestream"]["stream_key"] == "sk_secret"
    assert to_jsonable([ls], show_secrets=True)[0]["stream_key"] == "sk_secret"
    assert to_jsonable([ls])[0]["stream_key"] == "<redacted>"


def test_a_livestream_outcome_without_playback_url_ends_at_its_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    offline = Livestream(id="ls2", status=LivestreamStatus.OFFLINE, stream_key="sk")
    print_outcome(Outcome(item="m1", index=0, result=offline), as_json=False, show_secrets=False)
    print_outcome(Outcome(item="m1", index=0, result=offline), as_json=True, show_secrets=True)
    text, record = capsys.readouterr().out.splitlines()
    assert text == "m1: OFFLINE livestream ls2"
    assert json.loads(record)["result"]["stream_key"] == "sk"


def test_emit_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    emit("hello")
    assert capsys.readouterr() == ("hello\n", "")


def test_a_replaced_or_closed_stream_is_no_terminal() -> None:
    assert is_terminal(io.StringIO()) is False
    closed = io.StringIO()
    closed.close()
    assert is_terminal(closed) is False
    assert is_terminal(object()) is False  # type: ignore[arg-type]
