"""The earn report of a nightly run: read from the published warehouse, four embedded PNGs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import ExecuteInProcessResult

from pipelines.report.page import TOP_BADGES, report_path
from pipelines.sandbox import generate_org
from pipelines.warehouse.loader import staging_path
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.report.pages import markdown_images, png_size, section_images, section_rows

CHARTS = ["earns", "funnel", "time_to_earn", "expiring"]


@pytest.fixture(scope="module")
def nightly(tmp_path_factory) -> Iterator[tuple[Pipeline, ExecuteInProcessResult]]:
    """One sandbox org synced once; every test of the module reads the same run."""
    org = generate_org(customers=40, badges=24, seed=11, as_of=today())
    for pipeline in start_pipeline(tmp_path_factory.mktemp("earn_report"), org):
        yield pipeline, pipeline.run()


def report_metadata(result: ExecuteInProcessResult) -> dict:
    return result.asset_materializations_for_node("earn_report")[0].metadata


def expected_top_badges(pipeline: Pipeline) -> list[str]:
    """Names of the badges with the most earns the warehouse can see (listed pairs only)."""
    org = pipeline.org
    earns = Counter()
    for customer_id, badge_id in org.listed_pairs():
        earns[badge_id] += len(org.earns(customer_id, badge_id))
    ranked = sorted((b for b in earns if earns[b]), key=lambda b: (-earns[b], b))
    return [org.badges[b].name for b in ranked[:TOP_BADGES]]


def test_the_report_is_written_from_the_published_snapshot(nightly):
    pipeline, result = nightly
    assert result.success
    path = Path(report_metadata(result)["path"].value)
    assert path == report_path(pipeline.lake.root, today())
    assert path.is_file()
    assert list(path.parent.iterdir()) == [path]  # no partial file left beside it
    assert not staging_path(pipeline.lake, today()).exists()  # published, staging swapped in


def test_top_badges_are_those_with_the_most_earns(nightly):
    pipeline, result = nightly
    top = expected_top_badges(pipeline)
    assert len(top) == TOP_BADGES
    assert report_metadata(result)["top_badges"].value == top

    counted = pipeline.query(
        """
        SELECT b.name, count(*) AS earns
        FROM main.badge_earns AS e JOIN main.badges AS b USING (badge_id)
        WHERE e.earned_at IS NOT NULL
        GROUP BY e.badge_id, b.name
        ORDER BY earns DESC, e.badge_id
        LIMIT 5
        """
    )
    page = Path(report_metadata(result)["path"].value).read_text()
    shown = [(row[0], int(row[1])) for row in section_rows(page, "earns")]
    assert shown == [(name, earns) for name, earns in counted]
    assert [name for name, _ in shown] == top


def test_each_chart_is_an_embedded_png_also_shown_in_the_ui(nightly):
    _, result = nightly
    metadata = report_metadata(result)
    page = Path(metadata["path"].value).read_text()
    images = section_images(page)
    assert list(images) == CHARTS
    for png in images.values():
        width, height = png_size(png)
        assert width >= 600 and height >= 200
    assert "<script" not in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch when opened
    markdown = metadata["report"].value
    assert f"`{metadata['path'].value}`" in markdown
    assert markdown_images(markdown) == list(images.values())


def test_expiring_earns_match_the_active_earns_of_the_next_30_days(nightly):
    pipeline, result = nightly
    last_day = today() + dt.timedelta(days=29)
    expected = pipeline.query(
        f"""
        SELECT b.name, count(*) AS earns, count(DISTINCT e.customer_id) AS customers
        FROM main.badge_earns AS e JOIN main.badges AS b USING (badge_id)
        WHERE e.earn_status = 'ACTIVE'
            AND CAST(timezone('UTC', e.earn_expires_at) AS DATE)
                BETWEEN DATE '{today()}' AND DATE '{last_day}'
        GROUP BY e.badge_id, b.name
        ORDER BY earns DESC, e.badge_id
        LIMIT 10
        """
    )
    assert expected, "the sandbox org should have earns expiring within 30 days"
    page = Path(report_metadata(result)["path"].value).read_text()
    shown = [(row[0], int(row[1]), int(row[2])) for row in section_rows(page, "expiring")]
    assert shown == expected
