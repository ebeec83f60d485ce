"""A year of nights unattended, simulated: the data directory's size under local retention,
the nights' seconds, and a history equal to that of a directory that keeps every night.

    uv run python benchmarks/year.py --customers 300 --nights 60 --keep-days 10

K nights labelled as consecutive dates ending today (the sandbox, a server thread of this
process, serves its current state; a past date is only the night's label). Before each
night but the first, 2% of the customers are active (new earns, revoked issuals; listed in
the night's active customers) and a badge is changed through the sandbox's PUT badgeMeta.
Each night then runs as the nightly job does, without Dagster: extraction and
normalization (`prepare_night`, `run_night`), the load into a staging warehouse, the
history step, the publish, and local retention keeping `--keep-days` nights. Each night's
archive and partitions are also copied into a second directory that keeps every night
(not measured); at the end the history is rebuilt from it and compared with the published
history and with a rebuild from the retained directory's history base.

Per night: the data directory's size, the night's seconds and the history's rows. Then a
projection to 10^6 customers, and the two closing lines: the disk growth after the
retention window (size after night K / size after night D+1) and whether the history
equals that of a run without retention.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb
import httpx

from benchmarks.capacity import size_of
from benchmarks.night import change_the_org
from pipelines.client.auth import basic_auth_header
from pipelines.client.settings import ApiSettings
from pipelines.extract.customers import load_customers
from pipelines.lake import Lake
from pipelines.lake.keys import CustomerRef
from pipelines.lake.sql import sql_string
from pipelines.lake.tables import TABLES
from pipelines.night.night import run_night
from pipelines.night.options import NightOptions
from pipelines.night.planner import Population
from pipelines.night.prepare import prepare_night
from pipelines.night.retention import retain
from pipelines.sandbox import SandboxCredentials, SandboxServer, generate_org
from pipelines.warehouse.history import (
    HISTORY_SCHEMA,
    HISTORY_TABLES,
    build_history,
    rebuild_history,
)
from pipelines.warehouse.loader import load_snapshot, open_staging
from pipelines.warehouse.publish import publish

MIB = 2**20
TARGET_CUSTOMERS = 1_000_000


def badge_put(server: SandboxServer, credentials: SandboxCredentials):
    """A badge change sent as the vendor's PUT badgeMeta, over HTTP."""
    headers = basic_auth_header(credentials.username, credentials.password)

    def put(body: dict) -> None:
        url = f"{server.base_url}/api_gateway/v1/badges/badgeMeta"
        httpx.put(url, json=body, headers=headers).raise_for_status()

    return put


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the normalizer processes)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_night(
    settings: ApiSettings, lake: Lake, day: dt.date, customers, active, keep_days: int
) -> tuple[float, float, int]:
    """The nightly job's steps for `day`; returns its wall and CPU seconds and the
    history's rows."""
    started, cpu = time.perf_counter(), cpu_seconds()
    options = NightOptions()
    population = Population.of(
        day, customers, active, settings.base_url, page_size=settings.tuning.page_size
    )
    night = prepare_night(lake, population, options)
    run_night(settings, night, options)
    load_snapshot(lake, day)
    with open_staging(lake, day) as con:
        rows = build_history(con, lake, day)
    publish(lake, day)
    retain(lake, keep_days, mirror=None)
    return time.perf_counter() - started, cpu_seconds() - cpu, sum(rows.values())


def keep_copy(lake: Lake, every_night: Lake, day: dt.date) -> int:
    """Copies the night's archive and partitions into `every_night`; returns their bytes."""
    for table in ("raw", *TABLES):
        shutil.copytree(lake.table_dir(table, day), every_night.table_dir(table, day))
    return sum(size_of(every_night.table_dir(t, day)) for t in ("raw", *TABLES))


