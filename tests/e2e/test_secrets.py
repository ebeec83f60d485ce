"""Secrets never reach the raw archive, the lake, the warehouse, run config or run events."""

from __future__ import annotations

from pathlib import Path

from dagster import EnvVar, materialize

from pipelines.client.auth import basic_auth_header
from pipelines.ops.resources import BucketResource, CapillaryApiResource, LakeResource
from tests.e2e.conftest import ALL_ASSETS, Pipeline, today
from tests.nights import instance_offering


def test_no_secret_is_stored_or_logged(tmp_path: Path, pipeline: Pipeline, monkeypatch):
    password = pipeline.credentials.password
    monkeypatch.setenv("TEST_CAPILLARY_PASSWORD", password)
    instance = instance_offering(today())
    result = materialize(
        ALL_ASSETS,
        partition_key=today().isoformat(),
        resources={
            "capillary_api": CapillaryApiResource(
                base_url=pipeline.server.base_url,
                username=pipeline.credentials.username,
                password=EnvVar("TEST_CAPILLARY_PASSWORD"),
                customers_file=str(pipeline.customers_csv),
            ),
            "lake": LakeResource(data_dir=str(pipeline.lake.root)),
            "bucket": BucketResource(),
        },
        instance=instance,
    )
    assert result.success
    authorization = basic_auth_header(pipeline.credentials.username, password)["Authorization"]
    secrets = [password.encode(), authorization.encode(), authorization.split()[1].encode()]

    files = [p for p in pipeline.lake.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" and "raw" in p.parts for p in files)
    for path in files:
        content = path.read_bytes()
        assert not any(secret in content for secret in secrets), path

    run = instance.get_run_by_id(result.run_id)
    texts = [repr(run.run_config), *(repr(event) for event in result.all_events)]
    texts += [repr(record) for record in instance.all_logs(result.run_id)]
    for text in texts:
        assert not any(secret.decode() in text for secret in secrets)
