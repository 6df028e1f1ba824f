"""Process, wrk and report helpers shared by scripts/bench and scripts/soak.

Every server these helpers start listens on 127.0.0.1 on a port the kernel
picked, and every wrk run is bounded by its -d duration and by a subprocess
timeout. Servers are stopped by the PID of the process this module started,
on normal exit, on an exception and on SIGINT or SIGTERM.
"""

from __future__ import annotations

import atexit
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A target directory of its own, so these release builds never race another
# developer's `cargo build --release` in target/.
TARGET_DIR = REPO / "target" / "bench"
MOCK_BIN = TARGET_DIR / "release" / "qualys-mock"
BARE_BIN = TARGET_DIR / "release" / "examples" / "bare_axum"
WRK_DIR = REPO / "benches" / "wrk"
DOC = REPO / "docs" / "benchmarks.md"
SOAK_HEADING = "## Soak runs"

LOOPBACK = "127.0.0.1"
API_PATH = "/api/2.0/fo/auth/vmware/"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def ensure_tools(*packages: str) -> None:
    """Installs the Debian packages whose command of the same name is missing,
    with apt-get when this runs as root."""
    missing = [name for name in packages if not shutil.which(name)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"error: {' '.join(missing)} not installed; install them "
                 f"(apt-get install {' '.join(missing)}) and rerun")
    log(f"installing {' '.join(missing)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def cargo(*args: str) -> None:
    """Runs cargo in the repository with the bench target directory."""
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET_DIR))
    log("cargo " + " ".join(args))
    subprocess.run(["cargo", *args], cwd=REPO, env=env, check=True)


def build_servers() -> None:
    """Builds the mock binary and the bare_axum example in release mode.

    They are two cargo invocations on purpose: an example build enables the
    dev-dependencies, whose tokio features ("full") would otherwise be
    unified into the mock binary, which then would not be the binary that
    `cargo build --release` ships.
    """
    cargo("build", "--release", "--locked", "--bin", "qualys-mock")
    cargo("build", "--release", "--locked", "--example", "bare_axum")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """Sends one HTTP/1.1 GET to 127.0.0.1 and returns the status and body."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\n"
        "Authorization: Basic YmVuY2g6YmVuY2g=\r\nX-Requested-With: bench\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as conn:
        conn.sendall(request)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    reply = b"".join(chunks)
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


def read_status_kib(pid: int, key: str) -> int:
    """Reads one `kB` field, such as VmRSS, from /proc/PID/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(f"{key} not found in /proc/{pid}/status")


_started: list["Server"] = []


@dataclass
class Server:
    """A server process started by this module, listening on 127.0.0.1."""

    name: str
    command: list[str]
    port: int
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def mock(cls, *extra_args: str) -> "Server":
        port = free_port()
        command = [str(MOCK_BIN), "--listen", f"{LOOPBACK}:{port}", *extra_args]
        return cls("qualys-mock", command, port, extra_env={"RUST_LOG": "warn"})

    @classmethod
    def bare(cls, body_bytes: int) -> "Server":
        port = free_port()
        command = [str(BARE_BIN), f"{LOOPBACK}:{port}", str(body_bytes)]
        return cls("bare_axum", command, port)

    def under_callgrind(self, out_file: Path) -> "Server":
        """Returns the same server run by valgrind's callgrind tool, which
        writes its counts to `out_file` on each dump and at exit."""
        command = ["valgrind", "--tool=callgrind", "--quiet",
                   f"--callgrind-out-file={out_file}", *self.command]
        return Server(self.name + " under callgrind", command, self.port,
                      extra_env=self.extra_env)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> "Server":
        env = dict(os.environ, **self.extra_env)
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            self.command, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        _started.append(self)
        return self

    def wait_healthy(self, timeout: float = 10.0) -> float:
        """Polls GET /__admin/health until it returns 200, and returns the
        seconds since start()."""
        deadline = time.perf_counter() + timeout
        while True:
            if self.process.poll() is not None:
                errors = self.process.stderr.read().decode(errors="replace")
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {errors}")
            try:
                status, _ = http_get(self.port, "/__admin/health", timeout=1.0)
                if status == 200:
                    return time.perf_counter() - self.started_at
            except OSError:
                pass
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.name} on port {self.port} not healthy after {timeout} s")
            time.sleep(0.0005)

    def rss_kib(self) -> int:
        return read_status_kib(self.pid, "VmRSS")

    def peak_rss_kib(self) -> int:
        return read_status_kib(self.pid, "VmHWM")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Sends SIGTERM to this server's PID, then SIGKILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> "Server":
        self.start()
        self.wait_healthy()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _stop_all() -> None:
    for server in _started:
        server.stop()


