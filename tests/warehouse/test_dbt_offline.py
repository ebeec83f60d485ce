"""dbt needs no network: `dbt parse` and `dbt docs generate` in a network namespace with no
interface but loopback (`unshare -rn`), as on a machine that reaches only its package
registry, or none at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.warehouse.dbt_project import (
    PROJECT_DIR,
    QUIET_DBT,
    dbt_environment,
    dbt_executable,
    model_names,
)

UNSHARE = shutil.which("unshare")


def offline(args: list[str], database: Path, target: Path) -> subprocess.CompletedProcess[str]:
    command = [UNSHARE or "unshare", "-rn", dbt_executable(), *args]
    command += ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    command += ["--target-path", str(target), "--log-path", str(target)]
    env = {**os.environ, **QUIET_DBT, **dbt_environment(database)}
    # Even with the usage statistics and the version check left on, nothing may be needed.
    env.pop("DBT_SEND_ANONYMOUS_USAGE_STATS")
    env.pop("DBT_VERSION_CHECK")
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def no_network() -> None:
    probe = subprocess.run([UNSHARE or "unshare", "-rn", "true"], capture_output=True, check=False)
    if UNSHARE is None or probe.returncode != 0:
        pytest.skip(f"no network namespace on this machine: {probe.stderr!r}")


def test_dbt_parse_needs_no_network(no_network, tmp_path: Path) -> None:
    done = offline(["parse"], tmp_path / "none.duckdb", tmp_path / "target")
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    built = {
        node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"
    }
    assert built == set(model_names())


def test_dbt_docs_generate_needs_no_network(no_network, tmp_path: Path) -> None:
    done = offline(["docs", "generate"], tmp_path / "empty.duckdb", tmp_path / "target")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "target" / "index.html").stat().st_size > 100_000  # the docs site, whole
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert catalog["metadata"]["dbt_version"]
