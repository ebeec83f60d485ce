"""A synthetic raw archive of a large sandbox org, written without HTTP and cached.

Each part of the org (`generate_org_part`) is built in a worker process of its own; the
sandbox's endpoint handlers answer the requests the extraction would send (the same
paths, pages and lookups), and the answers become raw records (`ok_record`) written by
the archive's checkpoint writer, `PART_FILES` file numbers apart per part. The badge
meta of every listed badge comes last, rendered by the first part. The archive is kept
under `archives/` of the results directory (`benchmarks/results/`), keyed by size, seed,
day and `GENERATOR_VERSION`, and is complete only once its `complete` marker is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, urlencode

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.target import PROJECT_ROOT
from pipelines.client.endpoints import (
    DETAIL_ENDPOINT,
    IDENTIFIER_HEADER,
    LIST_ENDPOINT,
    LIST_TYPES,
    META_ENDPOINT,
    Request,
)
from pipelines.client.http import ApiResponse
from pipelines.client.paging import PageNumberPaginator
from pipelines.client.settings import ClientTuning
from pipelines.extract.raw_records import ok_record
from pipelines.lake import Lake
from pipelines.lake.checkpoint import CheckpointWriter
from pipelines.lake.durable import write_parquet, write_text
from pipelines.lake.keys import CustomerRef
from pipelines.lake.raw import RAW_SCHEMA, RawRecord
from pipelines.sandbox.faults import FaultInjector, Faults, SandboxStats
from pipelines.sandbox.generate import generate_org_part
from pipelines.sandbox.handlers import Endpoints
from pipelines.sandbox.org import Org

GENERATOR_VERSION = 1  # bump when the archive's contents change for the same key
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"  # git-ignored
PART_CUSTOMERS = 20_000
PART_FILES = 10_000  # response file numbers reserved per part
COMPLETE = "complete"


@dataclass(frozen=True)
class ArchiveSpec:
    customers: int
    badges: int = 80
    seed: int = 7
    snapshot_date: dt.date = dt.date(2026, 12, 3)
    part_customers: int = PART_CUSTOMERS
    distinct: int | None = None  # generate this many customers, copy them up to `customers`

    def __post_init__(self) -> None:
        if self.distinct is not None and self.customers % self.distinct:
            raise ValueError(f"{self.customers} customers are not copies of {self.distinct}")

    @property
    def name(self) -> str:
        copies = f"-d{self.distinct}" if self.distinct not in (None, self.customers) else ""
        return (
            f"v{GENERATOR_VERSION}-c{self.customers}-b{self.badges}-s{self.seed}"
            f"-p{self.part_customers}{copies}-{self.snapshot_date.isoformat()}"
        )

    @property
    def source(self) -> ArchiveSpec | None:
        """The archive this one copies, when it has fewer distinct customers."""
        if self.distinct in (None, self.customers):
            return None
        return replace(self, customers=self.distinct, distinct=None)

    def parts(self) -> Iterator[tuple[int, int, int]]:
        """(index, first customer, customers) of each part."""
        for index in range(math.ceil(self.customers / self.part_customers)):
            first = index * self.part_customers
            yield index, first, min(self.part_customers, self.customers - first)


class InProcessApi:
    """The sandbox's answers to the pipeline's requests, without a server."""

    def __init__(self, org: Org) -> None:
        self.endpoints = Endpoints(org, FaultInjector(Faults(), SandboxStats()))

    def call(self, request: Request) -> ApiResponse:
        params = {name: str(value) for name, value in request.params.items()}
        parts = request.endpoint.match(request.endpoint.method, request.path) or {}
        lookup = request.headers.get(IDENTIFIER_HEADER)
        if request.endpoint is LIST_ENDPOINT:
            status, body = self.endpoints.customer_list(parts["customer"], lookup, params)
        elif request.endpoint is DETAIL_ENDPOINT:
            status, body = self.endpoints.detail(parts["customer"], parts["badge"], lookup, params)
        else:
            status, body = self.endpoints.meta(parts["badge"], params)
        target = f"{request.path}?{urlencode(request.params)}"
        return ApiResponse(target, status, body, orjson.loads(body), attempts=1)


def customer_refs(org: Org) -> list[CustomerRef]:
    """The part's customers as the customers file names them (every 5th by a lookup)."""
    return [CustomerRef(value, kind) for value, kind in org.customer_rows()]


async def customer_records(
    api: InProcessApi, paginator: PageNumberPaginator, customer: CustomerRef
) -> tuple[list[RawRecord], list[str]]:
    """Every page of the customer's four lists, then the detail of each listed badge."""

    records, listed = [], {}
    for list_type in LIST_TYPES:

        async def fetch_page(page: int, limit: int, list_type: str = list_type) -> ApiResponse:
            request = LIST_ENDPOINT.request(
                customer=customer, list_type=list_type, page=page, limit=limit
            )
            return api.call(request)

        paged = await paginator.fetch_all(fetch_page)
        records += [
            ok_record(LIST_ENDPOINT.name, response, customer, list_type=list_type, page=page)
            for page, response in paged.pages
        ]
        listed |= {entry["badgeMetaId"]: None for entry in paged.entries}
    for badge_id in listed:
        response = api.call(DETAIL_ENDPOINT.request(customer=customer, badge=badge_id))
        records.append(ok_record(DETAIL_ENDPOINT.name, response, customer, badge_id=badge_id))
    return records, list(listed)


