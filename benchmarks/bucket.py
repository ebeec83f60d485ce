"""What the bucket costs a night: bytes and seconds uploaded, and a fresh host's restore.

    uv run python benchmarks/bucket.py --customers 300 5000

Per org size: a full night and a steady rerun (2% of customers with a new earn) against the
sandbox, each published here and uploaded to moto's S3 server on 127.0.0.1; then an empty
data directory restores what its next night needs from the bucket, timed up to the point
where that night would make its first call. moto runs in this process and writes to
memory, so the seconds are this machine's, not a network's: the bytes are what carries over.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from dagster import materialize

from pipelines.definitions import defs
from pipelines.lake import Lake
from pipelines.lake.mirror import mirror_of
from pipelines.ops.resources import BucketResource, CapillaryApiResource, LakeResource
from pipelines.sandbox import SandboxApiError, SandboxCredentials, SandboxServer, generate_org
from tests.nights import instance_offering
from tests.services.s3 import started_s3

TODAY = dt.datetime.now(dt.UTC).date()
REFRESH_DAYS = 7


def night(server: SandboxServer, credentials, csv: Path, lake: Lake) -> dict:
    """One night through every asset; the bucket copy's figures."""
    result = materialize(
        list(defs.assets),
        partition_key=TODAY.isoformat(),
        resources={
            "capillary_api": CapillaryApiResource(
                base_url=server.base_url,
                username=credentials.username,
                password=credentials.password,
                customers_file=str(csv),
            ),
            "lake": LakeResource(data_dir=str(lake.root), bucket_url=lake.bucket_url),
            "bucket": BucketResource(),
        },
        instance=instance_offering(TODAY),
        raise_on_error=True,
    )
    copy = result.asset_materializations_for_node("bucket_copy")[0].metadata
    return {name: value.value for name, value in copy.items()}


def add_earns(server: SandboxServer, share: float, rng: random.Random) -> int:
    pairs = sorted(server.org.listed_pairs())
    added = 0
    for customer_id, badge_id in rng.sample(pairs, max(1, int(len(pairs) * share))):
        try:
            server.org.add_earn(customer_id, badge_id)
            added += 1
        except SandboxApiError:  # the pair's constraints allow no more earns
            continue
    return added


def size_of(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def measure(customers: int, workdir: Path, s3) -> None:
    org = generate_org(customers=customers, badges=30, seed=7, as_of=TODAY)
    credentials = SandboxCredentials()
    csv = workdir / f"customers-{customers}.csv"
    org.write_customers_csv(csv)
    bucket = f"bench-{customers}-{int(time.time())}"
    s3.filesystem().create_dir(bucket)
    url = f"s3://{bucket}/nightly"
    with SandboxServer(org, credentials=credentials) as server:
        host = Lake(workdir / f"host-{customers}", url)
        full = night(server, credentials, csv, host)
        add_earns(server, 0.02, random.Random(customers))
        steady = night(server, credentials, csv, host)
    for label, copy in (("full night", full), ("steady rerun", steady)):
        print(
            f"{customers:>7,} customers, {label:<12}: uploaded {copy['bytes'] / 2**20:7.2f} MiB "
            f"in {copy['objects']:>4} objects, {copy['seconds']:6.2f} s"
        )
    fresh = mirror_of(Lake(workdir / f"fresh-{customers}", url))
    started = time.monotonic()
    fresh.bucket.check()
    restored = fresh.restore(TODAY, REFRESH_DAYS)
    seconds = time.monotonic() - started
    print(
        f"{customers:>7,} customers, fresh host  : restored {restored.bytes / 2**20:7.2f} MiB "
        f"in {restored.objects:>4} objects, {seconds:6.2f} s before its first call"
    )
    bucket_bytes = sum(s3.filesystem().get_file_info(f.path).size for f in _files(s3, bucket))
    print(
        f"{customers:>7,} customers, sizes       : data directory {size_of(host.root) / 2**20:.2f} "
        f"MiB, bucket {bucket_bytes / 2**20:.2f} MiB"
    )


def _files(s3, bucket: str):
    from pyarrow import fs

    infos = s3.filesystem().get_file_info(fs.FileSelector(bucket, recursive=True))
    return [i for i in infos if i.type == fs.FileType.File]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[300, 5000])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bucket-bench-") as tmp, started_s3() as s3:
        os.environ.update(s3.environment())
        for customers in args.customers:
            measure(customers, Path(tmp), s3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
