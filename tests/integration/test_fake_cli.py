"""`python -m dyte_async.testing`: the start-up banner, any credentials, a busy port."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest

from dyte_async.testing import FakeDyte
from dyte_async.testing.__main__ import banner

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _get(url: str, authorization: str) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Authorization": authorization})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.load(response)
    return answer


def _start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "dyte_async.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for _ in range(30):
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            break
    return process, lines


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    process, lines = _start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def _field(lines: list[str], label: str) -> str:
    found = [line.split(label, 1)[1].strip() for line in lines if label in line]
    assert found, (label, lines)
    return found[0]


def test_the_banner_gives_both_base_urls_and_works_with_any_credentials(
    served: tuple[subprocess.Popen[str], list[str]],
) -> None:
    process, lines = served
    v2 = _field(lines, "Dyte v2 base URL:")
    rtk = _field(lines, "RealtimeKit base URL:")
    assert lines[0] == f"FakeDyte serving at {v2}"
    assert v2.startswith("http://127.0.0.1:")
    assert v2.endswith("/v2")
    assert rtk.startswith(v2.removesuffix("/v2") + "/client/v4/accounts/")
    assert rtk.endswith("/realtime/kit/fake-app-id")
    assert "any on /v2" in "\n".join(lines)
    curl = _field(lines, "try:")
    assert curl == f"curl -u fake-org-id:fake-api-key {v2}/meetings"
    mine = "Basic " + base64.b64encode(b"my-real-org:my-real-key").decode()
    assert _get(f"{v2}/meetings", mine)["success"] is True
    assert _get(f"{rtk}/meetings", "Bearer whatever")["success"] is True
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_strict_mode_says_so_and_refuses_other_credentials() -> None:
    process, lines = _start("--org-id", "acme", "--api-key", "k3y")
    try:
        v2 = _field(lines, "Dyte v2 base URL:")
        assert "only org 'acme'" in "\n".join(lines)
        assert _field(lines, "try:") == f"curl -u acme:k3y {v2}/meetings"
        other = "Basic " + base64.b64encode(b"other:key").decode()
        with pytest.raises(urllib.error.HTTPError) as caught:
            _get(f"{v2}/meetings", other)
        assert caught.value.code == 401
        caught.value.close()
        own = "Basic " + base64.b64encode(b"acme:k3y").decode()
        assert _get(f"{v2}/meetings", own)["success"] is True
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def test_a_busy_port_is_one_line_on_stderr() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = subprocess.run(
            [sys.executable, "-m", "dyte_async.testing", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env=ENV,
        )
    assert ran.returncode == 1
    assert ran.stdout == ""
    assert ran.stderr == f"error: cannot listen on 127.0.0.1:{port}: address already in use\n"


def test_the_banner_lists_webhooks() -> None:
    fake = FakeDyte()
    lines = banner(fake, "http://127.0.0.1:1/v2", webhooks=["http://127.0.0.1:2/h"])
    assert lines[-1] == "  webhooks (dyte) to http://127.0.0.1:2/h"
    assert "  webhook public key: http://127.0.0.1:1/.well-known/webhooks.json" in lines


def test_server_limits_come_from_the_command_line() -> None:
    import argparse

    from dyte_async.testing.__main__ import _parser, build_fake, serve_options

    args = _parser().parse_args(
        ["--max-body-bytes", "1000", "--idle-timeout", "2", "--max-connections", "5"]
    )
    assert isinstance(args, argparse.Namespace)
    assert serve_options(args) == {
        "max_body_bytes": 1000,
        "header_timeout": 10.0,
        "idle_timeout": 2.0,
        "max_connections": 5,
    }
    assert build_fake(["--request-log-size", "7"]).request_log_size == 7
    with pytest.raises(SystemExit):
        build_fake(["--request-log-size", "0"])


def test_a_limit_out_of_range_is_a_usage_error() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "dyte_async.testing", "--port", "0", "--max-body-bytes", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env=ENV,
    )
    assert ran.returncode == 2
    assert "max_body_bytes must be >= 1" in ran.stderr
    assert "Traceback" not in ran.stderr