def write_part(spec: ArchiveSpec, raw_dir: Path, index: int, first: int, count: int) -> dict:
    """Writes one part's lists and details; returns its listed badges (and, for the first
    part, every badge's meta body)."""
    org = generate_org_part(
        spec.customers, first, count, spec.badges, spec.seed, spec.snapshot_date
    )
    api = InProcessApi(org)
    paginator = PageNumberPaginator(ClientTuning().page_size, LIST_ENDPOINT.paging)
    writer = CheckpointWriter(raw_dir, first_part=index * PART_FILES + 1, checkpoint_seconds=1e9)
    listed: set[str] = set()

    async def write_all() -> None:
        for customer in customer_refs(org):
            records, badge_ids = await customer_records(api, paginator, customer)
            writer.add(records)
            listed.update(badge_ids)

    asyncio.run(write_all())
    writer.flush()
    metas = {}
    if index == 0:
        metas = {b: api.call(META_ENDPOINT.request(badge=b)) for b in org.badges}
    return {"listed": listed, "metas": metas}


def build_archive(spec: ArchiveSpec, raw_dir: Path, workers: int) -> None:
    """The whole archive of `spec` into `raw_dir` (replaced), parts in `workers` processes."""
    shutil.rmtree(raw_dir, ignore_errors=True)
    raw_dir.mkdir(parents=True)
    listed: set[str] = set()
    metas: dict[str, ApiResponse] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(write_part, spec, raw_dir, *part) for part in spec.parts()]
        for future in futures:
            result = future.result()
            listed |= result["listed"]
            metas |= result["metas"]
    parts = len(futures)
    writer = CheckpointWriter(raw_dir, first_part=parts * PART_FILES + 1)
    writer.add(
        ok_record(META_ENDPOINT.name, metas[badge_id], None, badge_id=badge_id)
        for badge_id in sorted(listed)
    )
    writer.flush()
    shutil.rmtree(raw_dir / "_state", ignore_errors=True)  # a sealed archive keeps no state


def cached_archive(
    spec: ArchiveSpec, results_dir: Path = RESULTS_DIR, workers: int = 2
) -> tuple[Path, bool]:
    """The raw directory of `spec`'s archive, built unless a complete one is cached; and
    whether it was built now."""
    lake = Lake(results_dir / "archives" / spec.name)
    raw_dir = lake.raw_dir(spec.snapshot_date)
    marker = lake.root / COMPLETE
    if marker.exists():
        return raw_dir, False
    if spec.source is None:
        build_archive(spec, raw_dir, workers)
    else:
        source_dir, _ = cached_archive(spec.source, results_dir, workers)
        copy_archive(source_dir, spec.customers // spec.source.customers, raw_dir)
    write_text(spec.name, marker)
    return raw_dir, True


def copy_archive(source_dir: Path, copies: int, raw_dir: Path) -> None:
    """`copies` copies of an archive's customers (copy 0 is the source, its badge meta kept
    once); copy c's customer values and issue and earn ids end in `~c`."""
    shutil.rmtree(raw_dir, ignore_errors=True)
    raw_dir.mkdir(parents=True)
    for path in sorted(source_dir.glob("*.parquet")):
        table = pq.read_table(path, schema=RAW_SCHEMA)
        customers = table.filter(pc.field("endpoint") != META_ENDPOINT.name)
        for copy in range(copies):
            marked = marked_copy(customers, copy) if copy else table
            write_parquet(marked, raw_dir / f"copy{copy:03d}-{path.name}", RAW_SCHEMA)


_ISSUE_OR_EARN_ID = re.compile(rb'("(?:issueId|earnId)":"[^"]+)"')


def marked_copy(table: pa.Table, copy: int) -> pa.Table:
    mark = f"~{copy}"
    customers = table.column("customer_id").to_pylist()
    paths = [
        path.replace(f"/{quote(value, safe='@+')}", f"/{quote(value + mark, safe='@+')}", 1)
        for path, value in zip(table.column("request_path").to_pylist(), customers, strict=True)
    ]
    id_mark = b"\\1" + mark.encode() + b'"'
    bodies = [_ISSUE_OR_EARN_ID.sub(id_mark, body) for body in table.column("body").to_pylist()]
    columns = {
        "customer_id": pa.array([value + mark for value in customers], pa.string()),
        "request_path": pa.array(paths, pa.string()),
        "body": pa.array(bodies, pa.binary()),
    }
    for name, values in columns.items():
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table
