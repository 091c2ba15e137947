"""The CLI's pieces: reading meeting ids, JSON output and redaction, a closed stdout."""

from __future__ import annotations

import datetime
import io
import os

import pytest

from dyte_async._cli import _Progress, emit, read_ids, to_jsonable
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
    )
    assert read_ids(io.StringIO(text)) == ["m1", "m2", "m3", "m4"]


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
    with _Progress(2, label="start", enabled=False) as progress:
        progress.advance(failed=False)
        progress.advance(failed=True)
    assert capsys.readouterr() == ("", "")


def test_the_progress_bar_runs_with_rich(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("rich")
    with _Progress(2, label="start", enabled=True) as progress:
        progress.advance(failed=False)
        progress.advance(failed=True)
    # Not a terminal here: rich draws nothing, and the bar is transient anyway.
    assert capsys.readouterr().out == ""
