"""The analysts' models: a dbt project in `sql/`, one model per `sql/<model>.sql`.

What each model is (description, grain, key, typed and described columns) is written once,
in `sql/models.yml`; what each model reads comes from dbt's manifest (its `ref()` and
`source()` calls), which `dbt parse` writes to `sql/target/manifest.json`. dbt builds the
models into schema `analytics` of the DuckDB file named by `BADGES_DBT_DATABASE`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.lake.engine import engine_settings
from pipelines.lake.layout import Lake

PROJECT_DIR = Path(__file__).resolve().parents[2] / "sql"
MODELS_YAML = PROJECT_DIR / "models.yml"
TARGET_DIR = PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
PARTIAL_PARSE = "partial_parse.msgpack"
PROJECT_NAME = "badges"
MODEL_SCHEMA = "analytics"
DATABASE_VARIABLE = "BADGES_DBT_DATABASE"
SNAPSHOT_VAR = "snapshot_date"
# dbt asks the network for nothing with these set; its start-up stays local.
QUIET_DBT = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false"}
# What the project is parsed under, always the same: dbt reuses its partial parse only when
# the profile's values are unchanged. None is opened; the database file's first dot part
# names the catalog the manifest's models live in, "warehouse" like every night's file.
PARSE_DATABASE = TARGET_DIR / "warehouse.duckdb"
PARSE_SETTINGS = {
    "BADGES_DUCKDB_MEMORY_LIMIT": "2GiB",
    "BADGES_DUCKDB_THREADS": "2",
    "BADGES_DBT_TIMEZONE": "UTC",
}


@dataclass(frozen=True)
class ModelDoc:
    name: str
    description: str
    grain: str
    key: tuple[str, ...]
    columns: dict[str, tuple[str, str]]  # column -> (DuckDB type, meaning), in built order


@cache
def model_docs() -> dict[str, ModelDoc]:
    """Every model of sql/models.yml, by name, sorted."""
    entries = yaml.safe_load(MODELS_YAML.read_text(encoding="utf-8"))["models"]
    docs = {}
    for entry in entries:
        meta = entry.get("meta", {})
        columns = {c["name"]: (c["data_type"], c["description"]) for c in entry["columns"]}
        docs[entry["name"]] = ModelDoc(
            entry["name"], entry["description"], meta["grain"], tuple(meta["key"]), columns
        )
    return dict(sorted(docs.items()))


def model_names() -> list[str]:
    """Every model, sorted: the `sql/<model>.sql` files sql/models.yml describes."""
    return list(model_docs())


def model_sql(name: str, project_dir: Path = PROJECT_DIR) -> str:
    """The SQL (dbt Jinja) of a model."""
    path = project_dir / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no model {name!r} (looked for {path})")
    return path.read_text(encoding="utf-8")


def dbt_executable() -> str:
    """The dbt command installed beside this interpreter."""
    return str(Path(sys.executable).parent / "dbt")


def dbt_environment(database: Path, lake: Lake | None = None) -> dict[str, str]:
    """Variables a dbt process needs to build into `database` under the engine settings."""
    env = {**QUIET_DBT, DATABASE_VARIABLE: str(database)}
    if lake is not None:
        settings = engine_settings(lake)
        env |= {
            "BADGES_DUCKDB_MEMORY_LIMIT": settings.memory_limit,
            "BADGES_DUCKDB_THREADS": str(settings.threads),
        }
    return env


def night_vars(snapshot_date: dt.date) -> str:
    """The `--vars` argument of a night's dbt invocation."""
    return json.dumps({SNAPSHOT_VAR: snapshot_date.isoformat()})


def project_files(project_dir: Path = PROJECT_DIR) -> list[Path]:
    """The files dbt reads to parse the project."""
    return [
        path
        for pattern in ("*.sql", "*.yml", "tests/**/*.sql")
        for path in project_dir.glob(pattern)
    ]


def manifest_is_current(project_dir: Path = PROJECT_DIR) -> bool:
    """True when the manifest exists and is newer than every file of the project."""
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in project_files(project_dir))


def ensure_manifest(project_dir: Path = PROJECT_DIR) -> Path:
    """Runs `dbt parse` when the manifest is missing or older than the project; its path.

    Offline: parsing reads only the project. A lock keeps two processes loading the code
    location at once (the test workers, the webserver and the daemon) from parsing together.
    """
    target = project_dir / "target"
    if not manifest_is_current(project_dir):
        target.mkdir(exist_ok=True)
        with (target / ".parse.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not manifest_is_current(project_dir):
                # dbt parse never opens the database the profile names.
                run_dbt(
                    ["parse", "--quiet"],
                    target / PARSE_DATABASE.name,
                    extra_env=PARSE_SETTINGS,
                    project_dir=project_dir,
                )
        model_reads.cache_clear()
    return target / "manifest.json"


def parse_environment(project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The fixed values every parse of the project runs under, in this process or not."""
    return {**dbt_environment(project_dir / "target" / PARSE_DATABASE.name), **PARSE_SETTINGS}


def run_dbt(
    args: list[str],
    database: Path,
    extra_env: Mapping[str, str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> subprocess.CompletedProcess[str]:
    """Runs the dbt CLI on the project against `database`; raises with dbt's output on failure."""
    env = {**os.environ, **dbt_environment(database), **(extra_env or {})}
    command = [dbt_executable(), *args, "--project-dir", str(project_dir)]
    command += ["--profiles-dir", str(project_dir)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DbtFailedError(f"dbt {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


class DbtFailedError(RuntimeError):
    """A dbt command ended with an error; the message carries its output."""


def build_models(database: Path, snapshot_date: dt.date | None = None, **env: str) -> None:
    """Builds and tests every model into `database` (every connection to it closed)."""
    target = database.parent / "dbt-target"
    target.mkdir(exist_ok=True)
    if (TARGET_DIR / PARTIAL_PARSE).exists():  # parsing again only what changed
        shutil.copy(TARGET_DIR / PARTIAL_PARSE, target / PARTIAL_PARSE)
    args = ["build", "--target-path", str(target), "--log-path", str(target)]
    if snapshot_date is not None:
        args += ["--vars", night_vars(snapshot_date)]
    run_dbt(args, database, extra_env=env)


def load_manifest() -> dict[str, Any]:
    return json.loads(ensure_manifest().read_text(encoding="utf-8"))


@cache
def model_reads(name: str) -> set[str]:
    """What a model reads, as `main.<table>` and `analytics.<model>`, from the manifest."""
    manifest = load_manifest()
    node = manifest["nodes"][f"model.{PROJECT_NAME}.{name}"]
    reads = set()
    for parent in node["depends_on"]["nodes"]:
        kind, _, *rest = parent.split(".")
        schema = MODEL_SCHEMA if kind == "model" else rest[0]
        reads.add(f"{schema}.{rest[-1]}")
    return reads
