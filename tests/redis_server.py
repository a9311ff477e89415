"""A real redis-server of the test's own, on a free port, that a test can kill and start again.

Nothing is saved to disk (`--save '' --appendonly no`): killing it loses every
key and queued message, as a crashed or replaced Redis would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, *, log: Path, port: int | None = None):
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        # One try: redis-py's default retries with backoff would take seconds to say "down".
        client = redis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self, *, timeout: float = 10) -> RedisServer:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=self.log.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer PING on port {self.port}:\n{self.tail()}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to its clients."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        assert not self.ping()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        return ""


def skip_without_redis_server() -> None:
    """Skip (a module, at its top) where redis-server is missing; but fail in CI, which must run these tests."""
    if REDIS_SERVER is not None:
        return
    if os.environ.get("CI"):
        pytest.fail("redis-server is not installed: CI must run the Redis outage tests.", pytrace=False)
    pytest.skip("redis-server is not installed", allow_module_level=True)


def redis_server_fixture(tmp_path_factory):
    """A module's own redis-server (module-scoped where used); tests that kill it start it again."""
    skip_without_redis_server()
    server = RedisServer(log=tmp_path_factory.mktemp("redis") / "redis.log").start()
    yield server
    server.stop()
