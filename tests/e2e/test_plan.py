"""`badges plan` tells a night's calls before it runs, and the planner's rotation fits the night."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import Pipeline, today
from tests.e2e.test_cli import run_cli
from tests.e2e.test_live_readers import api_environment


def planned_calls(output: str) -> int:
    found = re.search(r"^  calls: ([\d,]+)", output, re.MULTILINE)
    assert found, output
    return int(found.group(1).replace(",", ""))


def calls_made(output: str) -> int:
    found = re.search(r"^  calls per API: (.*?) \(planned", output, re.MULTILINE)
    assert found, output
    return sum(int(n.replace(",", "")) for n in re.findall(r" ([\d,]+)", " " + found.group(1)))


def plan_then_run(tmp_path: Path, environment: dict[str, str], *flags: str) -> tuple[int, int]:
    plan = run_cli(tmp_path, "plan", *flags, **environment)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    night = run_cli(tmp_path, "run", *flags, **environment)
    assert night.returncode == 0, night.stdout + night.stderr
    return planned_calls(plan.stdout), calls_made(night.stdout)


def test_the_plan_matches_the_calls_of_a_full_night_and_of_a_same_day_rerun(
    tmp_path: Path, pipeline: Pipeline
):
    environment = api_environment(pipeline)
    first = run_cli(tmp_path, "run", **environment)
    assert first.returncode == 0, first.stdout + first.stderr
    requests_before = pipeline.server.stats.total_requests

    planned, made = plan_then_run(tmp_path, environment, "--full-refresh")
    assert made == pipeline.server.stats.total_requests - requests_before
    assert abs(made - planned) <= 0.05 * made, (planned, made)

    planned, made = plan_then_run(tmp_path, environment)
    assert made < 0.9 * pipeline.server.stats.total_requests  # details reused this time
    assert abs(made - planned) <= 0.05 * made, (planned, made)


def test_the_planner_keeps_a_full_pull_for_the_sandbox_org_and_rotates_under_a_cut_budget(
    tmp_path: Path,
):
    first = run_cli(tmp_path, "run")  # the embedded sandbox, 300 customers
    assert first.returncode == 0, first.stdout + first.stderr

    default = run_cli(tmp_path, "plan")
    assert default.returncode == 0, default.stdout + default.stderr
    assert "rotation over 1 night(s), lists of 300 of 300 customers" in default.stdout
    assert "fits the 6 h window" in default.stdout
    data = re.escape(str(tmp_path / "data"))
    disk = rf"\n  disk: [\d,]+\.\d MiB free in {data}; a night needs [\d.]+ MiB \(raw archive "
    assert re.search(disk + rf".*; from the snapshot of {today()}\)\n", default.stdout), (
        default.stdout
    )

    cut = run_cli(tmp_path, "plan", "--rate-limit", "2/min")
    rotation = re.search(r"rotation over (\d+) night\(s\), lists of (\d+) of 300", cut.stdout)
    assert rotation, cut.stdout
    assert int(rotation.group(1)) > 1 and int(rotation.group(2)) < 300
    hours = float(re.search(r"duration: ([\d.]+) h; fits the 6 h window", cut.stdout).group(1))
    assert 0 < hours <= 6
    assert cut.returncode == 0