def _on_signal(signum, _frame) -> None:
    raise SystemExit(f"stopped by signal {signum}")


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, _on_signal)


@dataclass
class WrkSettings:
    threads: int = 2
    connections: int = 32
    timeout_s: int = 10


RESULT_PATTERN = re.compile(r"^WRK_RESULT (.*)$", re.MULTILINE)


def wrk(port: int, script: str, duration_s: float, args: dict[str, int] | None = None,
        settings: WrkSettings = WrkSettings(), stdout_log: Path | None = None,
        popen: bool = False):
    """Runs wrk with a script of benches/wrk against 127.0.0.1:PORT and returns
    the fields of its WRK_RESULT line as numbers.

    With popen=True it returns the running process instead, for the caller
    to pass to wrk_result() when it ends.
    """
    command = [
        "wrk", "-t", str(settings.threads), "-c", str(settings.connections),
        "-d", f"{int(duration_s)}s", "--timeout", f"{settings.timeout_s}s",
        "-s", str(WRK_DIR / script), f"http://{LOOPBACK}:{port}{API_PATH}",
    ]
    if args:
        command.append("--")
        command.extend(f"{key}={value}" for key, value in args.items())
    if popen:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=duration_s + 60)
    return parse_wrk(completed.returncode, completed.stdout, command, stdout_log)


def wrk_result(process: subprocess.Popen, timeout_s: float) -> dict[str, float]:
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise RuntimeError(f"wrk did not finish within {timeout_s} s:\n{output}")
    return parse_wrk(process.returncode, output, process.args, None)


def parse_wrk(returncode: int, output: str, command, stdout_log: Path | None) -> dict[str, float]:
    if stdout_log:
        with open(stdout_log, "a", encoding="utf-8") as log_file:
            log_file.write("$ " + " ".join(map(str, command)) + "\n" + output + "\n")
    match = RESULT_PATTERN.search(output)
    if returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed with exit code {returncode}:\n{output}")
    result = {}
    for pair in match.group(1).split():
        key, value = pair.split("=", 1)
        result[key] = float(value)
    return result


def create_records(server: Server, count: int, prefix: int, settings: WrkSettings,
                   cap_s: int = 900, stdout_log: Path | None = None) -> dict[str, float]:
    """Creates `count` records on a fresh mock with create.lua and limit=count.

    wrk always runs for its whole -d duration, even after its threads stop,
    so this polls the mock for record ID `count` (IDs count from 1 and a
    rejected create takes no ID), then stops wrk with SIGINT. Returns wrk's
    result plus `seconds`, the time from starting wrk to that ID existing,
    measured to within the 50 ms poll interval.
    """
    args = {"prefix": prefix, "threads": settings.threads, "limit": count}
    query = f"{API_PATH}?action=list&details=None&ids={count},{count + 1}"
    started = time.perf_counter()
    process = wrk(server.port, "create.lua", cap_s, args, settings, popen=True)
    seconds = None
    while process.poll() is None:
        status, body = http_get(server.port, query, timeout=30)
        if status == 200 and f"<ID>{count}</ID>".encode() in body:
            seconds = time.perf_counter() - started
            if f"<ID>{count + 1}</ID>".encode() in body:
                raise RuntimeError(f"more than {count} records exist; was the mock fresh?")
            # Let wrk read the last responses, then end its -d wait.
            time.sleep(0.5)
            process.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    result = wrk_result(process, 60)
    if stdout_log:
        with open(stdout_log, "a", encoding="utf-8") as log_file:
            log_file.write(f"create_records {count} prefix={prefix}: {result}\n")
    if seconds is None:
        raise RuntimeError(f"record {count} did not appear within {cap_s} s: {result}")
    result["seconds"] = seconds
    return result


def command_output(*command: str) -> str:
    try:
        completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, cwd=REPO, timeout=30)
        return completed.stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error})"


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    # GIT_OPTIONAL_LOCKS=0 keeps git from refreshing the index while it reads.
    git_env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, env=git_env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=REPO, env=git_env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0
    return {
        "cores (nproc)": command_output("nproc"),
        "CPU": cpu,
        "memory": f"{memory_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "rustc": command_output("rustc", "--version"),
        "wrk": command_output("wrk", "-v").splitlines()[0] if shutil.which("wrk") else "missing",
        "commit": revision + (" with uncommitted changes" if dirty else ""),
    }


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def soak_section(text: str) -> str:
    """Returns the soak section of a benchmarks page, heading included, or ''."""
    index = text.find("\n" + SOAK_HEADING + "\n")
    return text[index + 1:] if index >= 0 else ""
