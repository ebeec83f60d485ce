"""deploy/dagster.yaml keeps the root dagster.yaml's queue, pool, launcher, monitoring and retries,
stores in PostgreSQL, and puts its local files under DAGSTER_HOME wherever a process starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dagster._core.instance.ref import InstanceRef

from tests.deploy.instance import DEPLOY_YAML, PROJECT_ROOT

SHARED_SECTIONS = [
    "telemetry",
    "run_coordinator",
    "concurrency",
    "run_launcher",
    "run_monitoring",
    "run_retries",
]


def test_the_production_instance_runs_nights_as_the_default_instance_does():
    deploy = yaml.safe_load(DEPLOY_YAML.read_text())
    default = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())

    for section in SHARED_SECTIONS:
        assert deploy[section] == default[section], section
    assert deploy["telemetry"] == {"enabled": False}
    assert deploy["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    assert "sqlite" in default["storage"]  # the root one stays the embedded SQLite default


def test_its_local_files_live_under_dagster_home_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(DEPLOY_YAML, home / "dagster.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql+psycopg2://u:p@127.0.0.1:9/none")

    ref = InstanceRef.from_dir(str(home))  # reads the configuration, connects to nothing

    assert ref.storage_data.class_name == "DagsterPostgresStorage"
    assert ref.local_artifact_storage.base_dir == str(home)
    assert yaml.safe_load(ref.compute_logs_data.config_yaml) == {"base_dir": str(home / "storage")}
    assert (ref.run_launcher_data.module_name, ref.run_launcher_data.class_name) == (
        "pipelines.ops.launcher",
        "LocalRunLauncher",
    )
    assert list(elsewhere.iterdir()) == []
