"""Rotation through the real extraction: carried customers keep their rows and the night they
were fetched, active customers are fetched the same night, and a night that fetches everyone
equals a full pull.

The nights are a simulation: each one calls the sandbox, whose org is its current state, and
files the answers under the night's date, as consecutive nights would. (The `badges run`
entry point only ever extracts today; this drives the same core below it.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.client.settings import ApiSettings, ClientTuning
from pipelines.extract.customers import CustomerRef, load_customers
from pipelines.lake import Lake
from pipelines.lake.tables import CUSTOMER_TABLES, TABLES
from pipelines.night.night import run_night
from pipelines.night.options import NightOptions
from pipelines.night.planner import Population
from pipelines.night.prepare import prepare_night
from pipelines.sandbox import SandboxApiError, generate_org
from pipelines.warehouse.checks import list_totals, run_all_checks
from pipelines.warehouse.loader import load_snapshot, open_staging
from tests.e2e.conftest import Pipeline, start_pipeline, today

NIGHTS = 3
ROTATED_NIGHTS = 6


def run_simulated_night(
    pipeline: Pipeline, lake: Lake, day: dt.date, nights: int, active=(), full_refresh=False
):
    settings = ApiSettings(
        base_url=pipeline.server.base_url,
        username=pipeline.credentials.username,
        password=pipeline.credentials.password,
        tuning=ClientTuning(concurrency=16, page_size=10),
    )
    options = NightOptions(rotation_nights=nights, full_refresh=full_refresh)
    customers = load_customers(pipeline.customers_csv)
    population = Population.of(day, customers, list(active), settings.base_url, page_size=10)
    night = prepare_night(lake, population, options)
    return night, run_night(settings, night, options)


def earn_for_someone(pipeline: Pipeline, customers: list[CustomerRef], night: int) -> CustomerRef:
    """Adds an earn to a customer (a different one each night) and returns them."""
    by_id = {c.customer_id: c for c in customers if c.identifier_type == "id"}
    pairs = sorted(p for p in pipeline.org.listed_pairs() if p[0] in by_id)
    for customer_id, badge_id in pairs[night * 7 :] + pairs[: night * 7]:
        try:
            pipeline.org.add_earn(customer_id, badge_id)
        except SandboxApiError:
            continue
        return by_id[customer_id]
    raise AssertionError("no pair accepts another earn")


def rows(lake: Lake, table: str, day: dt.date, without: tuple[str, ...] = ()) -> list[tuple]:
    columns = ", ".join(
        f"CAST({c.name} AS VARCHAR)" if c.json else c.name
        for c in TABLES[table].columns
        if c.name not in without
    )
    files = (lake.table_dir(table, day) / "*.parquet").as_posix()
    with duckdb.connect() as con:
        return sorted(
            con.execute(f"SELECT {columns} FROM read_parquet('{files}')").fetchall(), key=repr
        )


@pytest.fixture
def rotating(tmp_path: Path):
    org = generate_org(customers=45, badges=18, seed=29, as_of=today())
    runs = start_pipeline(tmp_path, org)
    yield next(runs)
    runs.close()


def test_rotated_nights_carry_customers_forward_and_a_full_night_equals_a_full_pull(
    rotating: Pipeline, tmp_path: Path
):
    lake = Lake(tmp_path / "rotated")
    customers = load_customers(rotating.customers_csv)
    first = today() - dt.timedelta(days=ROTATED_NIGHTS)
    badges_only_carried = set()
    for night in range(ROTATED_NIGHTS):
        day = first + dt.timedelta(days=night)
        active = [earn_for_someone(rotating, customers, night)] if night else []
        prepared, outcome = run_simulated_night(rotating, lake, day, NIGHTS, active)

        fetched_on = {
            (customer_id, identifier_type): fetched
            for _, fetched, customer_id, identifier_type, *_ in rows(lake, "customer_badges", day)
        }
        assert all((day - when).days < NIGHTS for when in fetched_on.values()), day
        for customer in active:
            assert fetched_on[(customer.customer_id, customer.identifier_type)] == day
        if night >= NIGHTS:  # past the first round, some customers are carried each night
            assert prepared.rotation.carried > 0
            assert outcome.normalized.carried["customer_badges"] > 0
            assert min(fetched_on.values()) < day
        assert outcome.note.rotation_nights == NIGHTS
        listed = rows(lake, "customer_badges", day)
        fetched_badges = {row[4] for row in listed if row[1] == day}
        badges_only_carried |= {row[4] for row in listed} - fetched_badges
        load_snapshot(lake, day)  # the warehouse's blocking checks hold on a rotated night
        with open_staging(lake, day) as con:
            outcomes = run_all_checks(con, day, list_totals(lake.raw_files(day)))
        assert [o.name for o in outcomes if not o.passed] == [], day

    assert badges_only_carried  # some badge was listed by carried customers alone
    everyone, _ = run_simulated_night(rotating, lake, today(), nights=1)
    full = Lake(tmp_path / "full")
    run_simulated_night(rotating, full, today(), nights=1, full_refresh=True)

    assert everyone.rotation.carried == 0
    for table in TABLES:
        if table == "extract_errors":
            continue
        fetched_rows = rows(lake, table, today(), without=("fetched_on",))
        assert fetched_rows == rows(full, table, today(), without=("fetched_on",)), table
    assert {t.name for t in CUSTOMER_TABLES} <= set(TABLES)
