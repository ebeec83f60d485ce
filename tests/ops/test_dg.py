"""Dagster's own CLI finds the project: `dg check defs` loads the code location from the root."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.ops.processes import BIN, PROJECT_ROOT


def test_dg_check_defs_loads_the_code_location(tmp_path: Path):
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    environment = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run(
        [str(BIN / "dg"), "check", "defs"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All definitions loaded successfully" in done.stdout + done.stderr
