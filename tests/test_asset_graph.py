"""The asset graph, written out: an accidental change to it shows up in review.

After an intended change, refresh the snapshot with
`UPDATE_SNAPSHOTS=1 uv run pytest tests/test_asset_graph.py` and commit it.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import AssetKey

from assets.analytics import analytics_key
from pipelines.definitions import NIGHTLY_JOB, defs
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.warehouse.dbt_project import PROJECT_NAME, load_manifest, model_names
from pipelines.warehouse.dbt_sources import SNAPSHOT_INFO

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


def render_asset_graph() -> str:
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        deps = ", ".join(sorted(p.to_user_string() for p in node.parent_keys)) or "-"
        checks = ", ".join(sorted(c.name for c in node.check_keys)) or "-"
        pools = ", ".join(sorted(node.pools)) or "-"
        kinds = ", ".join(sorted(node.kinds)) or "-"
        owners = ", ".join(node.owners) or "-"
        lines.append(
            f"{key.to_user_string()}  [group {node.group_name}]\n"
            f"    deps: {deps}\n"
            f"    checks: {checks}\n"
            f"    pool: {pools}\n"
            f"    kinds: {kinds}\n"
            f"    owners: {owners}"
        )
    job = defs.resolve_job_def(NIGHTLY_JOB)
    lines.append(f"job {job.name}: partitioned {type(job.partitions_def).__name__}")
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_snapshot():
    rendered = render_asset_graph()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(rendered)
    assert SNAPSHOT.exists(), f"no snapshot at {SNAPSHOT}: create it with UPDATE_SNAPSHOTS=1"
    assert rendered == SNAPSHOT.read_text()


def test_every_asset_of_the_night_is_in_the_night_pool():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert len(keys) > 20
    assert {key: graph.get(key).pools for key in keys} == {key: {NIGHT_POOL} for key in keys}


def test_every_stage_group_is_present():
    rendered = render_asset_graph()
    for group in ("bucket", "extract", "normalize", "warehouse", "analytics", "retention"):
        assert f"[group {group}]" in rendered


def test_dbt_lineage_is_the_asset_graph():
    """dbt docs draws the manifest's lineage; the Dagster UI draws the asset graph: the same."""
    graph = defs.resolve_asset_graph()
    parent_map = load_manifest()["parent_map"]
    for model in model_names():
        parents = parent_map[f"model.{PROJECT_NAME}.{model}"]
        expected = {
            AssetKey(["analytics" if p.startswith("model.") else "warehouse", p.split(".")[-1]])
            for p in parents
            if p != f"source.{PROJECT_NAME}.main.{SNAPSHOT_INFO}"
        }
        assert graph.get(analytics_key(model)).parent_keys == expected, model
        assert graph.get(analytics_key(model)).kinds >= {"dbt", "duckdb"}
