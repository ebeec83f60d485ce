"""A data directory belongs to one source: a night against another stops before any call."""

from __future__ import annotations

from pipelines.lake.source_record import SourceIdentity, claim_for_source
from tests.e2e.conftest import Pipeline


def test_a_night_against_another_source_stops_before_any_call(pipeline: Pipeline):
    other = SourceIdentity("eu.api.capillarytech.com", "user acme-loyalty")
    claim_for_source(pipeline.lake, other)

    result = pipeline.run()

    assert not result.success
    assert pipeline.server.stats.total_requests == 0
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "raw_api_responses"
    assert failure.step_failure_data.user_failure_data.description == (
        f"the data directory {pipeline.lake.root} holds the nights of "
        "eu.api.capillarytech.com (user acme-loyalty), not of "
        f"127.0.0.1 (user {pipeline.credentials.username}); no call made: set "
        "BADGES_DATA_DIR to another directory for this source"
    )
    assert not pipeline.lake.raw_dates() and not pipeline.lake.building_dates()
