"""Running the sandbox: uvicorn in a background thread, or a child process."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import orjson
import uvicorn

from pipelines.sandbox.app import SandboxApp
from pipelines.sandbox.credentials import SandboxCredentials
from pipelines.sandbox.faults import Faults, SandboxStats
from pipelines.sandbox.org import Org
from pipelines.sandbox.vendor_world import VendorWorld

START_TIMEOUT_SECONDS = 20.0
GENERATED_CUSTOMERS_PER_SECOND = 2000  # a child starts only once its org is generated
STOP_TIMEOUT_SECONDS = 10.0
LOOPBACK = "127.0.0.1"
# Environment variables SandboxProcess hands the secrets over in (never on the command line).
SECRET_ENV = {
    "password": "BADGES_SANDBOX_PASSWORD",
    "client_secret": "BADGES_SANDBOX_CLIENT_SECRET",
}


class _DropInjectedResetNoise(logging.Filter):
    """An injected reset is on purpose; uvicorn would log it as an application error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def quiet_uvicorn_logs() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropInjectedResetNoise) for f in logger.filters):
        logger.addFilter(_DropInjectedResetNoise())


def bind_loopback(host: str, port: int) -> socket.socket:
    """A listening socket on a loopback address (anything else is refused)."""
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise ValueError(f"the sandbox only binds loopback addresses, not {host!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def uvicorn_server(app: SandboxApp) -> uvicorn.Server:
    quiet_uvicorn_logs()
    config = uvicorn.Config(
        app,
        http="httptools",
        loop="auto",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


class SandboxServer:
    """The sandbox on 127.0.0.1 in a daemon thread; port 0 picks a free port. It answers
    from the generated `org`, or from the vendor's `world` when given."""

    def __init__(
        self,
        org: Org | None = None,
        credentials: SandboxCredentials = SandboxCredentials(),  # noqa: B008 (frozen)
        faults: Faults = Faults(),  # noqa: B008 (frozen)
        port: int = 0,
        world: VendorWorld | None = None,
    ) -> None:
        self.org = org
        self.world = world
        self.credentials = credentials
        self.faults = faults
        self.stats = SandboxStats()
        self.app = SandboxApp(org, credentials, faults, self.stats, world)
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> SandboxServer:
        sock = bind_loopback(LOOPBACK, self._port)
        self.base_url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
        self._server = uvicorn_server(self.app)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(STOP_TIMEOUT_SECONDS)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SandboxProcess:
    """The sandbox as a child process (`python -m pipelines.sandbox serve --port 0 ...`)."""

    def __init__(
        self,
        customers: int,
        badges: int,
        seed: int,
        credentials: SandboxCredentials,
        faults: Faults = Faults(),  # noqa: B008 (frozen)
        customers_csv: Path | None = None,
        as_of: dt.date | None = None,
        world: str = "generated",
    ) -> None:
        self.credentials = credentials
        self.args = _serve_args(customers, badges, seed, credentials, faults, customers_csv, as_of)
        self.args.append(f"--world={world}")
        self.start_timeout = START_TIMEOUT_SECONDS + customers / GENERATED_CUSTOMERS_PER_SECOND
        self.base_url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr_tail: deque[str] = deque(maxlen=50)

    def start(self) -> SandboxProcess:
        env = dict(os.environ)
        env[SECRET_ENV["password"]] = self.credentials.password
        env[SECRET_ENV["client_secret"]] = self.credentials.client_secret
        project_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [project_root, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.sandbox", "serve", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        first_line = self._first_line()
        try:
            self.base_url = orjson.loads(first_line)["base_url"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            self.stop()
            tail = "".join(self._stderr_tail)[-2000:]
            raise RuntimeError(f"the sandbox process did not start: {tail}") from error
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        return self

    def _first_line(self) -> bytes:
        result: list[bytes] = []
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        return result[0] if result else b""

    def _drain_stdout(self) -> None:
        if self.process and self.process.stdout:
            for _ in self.process.stdout:
                pass

    def _drain_stderr(self) -> None:
        if self.process and self.process.stderr:
            for line in self.process.stderr:
                self._stderr_tail.append(line.decode(errors="replace"))

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve_args(
    customers: int,
    badges: int,
    seed: int,
    credentials: SandboxCredentials,
    faults: Faults,
    customers_csv: Path | None,
    as_of: dt.date | None,
) -> list[str]:
    options = {
        "host": LOOPBACK,
        "port": 0,
        "customers": customers,
        "badges": badges,
        "seed": seed,
        "username": credentials.username,
        "client-key": credentials.client_key,
        "token-ttl": credentials.token_ttl_seconds,
        "latency-ms": faults.latency_ms,
        "fail-rate": faults.fail_rate,
        "rate-limit": faults.rate_limit,
        "reset-rate": faults.reset_rate,
        "truncate-rate": faults.truncate_rate,
        "revoke-after": faults.revoke_after or None,
        "new-key": faults.new_key,
        "fault-seed": faults.seed,
        "as-of": as_of.isoformat() if as_of is not None else None,
        "customers-csv": customers_csv,
    }
    # `--name=value`: a random key may begin with "-", which argparse would read as an option.
    args = [f"--{name}={value}" for name, value in options.items() if value is not None]
    if faults.drift:
        args.append("--drift")
    if faults.renamed_earns:
        args.append("--renamed-earns")
    if not faults.retry_after:
        args.append("--no-retry-after")
    return args
