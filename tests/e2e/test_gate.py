"""Never publish a wrong snapshot: an outage, failed calls, revoked credentials or a collapsed
volume leave the published warehouse, its history and the lake exactly as they were."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.sandbox import (
    Faults,
    SandboxCredentials,
    SandboxProcess,
    SandboxServer,
    generate_org,
)
from pipelines.warehouse.history import EVENT_TABLES, VERSIONED_TABLES
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.e2e.stopping import assert_stopped_in_our_words, last_line
from tests.e2e.test_cli import run_cli
from tests.e2e.test_live_readers import api_environment, published_answer

CUSTOMERS, BADGES, SEED = 60, 20, 31


@pytest.fixture(scope="module")
def gate_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    org = generate_org(customers=CUSTOMERS, badges=BADGES, seed=SEED, as_of=today())
    yield from start_pipeline(tmp_path_factory.mktemp("gate-sandbox"), org)


@pytest.fixture(scope="module")
def published_template(tmp_path_factory: pytest.TempPathFactory, gate_pipeline: Pipeline) -> Path:
    """A data directory after one good run."""
    workdir = tmp_path_factory.mktemp("gate-template")
    done = run_cli(workdir, "run", **api_environment(gate_pipeline))
    assert done.returncode == 0, done.stdout + done.stderr
    return workdir / "data"


@pytest.fixture
def data_dir(tmp_path: Path, published_template: Path) -> Lake:
    shutil.copytree(published_template, tmp_path / "data")
    return Lake(tmp_path / "data")


def published_state(lake: Lake) -> dict:
    """What analysts and the next nights see: the warehouse, its history, the lake's files."""
    answer = published_answer(lake.warehouse_path)
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        answer["history"] = {
            t: con.execute(f"SELECT count(*) FROM history.{t}").fetchone()[0]
            for t in [*VERSIONED_TABLES, *EVENT_TABLES]
        }
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        answer["counts_customers"] = con.execute(
            "SELECT count(DISTINCT customer_id) FROM main.customer_badges"
        ).fetchone()[0]
    answer["lake"] = {
        str(path.relative_to(lake.lake_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(lake.lake_dir.rglob("*"))
        if path.is_file() and ".building" not in str(path)
    }
    return answer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def output_of(done) -> str:
    return done.stdout + done.stderr


def test_api_down_fails_naming_the_host_and_the_next_good_run_publishes(
    tmp_path: Path, data_dir: Lake, gate_pipeline: Pipeline
):
    before = published_state(data_dir)
    port = closed_port()
    down = {**api_environment(gate_pipeline), "CAPILLARY_BASE_URL": f"http://127.0.0.1:{port}"}

    failed = run_cli(tmp_path, "run", **down)

    assert failed.returncode == 1, output_of(failed)
    assert "NOT published" in failed.stdout
    unreachable = f"API unreachable: cannot connect to http://127.0.0.1:{port}"
    assert last_line(failed).startswith(f"  raw_api_responses: {unreachable}"), failed.stdout
    message = last_line(failed).removeprefix("  raw_api_responses: ")
    assert_stopped_in_our_words(failed, tmp_path / "dagster", "raw_api_responses", message)
    assert "customers," not in failed.stderr  # stopped before the first customer
    assert published_state(data_dir) == before

    recovered = run_cli(tmp_path, "run", **api_environment(gate_pipeline))
    assert recovered.returncode == 0, output_of(recovered)
    after = published_answer(data_dir.warehouse_path)
    assert after["info"] != before["info"] and after["counts"] == before["counts"]


def test_sustained_5xx_are_refused_with_the_failures_by_kind(
    tmp_path: Path, data_dir: Lake, gate_pipeline: Pipeline
):
    before = published_state(data_dir)
    credentials = SandboxCredentials()
    with SandboxProcess(
        CUSTOMERS, BADGES, SEED, credentials, Faults(fail_rate=0.8, seed=3), as_of=today()
    ) as failing:
        done = run_cli(
            tmp_path,
            "run",
            **{**api_environment(gate_pipeline), "CAPILLARY_BASE_URL": failing.base_url},
        )

    assert done.returncode == 1, output_of(done)
    assert "snapshot refused" in done.stdout
    assert "calls failed" in done.stdout and "5xx " in done.stdout
    assert published_state(data_dir) == before


def test_failures_under_the_threshold_publish_are_recorded_and_lose_no_rows(
    tmp_path: Path, data_dir: Lake, gate_pipeline: Pipeline
):
    before = published_answer(data_dir.warehouse_path)["counts"]
    faults = Faults(fail_rate=0.5, seed=8)
    with SandboxServer(gate_pipeline.org, gate_pipeline.credentials, faults) as flaky:
        environment = {**api_environment(gate_pipeline), "CAPILLARY_BASE_URL": flaky.base_url}
        done = run_cli(tmp_path, "run", BADGES_MAX_FAILED_SHARE="0.05", **environment)

    assert done.returncode == 0, output_of(done)
    with duckdb.connect(str(data_dir.warehouse_path), read_only=True) as con:
        failed_rows = con.execute(
            "SELECT count(*) FROM main.extract_errors WHERE error_code = 'http_5xx'"
        ).fetchone()[0]
        recorded = con.execute("SELECT failed_calls FROM main.snapshot_info").fetchone()[0]
    assert failed_rows > 0
    assert recorded == failed_rows
    assert f"failed calls {failed_rows:,} (http_5xx {failed_rows:,})" in done.stdout
    # a customer whose list failed kept its last rows, a pair whose detail failed its detail
    fetched = re.search(r"customers (\d+) \(lists fetched for (\d+);", done.stdout)
    assert fetched and int(fetched.group(2)) < int(fetched.group(1))
    after = published_answer(data_dir.warehouse_path)["counts"]
    for table in ("customer_badges", "customer_badge_details", "badge_earns", "badge_issuals"):
        assert after[table] == before[table], table


def test_a_collapsed_volume_is_refused_with_both_counts_and_published_when_accepted(
    tmp_path: Path, data_dir: Lake, gate_pipeline: Pipeline
):
    before = published_state(data_dir)
    with gate_pipeline.customers_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    kept = tmp_path / "customers-40-percent.csv"
    with kept.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[: len(rows) * 2 // 5])
    environment = {**api_environment(gate_pipeline), "CAPILLARY_CUSTOMERS": str(kept)}

    refused = run_cli(tmp_path, "run", **environment)

    assert refused.returncode == 1, output_of(refused)
    collapsed = re.fullmatch(
        r"  raw_api_responses: (snapshot refused: volume collapsed against the published "
        r"snapshot, more than the allowed 20%: customers \d+ .*\. If this is expected, run "
        r"again with --accept-drop\.)",
        last_line(refused),
    )
    assert collapsed, refused.stdout
    message = collapsed.group(1)
    assert_stopped_in_our_words(refused, tmp_path / "dagster", "raw_api_responses", message)
    assert refused.stdout.count("volume collapsed") == 1  # the gate's verdict said once
    counts = re.search(r"customers (\d+) \(published (\d+), -(\d+)%\)", refused.stdout)
    assert counts, refused.stdout
    kept_keys = {(row["customer_id"], row["identifier_type"]) for row in rows[: len(rows) * 2 // 5]}
    with duckdb.connect(str(data_dir.warehouse_path), read_only=True) as con:
        listed = set(
            con.execute(
                "SELECT DISTINCT customer_id, identifier_type FROM main.customer_badges"
            ).fetchall()
        )
    assert int(counts.group(1)) == len(listed & kept_keys)
    assert int(counts.group(2)) == before["counts_customers"]
    assert int(counts.group(3)) >= 50
    assert "--accept-drop" in refused.stdout
    assert published_state(data_dir) == before

    requests_before = gate_pipeline.server.stats.total_requests
    accepted = run_cli(tmp_path, "run", "--accept-drop", **environment)

    assert accepted.returncode == 0, output_of(accepted)
    assert gate_pipeline.server.stats.total_requests == requests_before  # resumed, no call
    after = published_answer(data_dir.warehouse_path)
    assert after["counts"]["customer_badges"] < before["counts"]["customer_badges"]


def test_unknown_customers_are_vendor_answers_and_do_not_trip_the_gate(
    tmp_path: Path, data_dir: Lake, gate_pipeline: Pipeline
):
    unknown = [f"99{n:08d}" for n in range(CUSTOMERS // 10)]
    with_unknown = tmp_path / "customers-with-unknown.csv"
    shutil.copyfile(gate_pipeline.customers_csv, with_unknown)
    with with_unknown.open("a", newline="") as handle:
        csv.writer(handle).writerows([[customer, "id"] for customer in unknown])
    environment = {**api_environment(gate_pipeline), "CAPILLARY_CUSTOMERS": str(with_unknown)}

    done = run_cli(tmp_path, "run", **environment)

    assert done.returncode == 0, output_of(done)
    with duckdb.connect(str(data_dir.warehouse_path), read_only=True) as con:
        answers = con.execute(
            "SELECT customer_id, count(*) FROM main.extract_errors WHERE error_code = '1026' "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        failed = con.execute("SELECT failed_calls FROM main.snapshot_info").fetchone()[0]
    assert answers == [(customer, 4) for customer in unknown]  # one per list type
    assert failed == 0


def test_credentials_revoked_mid_run_stop_it_and_publish_nothing(
    tmp_path: Path, data_dir: Lake, gate_pipeline: Pipeline
):
    before = published_state(data_dir)
    faults = Faults(revoke_after=150)
    with SandboxServer(gate_pipeline.org, gate_pipeline.credentials, faults) as revoking:
        environment = {**api_environment(gate_pipeline), "CAPILLARY_BASE_URL": revoking.base_url}
        done = run_cli(tmp_path, "run", **environment)
        served = revoking.stats.total_requests

    assert done.returncode == 1, output_of(done)
    assert "authentication failed" in done.stdout
    assert gate_pipeline.credentials.password not in output_of(done)
    assert served < 250  # it stopped at the first refusal, not after every call
    assert published_state(data_dir) == before
