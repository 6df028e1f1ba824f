"""Helpers shared by the compatibility tests: paths, accounts, subprocess env."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from base64 import b64encode
from pathlib import Path

COMPAT_DIR = Path(__file__).resolve().parent
REPO_DIR = COMPAT_DIR.parents[1]
GUARD_SITE_DIR = COMPAT_DIR / "guard_site"
VENV_BIN = Path(sys.executable).parent

VMWARE_PATH = "/api/2.0/fo/auth/vmware/"
SESSION_PATH = "/api/2.0/fo/session/"

# Accounts of the main mock (--user NAME:PASSWORD). Each client has its own
# login, and the mock runs with --isolate-users, so tests of one client never
# see records of another. "alice" is the account docs/clients.md uses.
ACCOUNTS = {
    "alice": "secret",
    "qapi": "qapi-pass",
    "qcli": "qcli-pass",
    "qclient": "qclient-pass",
}

SUBPROCESS_TIMEOUT_SECONDS = 90


def basic_header(login: str, password: str) -> str:
    token = b64encode(f"{login}:{password}".encode()).decode()
    return f"Basic {token}"


def subprocess_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return a minimal environment for a client subprocess.

    The parent's variables are not inherited, so no proxy, CA bundle or
    Qualys setting of the machine reaches the client: only what the test
    passes in ``extra``. The loopback guard is loaded through PYTHONPATH.
    """
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": f"{GUARD_SITE_DIR}{os.pathsep}{COMPAT_DIR}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_PROXY": "127.0.0.1,localhost,::1",
        # Keeps qualys-cli away from the desktop keyring; passwords come from
        # QUALYS_PASSWORD in these tests.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    env.update(extra or {})
    return env


def run(command: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )


class HeldCall:
    """An API call whose body is withheld, so the mock counts it as running.

    The mock admits a call (and takes a concurrency slot) once the request
    headers arrive, then waits for the body. ``finish`` sends the body and
    reads the response, which frees the slot.
    """

    def __init__(self, address: str, login: str, password: str):
        host, port = address.rsplit(":", 1)
        self.body = b"action=list"
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        head = (
            f"POST {VMWARE_PATH} HTTP/1.1\r\n"
            f"Host: {address}\r\n"
            f"Authorization: {basic_header(login, password)}\r\n"
            "X-Requested-With: qualys-mock compat suite\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(self.body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        self.sock.sendall(head.encode("ascii"))
        self.login = login

    def wait_until_running(self, http_url: str, timeout: float = 5.0) -> None:
        """Wait until the mock at ``http_url`` counts this call as running.

        A call of the same login sent before that could take the slot first
        and get this call turned away with 409, so callers wait here.
        """
        deadline = time.monotonic() + timeout
        while True:
            with urllib.request.urlopen(f"{http_url}/__admin/limits", timeout=5) as reply:
                users = json.load(reply)["users"]
            running = sum(user["running"] for user in users if user["user"] == self.login)
            if running > 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the held call of {self.login} is not running after {timeout} s")
            time.sleep(0.02)

    def finish(self) -> bytes:
        self.sock.sendall(self.body)
        chunks = []
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        self.sock.close()
        return b"".join(chunks)
