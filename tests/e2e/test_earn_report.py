"""The earn report: written by the nightly run from the staging warehouse, valid SVG inside."""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import duckdb

from pipelines.report import TOP_BADGES, report_path, write_earn_report
from pipelines.warehouse.loader import staging_path
from tests.e2e.conftest import TODAY, Pipeline

SVG = re.compile(r"<svg .*?</svg>", re.DOTALL)


def svg_documents(page: str) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(match) for match in SVG.findall(page)]


def expected_top_badges(pipeline: Pipeline) -> list[str]:
    """Names of the badges with the most earns the warehouse can see (listed pairs only)."""
    org = pipeline.org
    earns = Counter()
    for customer_id, badge_id in org.listed_pairs():
        earns[badge_id] += len(org.earns(customer_id, badge_id))
    ranked = sorted((b for b in earns if earns[b]), key=lambda b: (-earns[b], b))
    return [org.badges[b].name for b in ranked[:TOP_BADGES]]


def test_nightly_run_writes_the_report_before_publishing(pipeline: Pipeline):
    result = pipeline.run()
    assert result.success

    metadata = result.asset_materializations_for_node("earn_report")[0].metadata
    path = Path(metadata["path"].value)
    assert path == report_path(pipeline.lake.root, TODAY)
    page = path.read_text()
    top = expected_top_badges(pipeline)
    assert len(top) == TOP_BADGES
    for name in top:
        assert html.escape(name) in page
    assert metadata["top_badges"].value == top
    assert f"`{path}`" in metadata["report"].value
    assert len(svg_documents(page)) == 2
    # read from the staging file, not from a copy of the published one made afterwards
    assert not staging_path(pipeline.lake, TODAY).exists()


def write_models(con: duckdb.DuckDBPyConnection, earns: list[tuple], funnel: list[tuple]) -> None:
    con.execute("CREATE SCHEMA analytics")
    con.execute(
        "CREATE TABLE analytics.earns_daily "
        "(day DATE, badge_id VARCHAR, badge_name VARCHAR, earns BIGINT, customers BIGINT)"
    )
    con.execute(
        "CREATE TABLE analytics.badge_funnel (badge_id VARCHAR, badge_name VARCHAR, "
        "customers_available BIGINT, customers_issued BIGINT, customers_earned BIGINT, "
        "customers_issued_and_earned BIGINT, issuals_revoked BIGINT, issue_to_earn_rate DOUBLE)"
    )
    if earns:
        con.executemany("INSERT INTO analytics.earns_daily VALUES (?, ?, ?, ?, 1)", earns)
    if funnel:
        con.executemany(
            "INSERT INTO analytics.badge_funnel VALUES (?, ?, ?, ?, ?, 0, 0, ?)", funnel
        )


def test_report_ranks_badges_escapes_names_and_stays_valid_svg(tmp_path: Path):
    day = dt.date(2026, 3, 1)
    earns = [(day + dt.timedelta(days=n % 3), f"b{n}", f"Badge {n}", n + 1) for n in range(6)]
    earns.append((day, "b6", "Tom & <Jerry>", 40))
    funnel = [("b6", "Tom & <Jerry>", 9, 5, 4, 0.8), ("b1", None, 3, 0, 2, None)]
    with duckdb.connect(str(tmp_path / "models.duckdb")) as con:
        write_models(con, earns, funnel)
        report = write_earn_report(con, tmp_path, day)

    assert [s.badge_id for s in report.top_badges] == ["b6", "b5", "b4", "b3", "b2"]
    assert report.top_badges[0].earns_by_day == {day: 40}
    assert [row.label for row in report.funnel] == ["Tom & <Jerry>", "b1"]
    page = report.path.read_text()
    assert "Tom &amp; &lt;Jerry&gt;" in page and "Tom & <Jerry>" not in page
    assert "Badge 1<" not in page  # b1 is not among the top five by earns
    earns_svg, funnel_svg = svg_documents(page)
    assert len(earns_svg.findall("{http://www.w3.org/2000/svg}polyline")) == TOP_BADGES
    bars = [
        r for r in funnel_svg.iter("{http://www.w3.org/2000/svg}rect") if r.get("height") == "8"
    ]
    assert len(bars) == 2 * 3  # available, issued and earned for each funnel row
    assert "80%" in page
    assert report.summary_markdown().count("data:image/svg+xml;base64,") == 2


def test_report_of_a_snapshot_without_earns(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        write_models(con, [], [])
        report = write_earn_report(con, tmp_path, TODAY)

    page = report.path.read_text()
    assert report.top_badges == [] and report.funnel == []
    assert "no earns in this snapshot" in page
    assert len(svg_documents(page)) == 2
    assert list(report.path.parent.iterdir()) == [report.path]  # no partial file left
