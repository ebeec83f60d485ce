"""The night's fixed cost: what a sandbox night pays besides its work, side by side.

    uv run python benchmarks/fixed_cost.py [--root DIR ...] [--rounds 2] [--tail-customers N]

Each `--root` is a checkout of the project with its own environment (`uv sync` done in it;
default: this one). Per round, for each root in turn (alternating, so a busy machine weighs
on all alike), `badges run` over the embedded sandbox (300 customers) in a fresh data
directory, then a second night (the next step of a steady data directory is a replay of the
same day, `badges replay`). Measured per run: the time to the first line the command
prints, the wall time, each step's time (read from the run's Dagster instance), and the
files dbt parsed (dbt's perf_info.json of the root after the run: "-" without dbt).
With `--tail-customers N`, each root's `benchmarks/tail.py --customers N` too, its step
lines kept. Printed: one table, the best of the rounds per figure, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.whole_run import quiet_dagster_home, step_seconds

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = re.compile(r"published \(run ([0-9a-f-]+)\)")
TAIL_STEP = re.compile(r"^step  (\S+)\s+([\d.]+) s", re.MULTILINE)
TAIL_TOTAL = re.compile(r"night tail, \d+ customers: ([\d.]+) s")
# The models' steps, one per model before dbt (analytics__<model>) and one since: one row.
ANALYTICS = "analytics (all models)"


def merged_steps(steps: dict[str, float]) -> dict[str, float]:
    """`steps` with every step of the models summed into one."""
    merged = {k: v for k, v in steps.items() if not k.startswith("analytics")}
    models = [v for k, v in steps.items() if k.startswith("analytics")]
    return merged | ({ANALYTICS: sum(models)} if models else {})


@dataclass
class Night:
    first_line: float
    wall: float
    steps: dict[str, float]
    parsed: str


@dataclass
class Figures:
    root: Path
    nights: dict[str, list[Night]] = field(default_factory=dict)  # "first", "second" -> runs
    tails: list[dict[str, float]] = field(default_factory=list)


def _environment(root: Path, data_dir: Path, dagster_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPILLARY_", "BADGES_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(BADGES_DATA_DIR=str(data_dir), DAGSTER_HOME=str(dagster_home))
    env["PYTHONPATH"] = str(root)
    return env


def timed_command(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Runs `argv`: seconds to its first printed byte, seconds to its end, what it printed."""
    started = time.monotonic()
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    first = None
    chunks = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            selector.select()
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            if first is None:
                first = time.monotonic() - started
            chunks.append(chunk)
    process.wait()
    wall = time.monotonic() - started
    output = b"".join(chunks).decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed in {cwd}:\n{output[-3000:]}")
    return first or wall, wall, output


def perf_info(root: Path) -> Path:
    """dbt's perf_info.json of a night's parse: apart in `target/night/` since it moved."""
    night = root / "sql" / "target" / "night"
    return (night if night.is_dir() else root / "sql" / "target") / "perf_info.json"


def parsed_paths(root: Path) -> str:
    perf = perf_info(root)
    if not (root / "sql" / "dbt_project.yml").exists():
        return "-"
    if not perf.exists():
        return "?"
    return str(json.loads(perf.read_text())["parsed_path_count"])


def night(root: Path, workdir: Path, command: list[str]) -> Night:
    dagster_home = quiet_dagster_home(workdir)
    python = root / ".venv" / "bin" / "python"
    env = _environment(root, workdir / "data", dagster_home)
    perf_info(root).unlink(missing_ok=True)
    first, wall, output = timed_command([str(python), "-m", "pipelines.cli", *command], env, root)
    run_id = PUBLISHED.search(output)
    if run_id is None:
        raise RuntimeError(f"no published line from {root}:\n{output[-3000:]}")
    steps = merged_steps(step_seconds(dagster_home, run_id.group(1)))
    return Night(first, wall, steps, parsed_paths(root))


def tail(root: Path, customers: int) -> dict[str, float]:
    python = root / ".venv" / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPILLARY_", "BADGES_"))}
    env.pop("VIRTUAL_ENV", None)
    argv = [str(python), "benchmarks/tail.py", "--customers", str(customers)]
    _, wall, output = timed_command(argv, env, root)
    steps = {name: float(seconds) for name, seconds in TAIL_STEP.findall(output)}
    total = TAIL_TOTAL.search(output)
    return {**merged_steps(steps), "(whole)": float(total.group(1)) if total else wall}


def measure(roots: list[Path], rounds: int, tail_customers: int | None) -> list[Figures]:
    figures = [Figures(root) for root in roots]
    for _ in range(rounds):
        for figure in figures:
            with tempfile.TemporaryDirectory(prefix="fixed-cost-") as tmp:
                workdir = Path(tmp)
                today = time.strftime("%Y-%m-%d", time.gmtime())
                first = night(figure.root, workdir, ["run", "--date", today])
                second = night(figure.root, workdir, ["replay", "--date", today])
                figure.nights.setdefault("first", []).append(first)
                figure.nights.setdefault("second", []).append(second)
                shutil.rmtree(workdir, ignore_errors=True)
            if tail_customers:
                figure.tails.append(tail(figure.root, tail_customers))
    return figures


def _cell(value: float | str | None) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else f"{value:.2f}"


def table(figures: list[Figures]) -> list[str]:
    """Rows of figures (best of the rounds), a column per root."""
    names = [figure.root.name for figure in figures]
    rows: list[tuple[str, list]] = []
    for which in ("first", "second"):
        runs = [figure.nights[which] for figure in figures]
        label = "night" if which == "first" else "replay of it"
        rows.append((f"{label}: first line, s", [min(n.first_line for n in r) for r in runs]))
        rows.append((f"{label}: wall, s", [min(n.wall for n in r) for r in runs]))
        for step in sorted({s for r in runs for n in r for s in n.steps}):
            values = [
                min((n.steps[step] for n in r if step in n.steps), default=None) for r in runs
            ]
            rows.append((f"{label}: step {step}, s", values))
        rows.append((f"{label}: dbt files parsed", [r[-1].parsed for r in runs]))
    if any(figure.tails for figure in figures):
        for step in sorted({s for f in figures for t in f.tails for s in t}):
            values = [min((t[step] for t in f.tails if step in t), default=None) for f in figures]
            rows.append((f"tail: {step}, s", values))
    width = max(len(label) for label, _ in rows) + 2
    lines = ["".ljust(width) + "".join(f"{name:>14}" for name in names)]
    lines += [
        label.ljust(width) + "".join(f"{_cell(v):>14}" for v in values) for label, values in rows
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, action="append", help="a checkout (repeatable)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tail-customers", type=int, default=None)
    args = parser.parse_args(argv)
    roots = [root.resolve() for root in args.root or [PROJECT_ROOT]]
    load_before = os.getloadavg()
    figures = measure(roots, args.rounds, args.tail_customers)
    for line in table(figures):
        print(line)
    load_after = os.getloadavg()
    print(
        f"best of {args.rounds}, alternating; load average (1, 5, 15 min) before "
        f"{', '.join(f'{x:.1f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.1f}' for x in load_after)}, on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
