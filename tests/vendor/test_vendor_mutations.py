"""A sample of mutated vendor examples through whole nights: each night publishes, keeps
the answer as received in its raw archive, and loads the rows the normalizer makes of the
answer on its own (where the mutated value is: its column, or `extra` under its key),
value for value, or names the answer in `extract_errors`. (The normalizer meets many more
mutations, one answer at a time, in tests/normalize/test_normalize_mutations.py.)"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import duckdb
import orjson
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import TABLES
from pipelines.normalize.normalizer import RecordNormalizer
from pipelines.sandbox.vendor_world import CUSTOMERS, METAS, VendorWorld, example_text
from tests.normalize.test_normalize_mutations import where_it_went
from tests.vendor.conftest import start_vendor_pipeline
from tests.vendor.mutations import Mutation, mutated, mutations

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# The examples the world answers whole, as the vendor wrote them, to a night's calls
# (which ask for the meta with its statistics).
SERVED_WHOLE = sorted(
    {name for customer in CUSTOMERS for name in customer.details.values()}
    | {
        lists
        for customer in CUSTOMERS
        for lists in customer.lists.values()
        if isinstance(lists, str)
    }
    | {with_statistics for with_statistics, _ in METAS.values()}
)


def accounted_for(name: str) -> tuple[str, str]:
    """(rows the answer makes, the extract_errors rows that would name it), as SQL."""
    for badge_id, (with_statistics, _) in METAS.items():
        if name == with_statistics:
            where = f"badge_id = '{badge_id}'"
            return f"main.badges WHERE {where}", f"endpoint = 'badge_meta' AND {where}"
    for customer in CUSTOMERS:
        who = f"customer_id = '{customer.value}'"
        for badge_id, detail in customer.details.items():
            if name == detail:
                where = f"{who} AND badge_id = '{badge_id}'"
                rows = f"main.customer_badge_details WHERE {where}"
                return rows, f"endpoint = 'customer_badge_detail' AND {where}"
        for list_type, served in customer.lists.items():
            if name == served:
                rows = f"main.customer_badges WHERE {who} AND list_type = '{list_type}'"
                return rows, f"endpoint = 'customer_badges' AND {who}"
    raise KeyError(name)


def record_for(name: str, body: bytes) -> RawRecord:
    """The raw record a night makes of the example `name` answered with `body`."""
    for badge_id, (with_statistics, _) in METAS.items():
        if name == with_statistics:
            return RawRecord("badge_meta", "/x", True, 200, body, None, None, badge_id)
    for customer in CUSTOMERS:
        who = (customer.value, customer.identifier_type)
        for badge_id, detail in customer.details.items():
            if name == detail:
                return RawRecord("customer_badge_detail", "/x", True, 200, body, *who, badge_id)
        for list_type, served in customer.lists.items():
            if name == served:
                path = "/x?page=0&limit=10"
                return RawRecord("customer_badges", path, True, 200, body, *who, None, list_type, 0)
    raise KeyError(name)


def loaded_as_normalized(pipeline, record: RawRecord, snapshot_date) -> list[str]:
    """The rows the normalizer makes of `record` on its own that the warehouse does not hold
    as they are (every column but when it was loaded; `extra` as JSON)."""
    rows = RecordNormalizer(snapshot_date).normalize(record)
    missing = []
    for name, table_rows in rows.items():
        if name == "extract_errors":
            continue
        table = TABLES[name]
        for row in table_rows:
            where = " AND ".join(
                f"{c} IS NULL" if row[c] is None else f"{c} = ?" for c in table.key
            )
            values = [row[c] for c in table.key if row[c] is not None]
            with duckdb.connect(str(pipeline.lake.warehouse_path), read_only=True) as con:
                cursor = con.execute(f"SELECT * FROM main.{name} WHERE {where}", values)
                columns = [d[0] for d in cursor.description]
                found = [dict(zip(columns, f, strict=True)) for f in cursor.fetchall()]
            if [_comparable(table, f) for f in found] != [_comparable(table, row)]:
                missing.append(f"{name}: {row}")
    return missing


def _comparable(table, row: dict) -> dict:
    out = {}
    for column in table.columns:
        value = row.get(column.name)
        if column.name in ("fetched_on", "loaded_at", "snapshot_date"):
            continue
        if column.json and value is not None:
            value = json.loads(value)
        elif isinstance(value, dt.datetime):
            value = (value - EPOCH) // dt.timedelta(microseconds=1)
        out[column.name] = value
    return out


def archived_bodies(raw_dir: Path) -> list[bytes]:
    return [
        body
        for path in sorted(raw_dir.glob("*.parquet"))
        for body in pq.read_table(path, columns=["body"]).column("body").to_pylist()
        if body is not None
    ]


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_night_over_a_mutated_example_publishes_and_keeps_the_answer(data: st.DataObject):
    name = data.draw(st.sampled_from(SERVED_WHOLE), label="example")
    answer = orjson.loads(example_text(name))
    mutation: Mutation = data.draw(mutations(answer), label="mutation")
    # The standard library writes integers past 64 bits, as a vendor's server may.
    body = json.dumps(mutated(answer, mutation)).encode()
    with tempfile.TemporaryDirectory() as tmp:
        runs = start_vendor_pipeline(Path(tmp), world=VendorWorld(served={name: body}))
        pipeline = next(runs)
        try:
            result = pipeline.run()
        finally:
            runs.close()
        assert result.success, mutation.describe()
        metadata = result.asset_materializations_for_node("raw_api_responses")[0].metadata
        assert metadata["failed_calls"].value == 0, mutation.describe()
        assert body in archived_bodies(pipeline.lake.raw_dir(pipeline_date(pipeline))), (
            mutation.describe()
        )
        rows, error_rows = accounted_for(name)
        made = pipeline.query(f"SELECT count(*) FROM {rows}")[0][0]
        named = pipeline.query(f"SELECT count(*) FROM main.extract_errors WHERE {error_rows}")
        assert made + named[0][0] > 0, f"{name}: {mutation.describe()} left no row"
        record = record_for(name, body)
        normalizer = RecordNormalizer(pipeline_date(pipeline))
        alone = normalizer.normalize(record)
        if mutation.kind != "deleted":
            went = where_it_went(alone, mutation, record.endpoint, normalizer.report)
            assert went is not None, f"{mutation.describe()}: the value is nowhere"
        missing = loaded_as_normalized(pipeline, record, pipeline_date(pipeline))
        assert not missing, (mutation.describe(), missing[:3])


def pipeline_date(pipeline) -> object:
    (info,) = pipeline.query("SELECT snapshot_date FROM main.snapshot_info")
    return info[0]
