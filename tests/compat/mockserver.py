"""Run the qualys-mock binary as a child process for the compatibility suite.

Each server listens on ports of 127.0.0.1 chosen by the kernel (port 0), with
HTTPS beside HTTP and a generated local CA. The bound ports are read from the
JSON log lines the binary prints at start, and every later log line is kept,
so tests can count the requests the mock received for one user.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0

_LISTENING = re.compile(r"qualys-mock listening on (https?)://(127\.0\.0\.1:\d+)")


@dataclass(frozen=True)
class LoggedRequest:
    """One access-log line of the mock."""

    method: str
    path: str
    action: str
    user: str
    status: int
    code: int | None


class MockServer:
    """A qualys-mock process started with ``extra_args``; ``stop`` ends it."""

    def __init__(self, binary: Path, workdir: Path, name: str, extra_args: list[str]):
        self.binary = binary
        self.name = name
        self.extra_args = list(extra_args)
        self.ca_path = workdir / f"{name}-ca.pem"
        self.log_path = workdir / f"{name}.log"
        self.http_address = ""
        self.https_address = ""
        self._process: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._lines_lock = threading.Lock()
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def http_url(self) -> str:
        return f"http://{self.http_address}"

    @property
    def https_url(self) -> str:
        return f"https://{self.https_address}"

    def start(self) -> MockServer:
        """Start the process and wait until both listeners are bound."""
        command = [
            str(self.binary),
            "--listen",
            "127.0.0.1:0",
            "--tls-listen",
            "127.0.0.1:0",
            "--tls-ca-out",
            str(self.ca_path),
            "--log-format",
            "json",
            *self.extra_args,
        ]
        # Options the caller's shell may set for its own mock must not leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUALYS_MOCK_")}
        env["RUST_LOG"] = "info"
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read_output, name=f"{self.name}-log", daemon=True)
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            self.stop()
            raise RuntimeError(
                f"qualys-mock {self.name} did not report both listeners within "
                f"{START_TIMEOUT_SECONDS:.0f} s; its output:\n{self.output()}"
            )
        if not self.ca_path.is_file():
            self.stop()
            raise RuntimeError(f"qualys-mock {self.name} did not write its CA to {self.ca_path}")
        return self

    def stop(self) -> None:
        """Send SIGTERM to the process this object started, then SIGKILL if it hangs."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_SECONDS)
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT_SECONDS)

    def output(self) -> str:
        with self._lines_lock:
            return "".join(self._lines)

    def requests(self, user: str | None = None) -> list[LoggedRequest]:
        """Return the access-log entries so far, for one login or for all."""
        entries = []
        with self._lines_lock:
            lines = list(self._lines)
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            fields = record.get("fields", {})
            if fields.get("message") != "request":
                continue
            entry = LoggedRequest(
                method=fields.get("method", ""),
                path=fields.get("path", ""),
                action=fields.get("action", ""),
                user=fields.get("user", ""),
                status=int(fields.get("status", 0)),
                code=fields.get("code"),
            )
            if user is None or entry.user == user:
                entries.append(entry)
        return entries

    def wait_for_requests(self, user: str, count: int, timeout: float = 5.0) -> list[LoggedRequest]:
        """Return the entries of ``user`` once at least ``count`` are logged.

        The mock writes its access-log line after it sends the response, so a
        client can receive the response slightly before the line appears.
        """
        deadline = time.monotonic() + timeout
        entries = self.requests(user)
        while len(entries) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            entries = self.requests(user)
        return entries

    def _read_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        with self.log_path.open("w", encoding="utf-8") as log:
            for line in self._process.stdout:
                log.write(line)
                log.flush()
                with self._lines_lock:
                    self._lines.append(line)
                match = _LISTENING.search(line)
                if match:
                    scheme, address = match.groups()
                    if scheme == "http":
                        self.http_address = address
                    else:
                        self.https_address = address
                    if self.http_address and self.https_address:
                        self._ready.set()
