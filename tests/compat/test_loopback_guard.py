"""The loopback guard blocks the clients' default Qualys hosts, in and out of process.

Each test that tries a blocked name or address first asserts that the guard is
installed, so a broken guard fails the test before anything leaves the machine.
"""

from __future__ import annotations

import socket
import sys

import pytest

import loopback_only
from compat_support import run, subprocess_env


@pytest.fixture
def guarded():
    """Assert the guard is active; drop the attempts the test makes on purpose."""
    assert socket.getaddrinfo is loopback_only._guarded_getaddrinfo
    assert socket.socket.connect is loopback_only._guarded_connect
    already = len(loopback_only.BLOCKED)
    yield
    del loopback_only.BLOCKED[already:]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.5.6.7", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        (None, True),
        ("qualysapi.qualys.com", False),
        ("169.254.169.254", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
    ],
)
def test_is_loopback_cases(host, expected):
    assert loopback_only.is_loopback(host) is expected


def test_qualys_host_lookup_blocked(guarded):
    with pytest.raises(PermissionError, match="qualysapi.qualys.com"):
        socket.getaddrinfo("qualysapi.qualys.com", 443)


def test_public_address_connect_blocked(guarded):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(PermissionError, match="192.0.2.1"):
            sock.connect(("192.0.2.1", 443))
    finally:
        sock.close()


def test_loopback_lookup_allowed(guarded):
    addresses = socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)

    assert addresses[0][4][0] == "127.0.0.1"


def test_subprocess_has_guard(tmp_path):
    code = (
        "import socket, loopback_only\n"
        "assert socket.getaddrinfo is loopback_only._guarded_getaddrinfo, 'guard missing'\n"
        "assert socket.socket.connect is loopback_only._guarded_connect, 'guard missing'\n"
        "print('guarded')\n"
    )

    result = run([sys.executable, "-c", code], subprocess_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "guarded"
