"""The CLI's fan-out options in-process: ids by column, `--failed-out`, retries and rate limit
reaching the client, `--version`, and the CLI-speaking messages."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import dyte_async.testing
from dyte_async import RateLimit, __version__
from dyte_async.cli import main
from dyte_async.cli.arguments import build_parser
from dyte_async.cli.commands import client_options
from dyte_async.cli.hints import check_base_url, cli_message, missing_v2_hint, shown_url
from dyte_async.cli.ids import IdsFileError, read_ids, write_failed
from dyte_async.testing import FakeClock, FakeDyte


@pytest.fixture(autouse=True)
def client_calls(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> list[dict[str, Any]]:
    """The options of every client the CLI asks a (virtual-clock) FakeDyte for."""
    calls: list[dict[str, Any]] = []

    class RecordingFakeDyte(FakeDyte):
        def __init__(self, **options: Any) -> None:
            super().__init__(clock=clock, **options)

        def client(self, **options: Any) -> Any:
            calls.append(options)
            return super().client(**options)

    monkeypatch.setattr(dyte_async.testing, "FakeDyte", RecordingFakeDyte)
    return calls


# -- reading ids ---------------------------------------------------------------------------


def test_ids_come_from_the_meeting_id_column_named_by_the_header() -> None:
    text = 'title,meeting_id\n"Town hall #1, east",m1\n# comment\n\nWest,m2  # note\n'
    assert read_ids(io.StringIO(text)) == ["m1", "m2"]
    assert read_ids(["Title,Meeting_ID,extra", "a,m1,x"]) == ["m1"]


def test_without_a_meeting_id_header_the_first_column_is_read() -> None:
    assert read_ids(["m1,Town hall", "m2,West"]) == ["m1", "m2"]
    assert read_ids(["# ids", "meeting_id", "m1"]) == ["m1"]


def test_a_row_without_the_column_names_its_line() -> None:
    with pytest.raises(IdsFileError, match="line 3 has no meeting_id"):
        read_ids(["title,meeting_id", "a,m1", "only-a-title"])


def test_a_row_without_the_column_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("title,meeting_id\nlost\n", encoding="utf-8")
    assert main(["livestreams", "stop", "--fake", "--from-file", str(ids)]) == 2
    assert f"{ids}: line 2 has no meeting_id" in capsys.readouterr().err


def test_failed_out_is_a_csv_from_file_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "failed.csv"
    path.write_text("old content\n", encoding="utf-8")
    write_failed(str(path), [("m1", "RateLimitError"), ("m,2", "not run")])
    assert path.read_text(encoding="utf-8") == (
        'meeting_id,error\nm1,RateLimitError\n"m,2",not run\n'
    )
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left
    with path.open(encoding="utf-8") as fh:
        assert read_ids(fh) == ["m1", "m,2"]


def test_failed_out_lists_failures_and_only_failures_in_input_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "failed.csv"
    argv = ["livestreams", "status", "--fake", "x2", "x1", "--failed-out", str(out)]
    assert main(argv) == 1
    assert out.read_text(encoding="utf-8") == (
        "meeting_id,error\nx2,NotFoundError\nx1,NotFoundError\n"
    )
    err = capsys.readouterr().err
    assert f"2 meeting(s) to run again written to {out} (--from-file {out})" in err


class Abort(Exception):
    """What stops a run half-way in the test below."""


def test_an_aborted_run_still_writes_what_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "failed.csv"
    calls = 0

    def interrupt(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # after the first meeting's outcome
            raise Abort

    monkeypatch.setattr("dyte_async.cli.commands.print_outcome", interrupt)
    argv = ["livestreams", "status", "--fake", "a", "b", "c", "--failed-out", str(out)]
    argv += ["--concurrency", "1"]
    with pytest.raises(BaseException) as info:  # noqa: PT011 - anyio may group it
        main(argv)
    assert isinstance(info.value, Abort) or info.group_contains(Abort)
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "meeting_id,error"
    assert [row.split(",")[0] for row in rows[1:]] == ["a", "b", "c"]
    assert rows[3] == "c,not run"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("{tmp}", "is a directory", id="directory"),
        pytest.param("{tmp}/no/such/failed.csv", "no such directory", id="missing-dir"),
    ],
)
def test_an_unwritable_failed_out_is_bad_usage_before_anything_runs(
    path: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    client_calls: list[dict[str, Any]],
) -> None:
    argv = ["livestreams", "stop", "--fake", "m1", "--failed-out", path.format(tmp=tmp_path)]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert client_calls == []


# -- options that reach the client ---------------------------------------------------------


def parse(*argv: str) -> Any:
    return build_parser().parse_args(list(argv))


def test_max_retries_and_rate_limit_reach_the_client(
    client_calls: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["meetings", "list", "--fake", "--max-retries", "0", "--rate-limit", "100/10s"]
    assert main(argv) == 0
    assert client_calls == [{"max_retries": 0, "rate_limit": RateLimit(100, per=10.0)}]
    assert main(["--rate-limit", "off", "meetings", "list", "--fake"]) == 0
    assert client_calls[-1] == {"rate_limit": None}
    assert main(["meetings", "list", "--fake"]) == 0
    assert client_calls[-1] == {}  # the library's defaults
    capsys.readouterr()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2000/60", RateLimit(2000, per=60.0)),
        (" 5 / 0.5 ", RateLimit(5, per=0.5)),
        ("10/1s", RateLimit(10, per=1.0)),
        ("OFF", "off"),
        ("none", "off"),
    ],
)
def test_rate_limit_values(text: str, expected: object) -> None:
    assert parse("--rate-limit", text, "meetings", "list").rate_limit == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rate-limit", "100"], "expected N/SECONDS (e.g. 2000/60) or off, got '100'"),
        (["--rate-limit", "0/60"], "with N and SECONDS above 0, got '0/60'"),
        (["--rate-limit", "10/0"], "with N and SECONDS above 0, got '10/0'"),
        (["--rate-limit=-1/5"], "expected N/SECONDS"),
        (["--max-retries", "-1"], "must be 0 or more, got -1"),
        (["--max-retries", "two"], "not an integer: 'two'"),
    ],
)
def test_bad_retry_and_rate_options_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "meetings", "list", "--fake"]) == 2
    assert message in capsys.readouterr().err


def test_client_options_keep_defaults_for_what_is_not_given() -> None:
    assert client_options(parse("meetings", "list")) == {}
    assert client_options(parse("livestreams", "stop", "m1", "--max-retries", "3")) == {
        "max_retries": 3
    }


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"dyte-async {__version__}\n"


# -- messages -------------------------------------------------------------------------------


def test_library_messages_are_said_in_cli_words() -> None:
    said = cli_message(
        "refusing to send credentials in clear text to h: use https, "
        "or pass allow_insecure_http=True"
    )
    assert said.endswith("or pass --allow-insecure-http")
    assert "org_id" not in cli_message("org_id contains a control character (at index 2)")
    assert cli_message("base_url must not carry credentials").startswith(
        "the base URL (--base-url or DYTE_BASE_URL)"
    )


def test_urls_are_shown_without_credentials_or_query() -> None:
    assert shown_url("https://user:pw@h.example/v2?key=k") == "https://h.example/v2"
    assert shown_url("user:pw@h.example/v2") == "h.example/v2"
    assert check_base_url("user:pw@h.example/v2", "--base-url") == (
        "--base-url 'h.example/v2' has no scheme: did you mean https://h.example/v2?"
    )
    assert check_base_url("https://h.example/v2", "--base-url") is None


@pytest.mark.parametrize(
    ("url", "hinted"),
    [
        (None, False),
        ("https://api.dyte.io/v2", False),
        ("https://api.dyte.io/v2/", False),
        ("http://127.0.0.1:8080/proxy/v2", False),
        ("https://api.cloudflare.com/client/v4/accounts/a/realtime/kit/app", False),
        ("https://api.dyte.io", True),
        ("https://api.dyte.io/", True),
        ("https://api.dyte.io/v1", True),
        ("https://u:secret@api.dyte.io/api", True),
    ],
)
def test_the_missing_v2_hint(url: str | None, hinted: bool) -> None:
    hint = missing_v2_hint(url)
    assert (hint is not None) is hinted
    if hint is not None:
        assert "secret" not in hint
        assert "/v2" in hint


def test_the_fake_needs_no_credentials_nor_scheme_checks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DYTE_BASE_URL", "no-scheme.example/v2")
    monkeypatch.delenv("DYTE_ORG_ID", raising=False)
    assert main(["meetings", "list", "--fake"]) == 0
    assert main(["meetings", "list"]) == 2
    assert "DYTE_BASE_URL 'no-scheme.example/v2' has no scheme" in capsys.readouterr().err


def test_redis_url_reaches_the_client() -> None:
    url = "redis://127.0.0.1:6390/0"
    assert client_options(parse("--redis-url", url, "meetings", "list")) == {"redis": url}


def test_a_bad_redis_url_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--redis-url", "http://x", "meetings", "list", "--fake"]) == 2
    err = capsys.readouterr().err
    assert "redis://" in err
    assert "Traceback" not in err


def test_a_bad_proxy_is_bad_usage_and_its_password_never_shown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DYTE_ORG_ID", "org")
    monkeypatch.setenv("DYTE_API_KEY", "key")
    proxy = "socks5://user:cli-proxy-secret@127.0.0.1:1080"
    assert main(["--proxy", proxy, "meetings", "list"]) == 2
    err = capsys.readouterr().err
    assert "--proxy: SOCKS proxies" in err
    assert "cli-proxy-secret" not in err
    assert "Traceback" not in err
