"""A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory, the server on
a free port of 127.0.0.1 (its unix socket inside that directory), stopped and removed after.

PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` user
and its commands run as that user. The tests skip, saying why, when the server binaries
(`pg_config --bindir`) or that user are missing.

    def test_something(postgres: PostgresServer):
        url = postgres.new_database("mine")  # postgresql://user:pass@127.0.0.1:PORT/mine
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import pytest

USER = "badges"
DATABASE = "badges"
SERVER_USER = "postgres"  # who owns the cluster when the tests run as root
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it
# A test cluster holds nothing worth a crash: no waiting for the disk.
SERVER_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class PostgresUnavailable(Exception):
    """No PostgreSQL server binaries, or no user to run them as."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    directory: Path = field(repr=False)

    def url_of(self, database: str, driver: str | None = None) -> str:
        """libpq's URL of `database`; with `driver`, SQLAlchemy's (postgresql+DRIVER://)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        """The URL of the database created with the cluster."""
        return self.url_of(self.database)

    def connect(self, database: str | None = None) -> Any:
        """A psycopg2 connection, autocommit, to `database` (default: the cluster's own)."""
        connection = psycopg2.connect(self.url_of(database or self.database))
        connection.autocommit = True
        return connection

    def new_database(self, name: str) -> str:
        """Creates an empty database `name` (dropping one of that name first); its URL."""
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        return self.url_of(name)


def server_bindir() -> Path:
    """Where initdb, pg_ctl and postgres are: `pg_config --bindir`, else Debian's layout."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False, timeout=30
        )
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: "
        "neither in `pg_config --bindir` nor under /usr/lib/postgresql/*/bin"
    )


def _server_user() -> dict[str, Any]:
    """subprocess arguments running a command as the cluster's owner (none unless root)."""
    if os.geteuid() != 0:
        return {}
    try:
        owner = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"PostgreSQL refuses to run as root and there is no {SERVER_USER!r} user to run as"
        ) from None
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Cluster:
    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.as_owner = _server_user()
        if self.as_owner:
            os.chown(directory, self.as_owner["user"], self.as_owner["group"])

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.directory,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", "LC_ALL": "C"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self.as_owner,
        )

    def init(self, password: str) -> None:
        password_file = self.directory / "password"
        password_file.write_text(password + "\n")
        if self.as_owner:
            os.chown(password_file, self.as_owner["user"], self.as_owner["group"])
        done = self.run(
            "initdb", "-D", str(self.data), "-U", USER, f"--pwfile={password_file}",
            "--auth-host=scram-sha-256", "--auth-local=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        password_file.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stdout}{done.stderr}")

    def start(self) -> int:
        for _ in range(START_ATTEMPTS):
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {self.directory} {SERVER_SETTINGS}"
            )
            done = self.run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                "-w", "-t", "60", "start",
            )  # fmt: skip
            if done.returncode == 0:
                return port
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            if "could not bind" not in log and "already in use" not in log:
                break
        raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}\n{log[-2000:]}")

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():  # pg_ctl could not stop it: end the server this cluster started
            with contextlib.suppress(ValueError, IndexError, OSError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


@contextlib.contextmanager
def started_postgres() -> Iterator[PostgresServer]:
    """A running cluster with one database; stopped and deleted on exit, even after a failure.

    Raises PostgresUnavailable when it cannot be started here (no binaries, no user)."""
    bindir = server_bindir()
    directory = Path(tempfile.mkdtemp(prefix="badges-pg-"))
    try:
        cluster = _Cluster(bindir, directory)
        password = secrets.token_hex(12)
        cluster.init(password)
        port = cluster.start()
        try:
            server = PostgresServer("127.0.0.1", port, USER, password, "postgres", directory)
            server.new_database(DATABASE)
            yield PostgresServer("127.0.0.1", port, USER, password, DATABASE, directory)
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole session; give each module its own database
    (`postgres.new_database(name)`)."""
    try:
        with started_postgres() as server:
            yield server
    except PostgresUnavailable as why:
        pytest.skip(str(why))