def differing_rows(left: Path, right: Path) -> int:
    """Rows of the history tables found in one database and not the other."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH {sql_string(left)} AS l (READ_ONLY)")
        con.execute(f"ATTACH {sql_string(right)} AS r (READ_ONLY)")
        total = 0
        for name in HISTORY_TABLES:
            a, b = f"l.{HISTORY_SCHEMA}.{name}", f"r.{HISTORY_SCHEMA}.{name}"
            for one, other in ((a, b), (b, a)):
                query = f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})"
                total += con.execute(query).fetchone()[0]
    return total


def history_equal(lake: Lake, every_night: Lake, day: dt.date, workdir: Path) -> bool:
    """The published history and a rebuild from the history base, against a rebuild from
    every night's partitions."""
    unpruned, from_base = workdir / "every-night.duckdb", workdir / "from-base.duckdb"
    for database, source in ((unpruned, every_night), (from_base, lake)):
        with duckdb.connect(str(database)) as con:
            rebuild_history(con, source, day)
    published = differing_rows(lake.warehouse_path, unpruned)
    return published == 0 and differing_rows(from_base, unpruned) == 0


def project(args: argparse.Namespace, lake: Lake, night_bytes: list[int]) -> None:
    """Disk at 10^6 customers from the bytes per customer measured here (every customer's
    lists fetched each night, as at this size; a rotating org writes less raw archive)."""
    steady = night_bytes[1:] or night_bytes
    scale = TARGET_CUSTOMERS / args.customers
    per_night = sum(steady) / len(steady) * scale
    rows = [
        ("written per night (raw archive, lake partitions)", per_night),
        (
            f"local data directory (keeping {args.keep_days}), in any year",
            size_of(lake.root) * scale,
        ),
        ("a year of nights, kept whole (no retention)", per_night * 365),
    ]
    print(f"projection to {TARGET_CUSTOMERS:,} customers (bytes per customer as measured here):")
    for label, size in rows:
        print(f"  {label:<55}{size / 2**30:>10,.1f} GiB")


def simulate(args: argparse.Namespace, root: Path) -> int:
    today = dt.datetime.now(dt.UTC).date()
    rng = random.Random(11)
    org = generate_org(args.customers, 80, 7)
    credentials = SandboxCredentials.random()
    lake, every_night = Lake(root / "data"), Lake(root / "every-night")
    csv = root / "customers.csv"
    org.write_customers_csv(csv, identifier_types=False)
    customers = load_customers(csv)
    print(f"{args.customers:,} customers, {args.nights} nights, {args.keep_days} kept locally")
    print(
        f"{'night':<7}{'date':<12}{'data dir MiB':>13}{'seconds':>9}{'CPU s':>8}"
        f"{'history rows':>14}"
    )
    sizes, seconds, night_bytes = [], [], []
    with SandboxServer(org, credentials) as server:
        settings = ApiSettings(server.base_url, credentials.username, credentials.password)
        put = badge_put(server, credentials)
        for night in range(args.nights):
            day = today - dt.timedelta(days=args.nights - 1 - night)
            active = []
            if night:
                rows = change_the_org(org, rng, args.active_share, night, put)
                active = [CustomerRef(customer_id, kind) for customer_id, kind in rows]
            took, cpu, history_rows = one_night(
                settings, lake, day, customers, active, args.keep_days
            )
            night_bytes.append(keep_copy(lake, every_night, day))
            sizes.append(size_of(lake.root))
            seconds.append(took)
            print(
                f"{night + 1:<7}{day.isoformat():<12}{sizes[-1] / MIB:>13.2f}{took:>9.2f}"
                f"{cpu:>8.2f}{history_rows:>14,}",
                flush=True,
            )
    equal = history_equal(lake, every_night, today, root)
    project(args, lake, night_bytes)
    window_end = min(args.keep_days, args.nights - 1)  # night D+1, counted from 0
    print(
        f"last night's seconds / night {window_end + 1}'s: {seconds[-1] / seconds[window_end]:.2f}"
    )
    print(f"disk growth after the retention window: {sizes[-1] / sizes[window_end]:.3f}")
    print(f"history equal to a run without retention: {'yes' if equal else 'no'}")
    return 0 if equal else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--nights", type=int, default=60, help="K consecutive nights")
    parser.add_argument("--keep-days", type=int, default=10, help="D nights kept locally")
    parser.add_argument("--active-share", type=float, default=0.02)
    args = parser.parse_args(argv)
    if args.keep_days < 1 or args.nights < 2:
        parser.error("--keep-days must be at least 1 and --nights at least 2")
    with tempfile.TemporaryDirectory(prefix="badges-year-") as tmp:
        return simulate(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
