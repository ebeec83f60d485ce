"""Nights in a steady state: the calls a night makes, and what a large org would need.

    uv run python benchmarks/night.py --customers 20000 --nights 5 --budget 1000/min

The sandbox (a server thread of this process) holds the org; each night 2% of customers
are active (a new earn, a few issuals revoked, one badge changed through PUT) and listed
in the active-customers file. Every night runs the pipeline's extraction and
normalization (`prepare_night`, `run_night`) in a child process, with the rotation the
planner chooses under `--budget` (the sandbox itself is not throttled: the hours are the
night's calls under the budget). Night 0 is a full pull, the reference for the shares.
The nights are labelled consecutive dates ending today.

Per night: the rotation N, customers fetched, calls per API, calls as a share of the full
pull, hours under the budget, and the oldest `fetched_on` (age in nights). Then a full
pull of the last night into a fresh data directory, whose contract tables must equal the
incremental night's row for row (`fetched_on` aside), and the planner's projection for
10^6 and 10^7 customers with the org's measured shape. The last line is the median share
of the steady nights that fetched every customer (N = 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from benchmarks.compare import rows_apart
from pipelines.client.endpoints import API_NAMES
from pipelines.client.rates import parse_rate
from pipelines.extract.planning import LISTS, OrgShape, choose_rotation, hours_for
from pipelines.lake import Lake
from pipelines.lake.sql import parquet_source
from pipelines.sandbox import SandboxApiError, SandboxCredentials, SandboxServer, generate_org
from pipelines.sandbox.update import apply_update

PASSWORD_VARIABLE = "BENCHMARK_SANDBOX_PASSWORD"


def child(args: argparse.Namespace) -> int:
    """One night, in its own process: extraction and normalization into the lake."""
    from pipelines.client.rates import parse_rate_limits
    from pipelines.client.settings import ApiSettings
    from pipelines.extract.customers import load_customers
    from pipelines.night.night import run_night
    from pipelines.night.options import NightOptions
    from pipelines.night.planner import Population
    from pipelines.night.prepare import prepare_night

    day = dt.date.fromisoformat(args.date)
    settings = ApiSettings(args.base_url, args.username, os.environ[PASSWORD_VARIABLE])
    options = NightOptions(rotation_nights=args.rotation_nights, night_hours=args.night_hours)
    lake = Lake(Path(args.data))
    active = load_customers(Path(args.active)) if args.active else []
    population = Population.of(
        day,
        load_customers(Path(args.customers_csv)),
        active,
        settings.base_url,
        parse_rate_limits(args.budget),
        settings.tuning.page_size,
    )
    night = prepare_night(lake, population, options)
    outcome = run_night(settings, night, options)
    files = (lake.table_dir("customer_badges", day) / "*.parquet").as_posix()
    with duckdb.connect() as con:
        oldest = con.execute(f"SELECT min(fetched_on) FROM read_parquet('{files}')").fetchone()[0]
    figures = {
        "rotation": night.rotation.nights,
        "fetched": len(night.rotation.fetch),
        "calls": dict(outcome.report.calls),
        "seconds": outcome.report.seconds,
        "oldest_age": (day - oldest).days,
        "changed_share": outcome.note.changed_share,
    }
    print(json.dumps(figures))
    return 0


def change_the_org(
    org, rng: random.Random, share: float, night: int, update_badge=None
) -> list[list[str]]:
    """Activity of `share` of the customers; returns their rows for the active file.
    `update_badge` applies a badge change (a PUT badgeMeta body); default: in the org."""
    active = rng.sample(org.customers, max(1, round(share * len(org.customers))))
    ids = {c.customer_id for c in active}
    pairs = sorted(p for p in org.listed_pairs() if p[0] in ids)
    for customer_id, badge_id in pairs[::3]:
        try:
            org.add_earn(customer_id, badge_id)
        except SandboxApiError:
            continue
    for customer_id, badge_id in pairs[1::40]:
        try:
            org.revoke_issual(customer_id, badge_id)
        except SandboxApiError:
            continue
    badge = org.badges[sorted(org.listed_badge_ids())[night % len(org.listed_badge_ids())]]
    change = {"id": badge.badge_id, "description": f"changed on night {night}"}
    (update_badge or (lambda body: apply_update(org, body)))(change)
    return [[c.customer_id, "id"] for c in active]


def run_night_child(args, server, credentials, csv, data, day, active_csv, rotation) -> dict:
    argv = [
        sys.executable, __file__, "--child", "--data", str(data), "--date", day.isoformat(),
        "--customers-csv", str(csv), "--base-url", server.base_url,
        "--username", credentials.username, "--budget", args.budget,
    ]  # fmt: skip
    if active_csv:
        argv += ["--active", str(active_csv)]
    if rotation:
        argv += ["--rotation-nights", str(rotation)]
    env = {**os.environ, PASSWORD_VARIABLE: credentials.password}
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--nights", type=int, default=5, help="steady nights after the first")
    parser.add_argument("--budget", default="1000/min", help="the vendor's limit per API")
    parser.add_argument("--active-share", type=float, default=0.02)
    parser.add_argument("--night-hours", type=float, default=6.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--data", "--date", "--customers-csv", "--base-url", "--username", "--active"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--rotation-nights", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    return steady_state(args)


def steady_state(args: argparse.Namespace) -> int:
    budget = parse_rate(args.budget)
    today = dt.datetime.now(dt.UTC).date()
    rng = random.Random(11)
    org = generate_org(args.customers, 80, 7)
    credentials = SandboxCredentials.random()
    print(f"{args.customers:,} customers, budget {budget} per API, {args.night_hours:g} h nights")
    header = f"{'night':<7}{'N':>3}{'fetched':>9}{'lists':>9}{'details':>9}{'meta':>6}"
    print(header + f"{'share':>8}{'hours':>8}{'oldest':>8}{'seconds':>9}", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="badges-night-") as tmp,
        SandboxServer(org, credentials) as server,
    ):
        root = Path(tmp)
        csv = root / "customers.csv"
        org.write_customers_csv(csv, identifier_types=False)
        full = None
        figures = {}
        steady_shares = []
        for night in range(args.nights + 1):
            day = today - dt.timedelta(days=args.nights - night)
            active_csv = None
            if night:
                active_csv = root / f"active-{night}.csv"
                rows = change_the_org(org, rng, args.active_share, night)
                active_csv.write_text("customer_id,identifier_type\n")
                with active_csv.open("a") as handle:
                    handle.writelines(f"{a},{b}\n" for a, b in rows)
            rotation = 1 if night == 0 else None
            figures = run_night_child(
                args, server, credentials, csv, root / "data", day, active_csv, rotation
            )
            calls = figures["calls"]
            full = full or sum(calls.values())
            hours = hours_for(calls, dict.fromkeys(API_NAMES, budget.per_second))
            print(
                f"{night:<7}{figures['rotation']:>3}{figures['fetched']:>9,}"
                f"{calls.get('customer_badges', 0):>9,}{calls.get('customer_badge_detail', 0):>9,}"
                f"{calls.get('badge_meta', 0):>6,}{sum(calls.values()) / full:>8.1%}"
                f"{hours or 0:>8.2f}{figures['oldest_age']:>8}{figures['seconds']:>9.1f}",
                flush=True,
            )
            if night and figures["rotation"] == 1:
                steady_shares.append(sum(calls.values()) / full)
        run_night_child(args, server, credentials, csv, root / "full", today, None, 1)
        apart = rows_apart_on(today, Lake(root / "data"), Lake(root / "full"))
    project(args, org, full, figures)
    differing = {table: n for table, n in apart.items() if n}
    print(
        f"last night against a full pull of it: {sum(apart.values()):,} rows apart "
        f"({differing or 'equal'}, fetched_on aside)"
    )
    median = f"{statistics.median(steady_shares):.2f}" if steady_shares else "n/a"
    print(f"steady nights at N=1: calls / full pull median {median}")
    return 1 if differing else 0


def rows_apart_on(day: dt.date, ours: Lake, reference: Lake) -> dict[str, int]:
    """Per contract table, rows of the day's partitions in one lake and not the other."""
    with duckdb.connect() as con:
        return rows_apart(
            con,
            lambda t: parquet_source(ours.table_files(t.name, day)),
            lambda t: parquet_source(reference.table_files(t.name, day)),
            skip={"fetched_on"},
        )


