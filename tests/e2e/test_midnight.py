"""A night's mode is decided when it is launched: a night of D launched at 23:59:59 UTC on
D, whose steps run after midnight, is still tonight's night of D (the API is asked) and
publishes D; it is not taken for a replay of D's (missing) archive."""

from __future__ import annotations

import datetime as dt

from tests.e2e.conftest import Pipeline, today


def test_a_night_launched_at_235959_for_d_publishes_d_after_midnight(pipeline: Pipeline):
    day = today() - dt.timedelta(days=1)  # its steps run now: after the midnight ending D
    launched = dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC)

    result = pipeline.run(day, launched=launched)

    assert result.success
    extract = result.asset_materializations_for_node("raw_api_responses")[0].metadata
    assert "replayed_from_archive" not in extract
    assert pipeline.server.stats.total_requests > 0
    assert pipeline.lake.raw_dir(day).is_dir()  # tonight's answers, archived under D
    assert pipeline.query("SELECT snapshot_date FROM main.snapshot_info") == [(day,)]


def test_the_same_night_launched_after_midnight_is_a_replay_and_names_the_archive(
    pipeline: Pipeline,
):
    day = today() - dt.timedelta(days=1)
    launched = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0, 1), dt.UTC)

    result = pipeline.run(day, launched=launched)

    assert not result.success
    assert pipeline.server.stats.total_requests == 0
    assert not pipeline.lake.warehouse_path.exists()
