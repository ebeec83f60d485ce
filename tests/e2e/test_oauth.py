"""OAuth under concurrency: tokens that expire during the run are renewed, once, in time."""

from __future__ import annotations

from pathlib import Path

from dagster import materialize

from pipelines.ops.resources import BucketResource, CapillaryApiResource, LakeResource
from pipelines.sandbox import Faults, SandboxCredentials, SandboxServer, generate_org
from tests.e2e.conftest import ALL_ASSETS, today
from tests.nights import instance_offering


def test_tokens_expiring_mid_run_are_renewed_without_failures(tmp_path: Path):
    org = generate_org(customers=40, badges=20, seed=3, as_of=today())
    customers = tmp_path / "customers.csv"
    org.write_customers_csv(customers)
    credentials = SandboxCredentials(token_ttl_seconds=1.0)
    with SandboxServer(org, credentials=credentials, faults=Faults(latency_ms=30)) as server:
        result = materialize(
            ALL_ASSETS,
            partition_key=today().isoformat(),
            resources={
                "capillary_api": CapillaryApiResource(
                    base_url=server.base_url,
                    client_key=credentials.client_key,
                    client_secret=credentials.client_secret,
                    customers_file=str(customers),
                    concurrency=4,
                ),
                "lake": LakeResource(data_dir=str(tmp_path / "data")),
                "bucket": BucketResource(),
            },
            instance=instance_offering(today()),
        )
        stats = server.stats
    assert result.success
    metadata = result.asset_materializations_for_node("raw_api_responses")[0].metadata
    seconds = metadata["seconds"].value
    assert metadata["token_renewals"].value >= 2  # the run outlived several tokens
    assert metadata["token_renewals"].value <= seconds / 0.9 + 2  # one renewal per expiry
    assert metadata["failed_calls"].value == 0
    assert stats.auth_failures == 0  # no request went out with an expired token
