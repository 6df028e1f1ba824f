"""Session fixtures: the qualys-mock processes and a loopback-only network.

The mock binary comes from QUALYS_MOCK_BIN (scripts/test-compat sets it) or
from target/release/qualys-mock. Every server is started on kernel-chosen
ports of 127.0.0.1 and stopped, by the PID this suite started, at the end of
the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import loopback_only
from compat_support import ACCOUNTS, REPO_DIR
from mockserver import MockServer

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
_session_home: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _session_home
    loopback_only.install()
    for name in _PROXY_VARIABLES:
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = "127.0.0.1,localhost,::1"
    # qualysapi reads ~/.qcrc and qualys-cli writes ~/.config/qualys-cli at
    # import time, so the whole session runs with an empty home directory.
    _session_home = tempfile.mkdtemp(prefix="qualys-compat-home-")
    os.environ["HOME"] = _session_home


def pytest_unconfigure(config: pytest.Config) -> None:
    if _session_home:
        shutil.rmtree(_session_home, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if loopback_only.BLOCKED:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("non-loopback network attempts were blocked:", red=True)
            for line in loopback_only.BLOCKED:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def mock_binary() -> Path:
    binary = Path(os.environ.get("QUALYS_MOCK_BIN", REPO_DIR / "target" / "release" / "qualys-mock"))
    if not binary.is_file():
        pytest.fail(f"qualys-mock binary not found at {binary}; build it with cargo build --release or set QUALYS_MOCK_BIN")
    return binary


@pytest.fixture(scope="session")
def start_mock(mock_binary: Path, tmp_path_factory: pytest.TempPathFactory):
    """Return a function that starts a named mock with extra flags."""
    workdir = tmp_path_factory.mktemp("mocks")
    started: list[MockServer] = []

    def start(name: str, extra_args: list[str]) -> MockServer:
        server = MockServer(mock_binary, workdir, name, extra_args).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture(scope="session")
def mock(start_mock) -> MockServer:
    """The main mock: configured accounts, one record store per login."""
    users = [arg for login, password in ACCOUNTS.items() for arg in ("--user", f"{login}:{password}")]
    return start_mock("main", ["--isolate-users", *users])


@pytest.fixture(scope="session")
def mock_rate_short(start_mock) -> MockServer:
    """Two calls per login every 2 seconds, so a client that waits can retry."""
    return start_mock("rate-short", ["--isolate-users", "--rate-limit", "2", "--rate-window", "2"])


@pytest.fixture(scope="session")
def mock_rate_long(start_mock) -> MockServer:
    """One call per login every 10 minutes, so the second call always gets 409."""
    return start_mock("rate-long", ["--isolate-users", "--rate-limit", "1", "--rate-window", "600"])


@pytest.fixture(scope="session")
def mock_concurrency(start_mock) -> MockServer:
    """One running call per login."""
    return start_mock("concurrency", ["--isolate-users", "--concurrency-limit", "1"])


@pytest.fixture(scope="session")
def mock_paged(start_mock) -> MockServer:
    """Two records per list page."""
    return start_mock("paged", ["--isolate-users", "--page-size", "2"])


@pytest.fixture(scope="session")
def mock_replay(start_mock) -> MockServer:
    """The server the .http exchanges replay against; any login is accepted."""
    return start_mock("replay", ["--isolate-users"])


@pytest.fixture
def trust_mock_ca(monkeypatch: pytest.MonkeyPatch):
    """Return a function that makes requests and httpx trust one mock's CA."""

    def trust(server: MockServer) -> None:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_path))
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_path))
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)

    return trust
