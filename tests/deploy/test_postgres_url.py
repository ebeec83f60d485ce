"""DAGSTER_POSTGRES_URL in the form hosted PostgreSQL services hand out (postgresql://, no
driver) runs a night into PostgreSQL; a URL Dagster cannot use is one line naming the variable."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from pipelines.ops.postgres_url import UnusablePostgresUrl, with_installed_driver
from tests.clock import today
from tests.deploy.instance import clean_environment, dagster_url, prepare_deploy_home, run_badges
from tests.services.postgres import PostgresServer

DATABASE = "deploy_bare_url"


@pytest.mark.parametrize(
    ("given", "usable"),
    [
        ("postgresql://u@db:5432/dagster", "postgresql+psycopg2://u@db:5432/dagster"),
        ("postgres://u:p@db/dagster", "postgresql+psycopg2://u:p@db/dagster"),
        ("postgresql+psycopg2://u@db/dagster", "postgresql+psycopg2://u@db/dagster"),
        ("postgresql:///dagster?host=/run/pg", "postgresql+psycopg2:///dagster?host=/run/pg"),
    ],
)
def test_a_postgresql_url_with_or_without_a_driver_uses_psycopg2(given: str, usable: str):
    assert with_installed_driver(given) == usable


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("db.internal:5432/dagster", "is not a URL"),
        ("mysql://u:secret@db/dagster", "has the scheme mysql://"),
        ("postgresql+psycopg://u:secret@db/dagster", "has the scheme postgresql+psycopg://"),
        ("postgresql://u:secret@db:port/dagster", "has a malformed host or port"),
        ("postgresql:///dagster", "names no host"),
    ],
)
def test_an_unusable_url_is_refused_without_repeating_it(given: str, reason: str):
    with pytest.raises(UnusablePostgresUrl) as refused:
        with_installed_driver(given)
    assert str(refused.value).startswith(f"DAGSTER_POSTGRES_URL {reason}")
    assert "secret" not in str(refused.value)


def test_badges_refuses_an_unusable_url_in_one_line(tmp_path: Path):
    environment = clean_environment(
        DAGSTER_HOME=str(tmp_path),
        DAGSTER_POSTGRES_URL="mysql://u:secret@db/dagster",
        BADGES_DATA_DIR=str(tmp_path / "data"),
    )

    done = run_badges("status", environment=environment, cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "badges status: error: DAGSTER_POSTGRES_URL has the scheme mysql://; "
        "expected postgresql:// or postgresql+psycopg2://"
    ]


def test_a_bare_postgresql_url_lands_the_night_in_postgresql(
    tmp_path: Path, postgres: PostgresServer
):
    home = prepare_deploy_home(tmp_path / "home", dagster_url(postgres, DATABASE))
    bare = postgres.url_of(DATABASE)
    assert bare.startswith("postgresql://")
    environment = clean_environment(
        DAGSTER_HOME=str(home), DAGSTER_POSTGRES_URL=bare, BADGES_DATA_DIR=str(tmp_path / "data")
    )

    done = run_badges("run", environment=environment, cwd=tmp_path)
    status = run_badges("status", environment=environment, cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    with contextlib.closing(postgres.connect(DATABASE)) as con, con.cursor() as cursor:
        cursor.execute("SELECT run_id, status, partition FROM runs")
        ((run_id, run_status, partition),) = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM event_logs WHERE run_id = %s", (run_id,))
        ((events,),) = cursor.fetchall()
    assert (run_status, partition) == ("SUCCESS", today().isoformat())
    assert events > 0
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"last run    nightly_snapshot {today()}: SUCCESS (run {run_id}, " in status.stdout
