"""Block every TCP or UDP connection and name lookup that leaves loopback.

The clients under test default to real Qualys hosts (qualysapi.qualys.com and
the platform URLs of qualys-cli), and qualysclient cannot be configured at all
without overriding module attributes. If a test omits one of those settings,
the request must fail here instead of reaching the internet. The suite installs
the guard in its own process (conftest.py) and in every Python subprocess it
starts (guard_site/sitecustomize.py on PYTHONPATH).

Blocked attempts raise PermissionError, which requests and httpx report as a
connection error, and are appended to ``BLOCKED`` so the suite can fail even
when a client swallows the error.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

# Descriptions of the attempts blocked in this process.
BLOCKED: list[str] = []

_original_getaddrinfo = socket.getaddrinfo
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_sendto = socket.socket.sendto


def is_loopback(host: object) -> bool:
    """Tell whether ``host`` (a name or an address) stays on this machine."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _blocked_error(attempt: str) -> PermissionError:
    message = f"loopback guard: blocked {attempt}; the compatibility suite connects only to 127.0.0.1 and ::1"
    BLOCKED.append(message)
    print(message, file=sys.stderr, flush=True)
    return PermissionError(message)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not is_loopback(host):
        raise _blocked_error(f"name lookup of {host!r}")
    return _original_getaddrinfo(host, *args, **kwargs)


def _check_address(sock: socket.socket, address: object) -> None:
    # Unix domain sockets (a D-Bus keyring, for example) never leave the machine.
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        raise _blocked_error(f"connection to {address!r}")


def _guarded_connect(self, address):
    _check_address(self, address)
    return _original_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_address(self, address)
    return _original_connect_ex(self, address)


def _guarded_sendto(self, data, *args):
    # sendto(data, address) or sendto(data, flags, address).
    _check_address(self, args[-1])
    return _original_sendto(self, data, *args)


def install() -> None:
    """Replace the socket functions with their guarded versions, once."""
    if socket.getaddrinfo is _guarded_getaddrinfo:
        return
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.socket.sendto = _guarded_sendto
