"""The whole run: `badges run` through Dagster in a child process, and where its time went."""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import ChildRun, run_child
from benchmarks.report import Row
from benchmarks.target import PROJECT_ROOT, Target

WHOLE_RUN_CONCURRENCY = 32  # the Dagster resource's default; `badges run` has no flag for it
TELEMETRY_OFF = "telemetry:\n  enabled: false\n"
SLOWEST_STEPS_SHOWN = 6


@dataclass
class WholeRun:
    row: Row
    child: ChildRun
    extract_seconds: float | None  # the run's own extraction clock, from its summary
    step_seconds: dict[str, float] = field(default_factory=dict)

    def notes(self, concurrency: int) -> list[str]:
        notes = []
        wall = self.child.seconds
        if self.extract_seconds is not None:
            notes.append(
                f"whole run: its extraction took {self.extract_seconds:.2f}s of {wall:.2f}s"
            )
        if self.step_seconds:
            in_steps = sum(self.step_seconds.values())
            slowest = sorted(self.step_seconds.items(), key=lambda kv: -kv[1])
            shown = ", ".join(f"{k} {v:.2f}s" for k, v in slowest[:SLOWEST_STEPS_SHOWN])
            notes.append(f"whole run: steps {in_steps:.2f}s ({shown}, ...)")
            notes.append(f"whole run: outside steps (start-up, Dagster) {wall - in_steps:.2f}s")
        if concurrency != WHOLE_RUN_CONCURRENCY:
            notes.append(f"whole run used concurrency {WHOLE_RUN_CONCURRENCY}, not {concurrency}")
        return notes


def step_windows(dagster_home: Path, run_id: str) -> dict[str, tuple[float, float]]:
    """Each step's (start, end) in epoch seconds, in start order, read back from the run's
    Dagster instance."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        stats = instance.get_run_step_stats(run_id)
    timed = sorted(
        (s.start_time, s.end_time, s.step_key) for s in stats if s.start_time and s.end_time
    )
    return {step: (start, end) for start, end, step in timed}


def step_seconds(dagster_home: Path, run_id: str) -> dict[str, float]:
    """Each step's duration, read back from the run's Dagster instance."""
    return {step: end - start for step, (start, end) in step_windows(dagster_home, run_id).items()}


def quiet_dagster_home(workdir: Path) -> Path:
    """`workdir/dagster-home`, with a `dagster.yaml` that turns telemetry off."""
    dagster_home = workdir / "dagster-home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(TELEMETRY_OFF)
    return dagster_home


def badges_run(target: Target, workdir: Path, *args: str, **env: str) -> tuple[list, dict]:
    """The command and environment of `badges run` against `target`, with its data and
    Dagster home under `workdir`."""
    environment = target.child_env(
        BADGES_DATA_DIR=str(workdir / "data"), DAGSTER_HOME=str(quiet_dagster_home(workdir)), **env
    )
    return [sys.executable, "-m", "pipelines.cli", "run", *args], environment


def measure_whole_run(target: Target, workdir: Path) -> WholeRun:
    dagster_home = workdir / "dagster-home"
    snapshot_date = dt.datetime.now(dt.UTC).date().isoformat()
    argv, env = badges_run(target, workdir, "--date", snapshot_date)
    child = run_child(argv, env, PROJECT_ROOT)
    published = re.search(r"published \(run ([0-9a-f-]+)\)", child.stdout)
    if child.returncode != 0 or published is None:
        raise RuntimeError(f"the whole run failed:\n{child.stdout[-2000:]}{child.stderr[-2000:]}")
    requests = re.search(r"requests ([\d,]+) \(", child.stdout)
    extract_seconds = re.search(r"/s in ([\d.]+)s\)", child.stdout)
    row = Row(
        label="whole run (badges run)",
        requests=int(requests.group(1).replace(",", "")) if requests else None,
        seconds=child.seconds,
        rows=None,
        cpu_seconds=child.cpu_seconds,
        peak_rss_mib=child.peak_rss_mib,
    )
    return WholeRun(
        row=row,
        child=child,
        extract_seconds=float(extract_seconds.group(1)) if extract_seconds else None,
        step_seconds=step_seconds(dagster_home, published.group(1)),
    )