def project(args: argparse.Namespace, org, full_calls: int, last: dict) -> None:
    """The planner's choice for much larger orgs of the same shape, at 1,000/min per API."""
    pairs = len(org.listed_pairs())
    rates = dict.fromkeys(API_NAMES, parse_rate("1000/min").per_second)
    lists_share = (full_calls - pairs - len(org.listed_badge_ids())) / args.customers
    print("projection at 1,000/min per API (the org's measured shape):")
    for customers in (1_000_000, 10_000_000):
        shape = OrgShape(
            customers=customers,
            pages_per_customer=lists_share,
            pairs_per_customer=pairs / args.customers,
            badges=len(org.listed_badge_ids()),
            changed_share=last.get("changed_share", 0.0),
            refresh_days=7,
            active=round(args.active_share * customers),
        )
        nights = choose_rotation(shape, rates, args.night_hours)
        calls = shape.calls(nights)
        hours = hours_for(calls, rates) or 0.0
        full = sum(shape.calls(1).values())
        floor = shape.active * shape.pages_per_customer / rates[LISTS] / 3600
        verdict = (
            "fits"
            if hours <= args.night_hours
            else (f"does NOT fit: the active customers' lists alone take {floor:.1f} h")
        )
        print(
            f"  {customers:>12,} customers: N = {nights}, {sum(calls.values()):,.0f} calls "
            f"a night ({sum(calls.values()) / full:.1%} of a full pull, lists "
            f"{calls[LISTS]:,.0f}), {hours:.2f} h: {verdict}"
        )


if __name__ == "__main__":
    sys.exit(main())
