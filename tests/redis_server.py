"""A Redis server on 127.0.0.1 for the fleet tests: Debian's real `redis-server` when it is
installed, else fakeredis's TCP stand-in (pip-installed with the dev extra).

CI installs `redis-server` and sets ``DYTE_REQUIRE_REDIS_SERVER=1``: then a missing binary
fails the run instead of falling back. The pytest header says which server ran.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from typing import Any

__all__ = ["RedisServer", "redis_kind"]

REQUIRE_VARIABLE = "DYTE_REQUIRE_REDIS_SERVER"


def redis_kind() -> str:
    """``"redis-server"`` when the real server is installed, else ``"fakeredis"``.

    Raises:
        RuntimeError: the real server is required (`DYTE_REQUIRE_REDIS_SERVER`) but missing.
    """
    if shutil.which("redis-server"):
        return "redis-server"
    if os.environ.get(REQUIRE_VARIABLE):
        raise RuntimeError(
            f"{REQUIRE_VARIABLE} is set but redis-server is not installed "
            "(apt-get install -y redis-server)"
        )
    return "fakeredis"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One Redis on a free loopback port; `stop` and `start` again on the same port.

    Args:
        kind: ``"redis-server"`` or ``"fakeredis"`` (default: `redis_kind()`).
    """

    def __init__(self, kind: str | None = None) -> None:
        self.kind = kind or redis_kind()
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._fake: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait (at most 10 s) until it answers PING."""
        if self.kind == "redis-server":
            self._process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        else:
            from fakeredis import TcpFakeServer

            self._fake = TcpFakeServer(("127.0.0.1", self.port), server_type="redis")
            self._thread = threading.Thread(target=self._fake.serve_forever, daemon=True)
            self._thread.start()
        deadline = time.monotonic() + 10
        while not _answers(self.port):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.kind} did not answer on port {self.port} in 10 s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server (its data is lost) and wait until the port is closed."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        if self._fake is not None:
            self._fake.shutdown()
            self._fake.server_close()
            self._fake = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
