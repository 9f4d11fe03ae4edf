"""Kiln served by gunicorn in a subprocess on a free port, against the test database and the
test's MEDIA_ROOT (as tests.fixtures.worker runs the worker), so a test can stop and restart it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.fixtures.worker import REPO, database_url_for_test_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30) -> None:
        from django.conf import settings

        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_test_db(),
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        }
        cmd = [sys.executable, "-m", "gunicorn", "lims.wsgi", "--bind", f"127.0.0.1:{self.port}",
               "--workers", "1", "--timeout", "60"]  # fmt: skip
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; log:\n{self.log()}")
            try:
                requests.get(f"{self.url}/healthz", timeout=10)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()  # its database connection would keep the test database from being dropped
        raise RuntimeError(f"gunicorn not answering after {timeout_s}s; log:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]
