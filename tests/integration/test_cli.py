"""The command line through its real entry point (`python -m dyte_async`, a subprocess).

The commands that talk to an API run against a FakeDyte served by this test process on
127.0.0.1, so the test can look at what the fake received. Each Python start costs about
0.3 s: one invocation checks as much as it can.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from dyte_async.testing import FakeDyte

START = "POST /meetings/{meeting_id}/livestreams"
STREAM_KEY = re.compile(r"sk_[A-Za-z0-9_]+")


@pytest.fixture
def anyio_backend() -> str:
    # The CLI runs its own event loop in its own process; the backend of the test process
    # only serves the fake (both backends of that are covered in tests/fake).
    return "asyncio"


@attrs.frozen
class Ran:
    code: int
    out: str
    err: str

    def records(self) -> list[Any]:
        """Every stdout line, parsed as JSON (fails on a line that is not)."""
        return [json.loads(line) for line in self.out.splitlines()]

    def summary(self) -> dict[str, Any]:
        """The JSON summary the fan-out commands print last on stderr."""
        last = self.err.strip().splitlines()[-1]
        summary: dict[str, Any] = json.loads(last)["summary"]
        return summary


def cli_env(fake: FakeDyte | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DYTE_")}
    if fake is not None:
        env.update(DYTE_ORG_ID=fake.org_id, DYTE_API_KEY=fake.api_key)
    env.update(extra)
    return env


async def run_cli(*args: str, env: Mapping[str, str], stdin: str | None = None) -> Ran:
    with anyio.fail_after(30):
        done = await anyio.run_process(
            [sys.executable, "-m", "dyte_async", *args],
            input=None if stdin is None else stdin.encode(),
            env=env,
            check=False,
        )
    return Ran(done.returncode, done.stdout.decode(), done.stderr.decode())


def run_cli_sync(*args: str, env: Mapping[str, str]) -> Ran:
    done = subprocess.run(
        [sys.executable, "-m", "dyte_async", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


# -- demo ------------------------------------------------------------------------------


def test_demo_runs_the_whole_flow_on_the_embedded_fake() -> None:
    ran = run_cli_sync("demo", env=cli_env())  # no credentials in the environment
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert all(re.match(r"\d\d:\d\d:\d\d\.\d{3} +\+\d+\.\d\ds  \S", line) for line in lines)
    text = "\n".join(line.split("s  ", 1)[1] for line in lines)
    for step in ("created meeting", "added participant", "started livestream", "stopped:"):
        assert step in text
    statuses = re.findall(r"^status (\w+)$", text, re.MULTILINE)
    assert statuses[-1] == "LIVE"
    assert len(statuses) == len(set(statuses)) >= 2  # one line per transition
    assert re.search(r"^LIVE: playback URL https://\S+\.m3u8$", text, re.MULTILINE)
    assert "stream key <redacted>" in text
    assert "join token <redacted>" in text
    assert not STREAM_KEY.search(ran.out)
    assert "is IDLE" in text


def test_demo_fans_out_over_many_meetings_in_json() -> None:
    ran = run_cli_sync(
        "demo", "--meetings", "25", "--json", "--go-live-after", "0.3", env=cli_env()
    )
    assert ran.code == 0, ran.err
    steps = ran.records()
    assert all({"at", "t", "step"} <= set(step) for step in steps)
    assert [s["t"] for s in steps] == sorted(s["t"] for s in steps)
    live = [s for s in steps if s["step"].startswith("LIVE ")]
    assert len(live) == 25
    assert len({s["meeting_id"] for s in live}) == 25
    assert all(s["playback_url"].startswith("https://") for s in live)
    assert steps[-1]["stopped"] == 25


def declared_script() -> tuple[str, str]:
    """The `dyte-async` entry point that pyproject.toml declares: (module, function)."""
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^dyte-async = "([\w.]+):(\w+)"$', text, re.MULTILINE)
    assert match is not None, "[project.scripts] declares no dyte-async"
    return match[1], match[2]


def test_the_declared_console_script_runs() -> None:
    module, function = declared_script()
    assert (module, function) == ("dyte_async.cli", "main")
    # What the installed wrapper does: import the entry point and exit with its status.
    code = f"import sys; from {module} import {function}; sys.exit({function}())"
    done = subprocess.run(
        [sys.executable, "-c", code, "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for command in ("demo", "livestreams", "meetings"):
        assert command in done.stdout


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "dyte-async"
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    module, function = declared_script()
    if f"from {module} import {function}" not in script.read_text(encoding="utf-8"):
        pytest.skip("the installed console script predates pyproject.toml's: reinstall")
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0
    for command in ("demo", "livestreams", "meetings"):
        assert command in done.stdout


# -- against a served fake -------------------------------------------------------------


@pytest.mark.anyio
async def test_commands_against_a_fake_over_a_socket() -> None:
    fake = FakeDyte(go_live_after=0.2, offline_after=0.1)
    async with fake.serve() as base_url:
        env = cli_env(fake)
        url = ("--base-url", base_url)

        ran = await run_cli(
            "meetings", "create", "--title", "CLI town hall", "--json", *url, env=env
        )
        assert ran.code == 0, ran.err
        (meeting,) = ran.records()
        mid = meeting["id"]
        assert meeting["title"] == "CLI town hall"

        ran = await run_cli("livestreams", "start", mid, "no-such-meeting", "--json", *url, env=env)
        assert ran.code == 1
        records = {r["meeting_id"]: r for r in ran.records()}
        assert records[mid]["ok"] is True
        assert records[mid]["result"]["meeting_id"] == mid
        assert records[mid]["result"]["stream_key"] == "<redacted>"
        assert records["no-such-meeting"]["ok"] is False
        assert records["no-such-meeting"]["error"]["type"] == "NotFoundError"
        assert records["no-such-meeting"]["error"]["status_code"] == 404
        assert ran.summary() == {
            "succeeded": 1,
            "failed": 1,
            "errors": {"NotFoundError": 1},
            "seconds": ran.summary()["seconds"],
        }
        assert not STREAM_KEY.search(ran.out + ran.err)

        # Plain text when stdout is not a terminal; the summary goes to stderr.
        ran = await run_cli(
            "livestreams", "wait", mid, "--poll-interval", "0.05", "--timeout", "20", *url, env=env
        )
        assert ran.code == 0, ran.err
        assert re.fullmatch(rf"{mid}: LIVE livestream \S+ https://\S+\n", ran.out)
        assert ran.err.startswith("wait: 1 succeeded, 0 failed")

        active = fake.active_livestream(mid)
        assert active is not None
        ran = await run_cli("livestreams", "status", mid, "--json", "--show-secrets", *url, env=env)
        assert ran.code == 0, ran.err
        (record,) = ran.records()
        assert record["result"]["status"] == "LIVE"
        assert record["result"]["stream_key"] == active["stream_key"]

        # Global options before the command work too.
        ran = await run_cli("--json", *url, "livestreams", "list", "--status", "live", env=env)
        assert ran.code == 0, ran.err
        (listed,) = ran.records()
        assert listed["id"] == active["id"]
        assert listed["stream_key"] == "<redacted>"

        # The base URL may also come from the environment.
        env_url = {**env, "DYTE_BASE_URL": base_url}
        ran = await run_cli("meetings", "list", "--search", "CLI", "--limit", "1", env=env_url)
        assert ran.code == 0, ran.err
        assert ran.out.split() == [mid, "ACTIVE", "CLI", "town", "hall", meeting["created_at"]]
        assert ran.err.strip() == "meetings: 1"

        ran = await run_cli("livestreams", "stop", "--from-file", "-", *url, env=env, stdin=mid)
        assert ran.code == 0, ran.err
        assert ran.out == f"{mid}: Stopped live stream successfully\n"
        assert fake.active_livestream(mid) is None
    assert {r.client for r in fake.requests} == {"127.0.0.1"}


@pytest.mark.anyio
async def test_five_hundred_meeting_ids_from_a_file(tmp_path: Path) -> None:
    fake = FakeDyte(rate_limit=None, go_live_after=None)
    known = [fake.add_meeting(title=f"m{i}")["id"] for i in range(495)]
    unknown = [f"unknown-{i}" for i in range(5)]
    lines = ["meeting_id,title", "# five unknown ids are mixed in"]
    lines += [f"{mid},title {i}" for i, mid in enumerate(known[:250] + unknown + known[250:])]
    lines += ["", known[0]]  # a blank line and a repeat: started once
    ids_file = tmp_path / "meetings.csv"
    ids_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    async with fake.serve() as base_url:
        ran = await run_cli(
            "livestreams",
            "start",
            "--from-file",
            str(ids_file),
            "--json",
            "--concurrency",
            "50",
            "--base-url",
            base_url,
            env=cli_env(fake),
        )
    assert ran.code == 1
    records = ran.records()
    assert len(records) == 500
    assert {r["meeting_id"] for r in records} == set(known) | set(unknown)
    failed = {r["meeting_id"] for r in records if not r["ok"]}
    assert failed == set(unknown)
    assert {r["error"]["type"] for r in records if not r["ok"]} == {"NotFoundError"}
    assert all(r["result"]["stream_key"] == "<redacted>" for r in records if r["ok"])
    assert not STREAM_KEY.search(ran.out + ran.err)
    summary = ran.summary()
    assert (summary["succeeded"], summary["failed"]) == (495, 5)
    assert summary["errors"] == {"NotFoundError": 5}
    assert fake.count(START) == 500
    assert all(fake.active_livestream(mid) is not None for mid in known)


@pytest.mark.anyio
async def test_failures_and_configuration_errors_set_the_exit_status() -> None:
    fake = FakeDyte(strict_auth=True)
    async with fake.serve() as base_url:
        ran = await run_cli(
            "meetings", "list", "--base-url", base_url, env=cli_env(fake, DYTE_API_KEY="wrong-key")
        )
        assert ran.code == 1
        assert "AuthenticationError" in ran.err
        assert "wrong-key" not in ran.out + ran.err

        ran = await run_cli("meetings", "list", "--base-url", base_url, env=cli_env())
        assert ran.code == 2
        assert "DYTE_ORG_ID" in ran.err
        assert "DYTE_API_KEY" in ran.err
    assert fake.count() == 1  # the call without credentials never left the process

    # --fake needs no credentials; unknown meetings just fail, each on its own.
    ran = await run_cli("livestreams", "start", "--fake", "a", "b", "--json", env=cli_env())
    assert ran.code == 1
    assert [r["error"]["type"] for r in ran.records()] == ["NotFoundError"] * 2
    assert ran.summary()["errors"] == {"NotFoundError": 2}


# -- fan-out for real runs (issue 18) ----------------------------------------------------


def test_version_prints_the_package_version() -> None:
    from dyte_async import __version__

    ran = run_cli_sync("--version", env=cli_env())
    assert ran.code == 0, ran.err
    assert ran.out.strip() == f"dyte-async {__version__}"


@pytest.mark.anyio
async def test_from_file_reads_the_meeting_id_column_and_failed_out_reruns_the_failures(
    tmp_path: Path,
) -> None:
    fake = FakeDyte(go_live_after=None, offline_after=None)
    meetings = [fake.add_meeting(title=f"Town hall {i}")["id"] for i in range(3)]
    csv_file = tmp_path / "meetings.csv"
    csv_file.write_text(
        "title,meeting_id\n"
        + "".join(f'"Town hall #{i}, the {i}th",{mid}\n' for i, mid in enumerate(meetings))
        + "Lost,missing-1\nLost again,missing-2\n",
        encoding="utf-8",
    )
    failed_out = tmp_path / "failed.csv"
    async with fake.serve() as base_url:
        env = cli_env(fake)
        ran = await run_cli(
            "livestreams", "start", "--from-file", str(csv_file), "--failed-out", str(failed_out),
            "--json", "--base-url", base_url, env=env,
        )  # fmt: skip
        assert ran.code == 1, ran.err
        # The ids came from the `meeting_id` column, never the titles.
        assert sorted(r["meeting_id"] for r in ran.records()) == sorted(
            [*meetings, "missing-1", "missing-2"]
        )
        assert fake.count(START) == 5
        assert failed_out.read_text(encoding="utf-8") == (
            "meeting_id,error\nmissing-1,NotFoundError\nmissing-2,NotFoundError\n"
        )

        # The rerun takes exactly the failures; all succeed now, and the file says none.
        for mid in ("missing-1", "missing-2"):
            fake.add_meeting(id=mid, title="found")
        ran = await run_cli(
            "livestreams", "start", "--from-file", str(failed_out), "--failed-out",
            str(failed_out), "--json", "--base-url", base_url, env=env,
        )  # fmt: skip
        assert ran.code == 0, ran.err
        assert sorted(r["meeting_id"] for r in ran.records()) == ["missing-1", "missing-2"]
        assert fake.count(START) == 7
        assert failed_out.read_text(encoding="utf-8") == "meeting_id,error\n"


@pytest.mark.anyio
async def test_wrong_credentials_stop_the_run_at_the_first_answer(tmp_path: Path) -> None:
    fake = FakeDyte(strict_auth=True)  # it checks its own credentials exactly
    ids = [f"m{i:03}" for i in range(200)]
    failed_out = tmp_path / "failed.csv"
    async with fake.serve() as base_url:
        ran = await run_cli(
            "livestreams", "stop", *ids, "--concurrency", "5", "--failed-out", str(failed_out),
            "--base-url", base_url, env=cli_env(fake, DYTE_API_KEY="wrong-key"),
        )  # fmt: skip
    assert ran.code == 1
    assert ran.out == ""  # no line per meeting
    lines = ran.err.strip().splitlines()
    # The one clear line, where the rerun is, then the summary.
    assert len(lines) == 3, ran.err
    assert lines[1] == (
        f"dyte-async: 200 meeting(s) to run again written to {failed_out} "
        f"(--from-file {failed_out})"
    )
    assert lines[0].startswith("dyte-async: stopped: the API refused the credentials")
    assert "AuthenticationError, 401" in lines[0]
    assert "DYTE_API_KEY" in lines[0]
    assert "wrong-key" not in ran.err
    assert fake.count() <= 5  # at most the first wave was sent
    rows = failed_out.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "meeting_id,error"
    assert [row.split(",")[0] for row in rows[1:]] == ids  # everything is still to do
    assert sum(row.endswith(",AuthenticationError") for row in rows) >= 1


@pytest.mark.anyio
async def test_max_retries_reaches_the_client() -> None:
    fake = FakeDyte()
    async with fake.serve() as base_url:
        env = cli_env(fake)
        fake.fail_next(5, status=503)
        ran = await run_cli(
            "meetings", "list", "--max-retries", "0", "--base-url", base_url, env=env
        )
        assert ran.code == 1
        assert "InternalServerError" in ran.err
        assert fake.count() == 1
        fake.clear_faults()
        fake.reset_counters()
        fake.fail_next(2, status=503)
        ran = await run_cli(
            "meetings", "list", "--max-retries", "2", "--base-url", base_url, env=env
        )
        assert ran.code == 0, ran.err
        assert fake.count() == 3


@pytest.mark.anyio
async def test_messages_speak_cli_for_urls_and_credentials() -> None:
    fake = FakeDyte()
    env = cli_env(fake)
    ran = await run_cli("meetings", "list", "--base-url", "api.dyte.io/v2", env=env)
    assert ran.code == 2
    assert ran.err == (
        "dyte-async: --base-url 'api.dyte.io/v2' has no scheme: "
        "did you mean https://api.dyte.io/v2?\n"
    )
    ran = await run_cli("meetings", "list", env={**env, "DYTE_BASE_URL": "localhost:8080/v2"})
    assert ran.code == 2
    assert "DYTE_BASE_URL 'localhost:8080/v2' has no scheme" in ran.err

    ran = await run_cli("meetings", "list", "--base-url", "http://dyte.example/v2", env=env)
    assert ran.code == 2
    assert "--allow-insecure-http" in ran.err
    assert "=True" not in ran.err
    assert "base_url" not in ran.err

    ran = await run_cli("meetings", "list", env=cli_env(DYTE_API_KEY="k"))
    assert ran.code == 2
    assert "org_id=" not in ran.err
    assert "DYTE_ORG_ID (or --org-id)" in ran.err
    assert "DYTE_API_KEY" not in ran.err  # it is set

    async with fake.serve() as base_url:
        without_v2 = base_url.removesuffix("/v2")
        ran = await run_cli("meetings", "list", "--base-url", without_v2, env=env)
        assert ran.code == 1
        assert "NotFoundError" in ran.err
        assert f"hint: the base URL {without_v2} does not end in /v2" in ran.err
        ran = await run_cli("livestreams", "stop", "m1", "--base-url", without_v2, env=env)
        assert ran.code == 1
        assert "does not end in /v2" in ran.err
        # With /v2, a 404 is only a missing meeting: no hint.
        ran = await run_cli("livestreams", "stop", "m1", "--base-url", base_url, env=env)
        assert ran.code == 1
        assert "hint" not in ran.err
