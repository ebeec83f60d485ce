"""The production instance of deploy/dagster.yaml over a test PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance

from tests.services.postgres import PostgresServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_YAML = PROJECT_ROOT / "deploy" / "dagster.yaml"
# SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, whose server-side parameters
# dagster-postgres's statements do not work with: Dagster's URL names psycopg2.
DRIVER = "psycopg2"


def dagster_url(postgres: PostgresServer, database: str) -> str:
    """An empty database `database`, as DAGSTER_POSTGRES_URL names it."""
    postgres.new_database(database)
    return postgres.url_of(database, driver=DRIVER)


def open_instance(home: Path, postgres_url: str) -> DagsterInstance:
    """The instance of `home`/dagster.yaml, as a process with these variables loads it.

    The variables are read only while the instance loads; this process keeps none of them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        patch.setenv("DAGSTER_POSTGRES_URL", postgres_url)
        return DagsterInstance.from_config(str(home))


def prepare_deploy_home(home: Path, postgres_url: str) -> Path:
    """A DAGSTER_HOME holding a verbatim copy of deploy/dagster.yaml, its tables created.

    Creating the tables before any service starts keeps the processes from racing to."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEPLOY_YAML, home / "dagster.yaml")
    open_instance(home, postgres_url).dispose()
    return home


def clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without the project's and Dagster's variables, plus these."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAPILLARY_", "BADGES_", "DAGSTER_"))
    }
    environment.update(variables)
    return environment


def run_badges(
    *args: str, environment: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`badges ARGS` in its own process, from `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
