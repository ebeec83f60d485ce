"""The asset graph, written out: an accidental change to it shows up in review.

After an intended change, refresh the snapshot with
`UPDATE_SNAPSHOTS=1 uv run pytest tests/test_asset_graph.py` and commit it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.definitions import NIGHTLY_JOB, defs
from pipelines.ops.nightly import NIGHT_POOL

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
    for group in ("extract", "normalize", "warehouse", "analytics"):
        assert f"[group {group}]" in rendered
