"""What the earn report shows, over warehouses built by the real SQL models from chosen rows."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import duckdb
import pytest

from pipelines.report.data import read_earns_by_period, read_expiring, read_time_to_earn
from pipelines.report.page import write_earn_report
from tests.report.models_warehouse import Rows, build_warehouse
from tests.report.pages import markdown_images, png_size, section_images, section_rows, sections

SNAPSHOT = dt.date(2026, 3, 20)
CHARTS = ["earns", "funnel", "time_to_earn", "expiring"]


def at(day: dt.date, hour: float = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(hours=hour)


def earns_on(badge_id: str, days: list[dt.date], expires: dt.datetime | None = None) -> list:
    return [
        (f"c{n}", badge_id, f"{badge_id}-e{n}", at(day), expires, "ACTIVE")
        for n, day in enumerate(days)
    ]


@pytest.fixture
def connect(tmp_path: Path):
    def _connect(rows: Rows) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(build_warehouse(tmp_path / "w.duckdb", SNAPSHOT, rows)))

    return _connect


def test_top_badges_ranked_by_earns_with_names_kept_as_text(connect, tmp_path: Path):
    names = {f"b{n}": f"Badge {n}" for n in range(7)}
    names["b6"] = "Save $5 & <win> $10"  # "$" pairs would be a formula to matplotlib
    day = dt.date(2026, 3, 2)
    earns = [e for n in range(6) for e in earns_on(f"b{n}", [day] * (n + 1))]
    earns += earns_on("b6", [day] * 40)
    with connect(Rows(badges=names, earns=earns)) as con:
        report = write_earn_report(con, tmp_path, SNAPSHOT)

    assert list(report.top_badges["badge_id"]) == ["b6", "b5", "b4", "b3", "b2"]
    assert list(report.top_badges["earns"]) == [40, 6, 5, 4, 3]
    page = report.path.read_text()
    assert "Save $5 &amp; &lt;win&gt; $10" in page and "<win>" not in page
    assert section_rows(page, "earns")[0][:2] == ["Save $5 & <win> $10", "40"]
    assert "Badge 1" not in sections(page)["earns"]  # b1 is not among the top five
    assert report.charts["earns"].title == "Earns per day, top 5 badges by earns"


def test_a_long_span_is_counted_per_week_from_monday_with_empty_weeks(connect):
    wednesday, thursday, later = dt.date(2026, 1, 7), dt.date(2026, 1, 8), dt.date(2026, 3, 25)
    rows = Rows(badges={"b1": "One"}, earns=earns_on("b1", [wednesday, wednesday, thursday, later]))
    with connect(rows) as con:
        earns, bucket = read_earns_by_period(con, ["b1"])

    assert bucket == "week"
    assert earns["period"].iloc[0].date() == dt.date(2026, 1, 5)  # that week's Monday
    assert earns["period"].iloc[-1].date() == dt.date(2026, 3, 23)
    assert len(earns) == 12 and earns["b1"].tolist() == [3] + [0] * 10 + [1]


def test_a_short_span_is_counted_per_day(connect):
    days = [dt.date(2026, 3, 1), dt.date(2026, 3, 1), dt.date(2026, 3, 4)]
    with connect(Rows(badges={"b1": "One"}, earns=earns_on("b1", days))) as con:
        earns, bucket = read_earns_by_period(con, ["b1"])

    assert bucket == "day"
    assert earns["b1"].tolist() == [2, 0, 0, 1]


def test_time_to_earn_in_hours_for_quick_badges(connect, tmp_path: Path):
    issued = at(dt.date(2026, 3, 1), 0)
    rows = Rows(
        badges={"b1": "Quick"},
        issuals=[("c0", "b1", "i0", issued), ("c1", "b1", "i1", issued)],
        earns=[
            ("c0", "b1", "e0", issued + dt.timedelta(hours=10), None, "ACTIVE"),
            ("c1", "b1", "e1", issued + dt.timedelta(hours=30), None, "ACTIVE"),
        ],
    )
    with connect(rows) as con:
        times, unit = read_time_to_earn(con)
        report = write_earn_report(con, tmp_path, SNAPSHOT)

    assert unit == "hours"
    assert times[["median", "p90"]].round(6).values.tolist() == [[20.0, 28.0]]
    assert section_rows(report.path.read_text(), "time_to_earn") == [
        ["Quick", "2", "2", "20.0", "28.0"]
    ]


def test_expiring_earns_are_counted_per_day_of_the_30_day_window(connect, tmp_path: Path):
    first, last = at(SNAPSHOT, 1), at(SNAPSHOT + dt.timedelta(days=29), 23)
    outside = at(SNAPSHOT + dt.timedelta(days=30), 0)
    earns = [
        *earns_on("b1", [dt.date(2026, 3, 1)] * 2, first),
        *earns_on("b2", [dt.date(2026, 3, 1)], last),
        *earns_on("b3", [dt.date(2026, 3, 1)], outside),
    ]
    with connect(Rows(badges={"b1": "A", "b2": "B", "b3": "C"}, earns=earns)) as con:
        per_day = read_expiring(con, SNAPSHOT)
        report = write_earn_report(con, tmp_path, SNAPSHOT)

    assert len(per_day) == 30 and per_day["expires_on"].iloc[0] == SNAPSHOT
    assert per_day["earns"].iloc[0] == 2 and per_day["earns"].iloc[29] == 1
    assert per_day["earns"].sum() == 3
    page = report.path.read_text()
    assert section_rows(page, "expiring") == [["A", "2", "2", "0"], ["B", "1", "1", "29"]]
    assert list(section_images(page)) == ["earns", "funnel", "expiring"]
    assert "No data: no customer earned a badge after being issued it." in page  # no issuals


def test_a_snapshot_without_earns_gets_a_note_per_chart(connect, tmp_path: Path):
    with connect(Rows()) as con:
        report = write_earn_report(con, tmp_path, SNAPSHOT)

    page = report.path.read_text()
    assert report.top_badge_names == []
    assert list(sections(page)) == CHARTS
    assert section_images(page) == {}
    for key, body in sections(page).items():
        assert '<p class="no-data">No data: ' in body, key
    assert report.summary_markdown().count("_No data: ") == 4
    assert markdown_images(report.summary_markdown()) == []
    assert list(report.path.parent.iterdir()) == [report.path]  # no partial file left


def test_charts_are_pngs_sized_as_the_page_declares(connect, tmp_path: Path):
    from tests.report.models_warehouse import a_year_of_earns

    with connect(a_year_of_earns(SNAPSHOT)) as con:
        report = write_earn_report(con, tmp_path, SNAPSHOT)

    page = report.path.read_text()
    images = section_images(page)
    assert list(images) == CHARTS
    for key, png in images.items():
        width, height = png_size(png)
        assert f'width="{width}" height="{height}"' in sections(page)[key]
    assert report.charts["earns"].title.startswith("Earns per week")
    assert markdown_images(report.summary_markdown()) == list(images.values())


def test_each_chart_says_what_its_numbers_are_and_the_funnel_is_monotone(connect, tmp_path):
    """A badge earned by customers who no longer list it as available: its funnel's top,
    reached, still counts them, and each stage is defined on the page."""
    day = dt.date(2026, 3, 2)
    rows = Rows(
        badges={"b1": "Walker", "b2": "Saver"},
        available=[("c9", "b1"), ("c1", "b2")],
        issuals=[("c1", "b2", "i1", at(day))],
        earns=earns_on("b1", [day, day, day], expires=at(SNAPSHOT, 48)),
    )
    with connect(rows) as con:
        report = write_earn_report(con, tmp_path, SNAPSHOT)

    page = report.path.read_text()
    for key, body in sections(page).items():
        explains = re.search(r'<p class="explains">([^<]+)</p>', body)
        assert explains is not None and len(explains.group(1)) > 80, key
    funnel = sections(page)["funnel"]
    for stage in ("Reached", "Issued to", "Earned by", "Issued and earned", "Available now"):
        assert f"{stage}: " in html.unescape(funnel) or f"{stage}, the top" in funnel, stage
    header = re.findall(r"<th>([^<]+)</th>", funnel)
    assert header[:4] == ["badge", "reached", "issued to", "earned by"]
    by_badge = {row[0]: [int(n) for n in row[1:6]] for row in section_rows(page, "funnel")}
    # reached, issued to, earned by, issued and earned, available now
    assert by_badge == {"Walker": [4, 0, 3, 0, 1], "Saver": [1, 1, 0, 0, 1]}
    for reached, issued, earned, both, available in by_badge.values():
        assert reached >= max(issued, earned, available) and both <= min(issued, earned)
