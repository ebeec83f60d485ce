"""`badges doctor` against the sandbox: every line ok for a good configuration, and one FAIL line
saying exactly what is wrong, without a secret, for each broken part."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.ops.conftest import Api
from tests.ops.processes import prepare_home, run_badges


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_home(tmp_path_factory.mktemp("doctor-home"))


def doctor(api: Api, data_dir: Path, home: Path, **overrides: str):
    environment = api.environment(data_dir, DAGSTER_HOME=str(home), **overrides)
    done = run_badges("doctor", environment=environment)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def lines_of(done: subprocess.CompletedProcess[str], mark: str) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith(mark)]


def test_a_good_configuration_passes_every_check(tmp_path: Path, api: Api, home: Path):
    oauth = {
        "CAPILLARY_CLIENT_KEY": api.credentials.client_key,
        "CAPILLARY_CLIENT_SECRET": api.credentials.client_secret,
    }
    done = doctor(api, tmp_path / "data", home, **oauth)

    assert done.returncode == 0, done.stdout
    assert lines_of(done, "FAIL") == [] and lines_of(done, "skip") == []
    for check in (
        "Dagster instance",
        "data dir writable",
        "no other process holds the warehouse for writing",
        "warehouse build: DuckDB within 2GiB on ",
        f"customers file: {api.customers_csv} (40 customers)",
        f"base URL answers: {api.server.base_url}",
        "credentials: Basic and OAuth configured",
        f"authentication (Basic): user {api.credentials.username} accepted",
        "authentication (OAuth): client key accepted",
        "list call (customer_badges)",
        "detail call (customer_badge_detail)",
        "meta call (badge_meta)",
    ):
        assert any(line.startswith(f"ok   {check}") for line in done.stdout.splitlines()), check
    disk = rf"ok   disk space: [\d,]+\.\d MiB free in {re.escape(str(tmp_path / 'data'))}; "
    assert any(re.match(disk + "a night needs ", line) for line in done.stdout.splitlines())
    assert "first night: 40 customers" in done.stdout
    for secret in (
        api.credentials.password,
        api.credentials.client_secret,
        oauth["CAPILLARY_CLIENT_KEY"],
    ):
        assert secret not in done.stdout + done.stderr


def test_without_a_base_url_the_embedded_sandbox_is_checked(tmp_path: Path, api: Api, home: Path):
    unset = {name: "" for name in ("CAPILLARY_BASE_URL", "CAPILLARY_CUSTOMERS")}
    done = doctor(api, tmp_path / "data", home, **unset)

    assert done.returncode == 0, done.stdout
    assert "ok   CAPILLARY_BASE_URL unset: the embedded sandbox is used; it starts" in done.stdout
    assert len(lines_of(done, "ok   ")) >= 9


def test_a_wrong_password_fails_authentication_without_showing_it(
    tmp_path: Path, api: Api, home: Path
):
    wrong = "wrong-password-5e1f"
    done = doctor(api, tmp_path / "data", home, CAPILLARY_PASSWORD=wrong)

    assert done.returncode == 1
    failed = lines_of(done, "FAIL")
    assert len(failed) == 1 and failed[0].startswith("FAIL authentication (Basic): HTTP 401")
    assert wrong not in done.stdout + done.stderr
    assert api.credentials.password not in done.stdout + done.stderr


def test_a_missing_customers_file_is_named(tmp_path: Path, api: Api, home: Path):
    missing = tmp_path / "no-such-customers.csv"
    done = doctor(api, tmp_path / "data", home, CAPILLARY_CUSTOMERS=str(missing))

    assert done.returncode == 1
    assert lines_of(done, "FAIL") == [f"FAIL customers file: {missing}: customers file not found"]


@pytest.fixture
def warehouse_held_for_writing(tmp_path: Path) -> Iterator[Path]:
    """Another process with the warehouse open read-write, as a stray analyst session."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('open', flush=True); time.sleep(120)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        yield warehouse
    finally:
        holder.kill()
        holder.wait()


def test_a_warehouse_held_for_writing_fails(
    tmp_path: Path, api: Api, home: Path, warehouse_held_for_writing: Path
):
    done = doctor(api, tmp_path / "data", home)

    assert done.returncode == 1
    failed = lines_of(done, "FAIL")
    assert len(failed) == 1, done.stdout
    assert failed[0].startswith("FAIL no other process holds the warehouse for writing: ")
    assert f"{warehouse_held_for_writing} is open read-write in another process" in failed[0]


def test_a_malformed_duckdb_memory_limit_fails_naming_the_variable(
    tmp_path: Path, api: Api, home: Path
):
    done = doctor(api, tmp_path / "data", home, BADGES_DUCKDB_MEMORY_LIMIT="plenty")

    assert done.returncode == 1
    assert lines_of(done, "FAIL") == [
        "FAIL warehouse build: BADGES_DUCKDB_MEMORY_LIMIT must be a size such as 2GiB or "
        "1500MB, got 'plenty'"
    ], done.stdout


@pytest.mark.parametrize("where", ["under a plain file", "in /proc"])
def test_a_data_dir_that_cannot_exist_fails_once_naming_it(
    tmp_path: Path, api: Api, home: Path, where: str
):
    if where == "in /proc":
        data_dir = Path("/proc/nope")
        cause = "cannot be created in /proc: "
    else:
        (tmp_path / "plain").write_text("a file, not a directory\n")
        data_dir = tmp_path / "plain" / "data"
        cause = f"cannot be created: {tmp_path / 'plain'} is a file, not a directory"
    done = doctor(api, data_dir, home)

    assert done.returncode == 1
    failed = lines_of(done, "FAIL")
    assert len(failed) == 1, done.stdout
    assert failed[0].startswith(f"FAIL data dir writable: BADGES_DATA_DIR {data_dir} {cause}")
    assert lines_of(done, "ok   disk space") == []
    assert f"skip disk space: {data_dir} cannot be used (see above)" in done.stdout
    assert not data_dir.exists()


def test_the_run_stops_on_the_same_line_the_doctor_prints(tmp_path: Path, api: Api, home: Path):
    (tmp_path / "plain").write_text("a file, not a directory\n")
    data_dir = tmp_path / "plain" / "data"
    environment = api.environment(data_dir, DAGSTER_HOME=str(home))
    doctor_line = lines_of(run_badges("doctor", environment=environment), "FAIL")[0]

    done = run_badges("run", environment=environment)

    assert done.returncode == 1
    problem = doctor_line.removeprefix("FAIL data dir writable: ")
    assert problem in done.stdout, done.stdout
    assert "NotADirectoryError" not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
