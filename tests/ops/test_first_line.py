"""`badges run` says what it is doing at once: its first line comes before Dagster, which
takes seconds to import, is imported at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.clock import today
from tests.ops.processes import PROJECT_ROOT


def test_badges_run_prints_its_first_line_before_dagster_is_imported(tmp_path: Path):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CAPILLARY_", "BADGES_"))
    }
    environment |= {"BADGES_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path)}
    # -X importtime writes a line on stderr as each module is imported, in order with ours.
    command = [sys.executable, "-X", "importtime", "-m", "pipelines.cli", "run"]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=environment, stderr=subprocess.PIPE, text=True
    )
    said = []
    try:
        for line in process.stderr:
            said.append(line.rstrip())
            if said[-1].endswith("| dagster"):  # Dagster imported: enough seen
                break
    finally:
        process.kill()
        process.wait()
    first = f"badges run: running the night of {today()} into {tmp_path / 'data'}"
    ours = said.index(first)
    dagster = next(n for n, line in enumerate(said) if "| dagster" in line)
    assert ours < dagster
    assert not [line for line in said[:ours] if not line.startswith("import time:")]
