"""A sample of mutated vendor examples through whole nights: each night publishes, keeps
the answer as received in its raw archive, and puts the answer in rows or names it in
`extract_errors`. (The normalizer meets many more mutations, one answer at a time.)"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.sandbox.vendor_world import CUSTOMERS, METAS, VendorWorld, example_text
from tests.vendor.conftest import start_vendor_pipeline
from tests.vendor.mutations import Mutation, mutated, mutations

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


def archived_bodies(raw_dir: Path) -> list[bytes]:
    return [
        body
        for path in sorted(raw_dir.glob("*.parquet"))
        for body in pq.read_table(path, columns=["body"]).column("body").to_pylist()
        if body is not None
    ]


@settings(
    max_examples=6,
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


def pipeline_date(pipeline) -> object:
    (info,) = pipeline.query("SELECT snapshot_date FROM main.snapshot_info")
    return info[0]
