"""The earn report: four charts of a published snapshot in one self-contained HTML page.

Reads the models of schema `analytics` (`pipelines.report.data`), draws them with
matplotlib (`pipelines.report.charts`) and writes `<data dir>/reports/earn_report-D.html`:
PNG images embedded as base64 above the numbers they show, no script and no external
file, so the page opens with no network. A chart without data gets a note instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import numbers
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines.report import charts, data
from pipelines.report.data import TOP_BADGES

__all__ = ["TOP_BADGES", "Chart", "EarnReport", "report_path", "write_earn_report"]

NO_DATA = "No data"
FUNNEL_EXPLAINED = (
    "Customers (customer_id and identifier type) per stage, for the badges most customers "
    "earned (analytics.badge_funnel). Reached, the top: the badge is in one of their lists, "
    "or they were issued or earned it; every other stage counts some of these customers. "
    "Issued to: at least one issual (any status). Earned by: at least one earn (any status); "
    "it may exceed issued to, as an EARN badge is earned without an issual. Issued and earned: "
    "both. Available now: in their AVAILABLE or AVAILABLE_TO_ISSUE list today (an earned "
    "badge leaves it). Issue to earn: issued and earned / issued to."
)


@dataclass(frozen=True)
class Chart:
    title: str
    png: bytes | None  # None when the model has nothing to draw
    note: str  # "No data: ..." in place of the image when there is none
    table: pd.DataFrame  # the numbers behind the chart, as shown under it
    explains: str = ""  # what the chart's numbers are, shown under its title


@dataclass(frozen=True)
class EarnReport:
    snapshot_date: dt.date
    path: Path
    top_badges: pd.DataFrame  # badge_id, badge, earns: the badges with the most earns
    charts: dict[str, Chart]  # earns, funnel, time_to_earn, expiring

    @property
    def top_badge_names(self) -> list[str]:
        return list(self.top_badges["badge"])

    def summary_markdown(self) -> str:
        """The file's path, then every chart as an inline PNG (or its no-data note)."""
        lines = [f"**Earn report {self.snapshot_date}**: `{self.path}`"]
        for chart in self.charts.values():
            lines += ["", f"#### {chart.title}", "", chart.explains, ""]
            if chart.png is None:
                lines.append(f"_{chart.note}_")
            else:
                lines.append(f"![{chart.title}]({png_data_uri(chart.png)})")
        return "\n".join(lines)


def report_path(data_dir: Path, snapshot_date: dt.date) -> Path:
    """Where the report of `snapshot_date` is written."""
    return data_dir / "reports" / f"earn_report-{snapshot_date.isoformat()}.html"


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def build_report(con: duckdb.DuckDBPyConnection, path: Path, snapshot_date: dt.date) -> EarnReport:
    """Reads every model the report shows and draws its charts."""
    top = data.read_top_badges(con)
    drawn = {
        "earns": earns_chart(con, top),
        "funnel": funnel_chart(data.read_funnel(con)),
        "time_to_earn": time_to_earn_chart(*data.read_time_to_earn(con)),
        "expiring": expiring_chart(con, snapshot_date),
    }
    return EarnReport(snapshot_date, path, top[["badge_id", "badge", "earns"]], drawn)


def earns_chart(con: duckdb.DuckDBPyConnection, top: pd.DataFrame) -> Chart:
    earns, bucket = data.read_earns_by_period(con, list(top["badge_id"]))
    table = pd.DataFrame(
        {
            "badge": top["badge"],
            "earns": top["earns"],
            "first earn (UTC day)": top["first_day"].astype(str),
            "last earn (UTC day)": top["last_day"].astype(str),
        }
    )
    png = charts.earns_over_time_png(earns, top, bucket) if len(top) else None
    title = f"Earns per {bucket}, top {len(top) or TOP_BADGES} badges by earns"
    explains = (
        f"Earns (badge_earns rows, any status) per {bucket} of the day they were earned "
        f"(UTC, analytics.earns_daily), for the {len(top) or TOP_BADGES} badges with the most "
        "earns in the snapshot; the table gives each one's total and first and last day."
    )
    return Chart(title, png, f"{NO_DATA}: no earns in this snapshot.", table, explains)


def funnel_chart(funnel: pd.DataFrame) -> Chart:
    table = pd.DataFrame(
        {
            "badge": funnel["badge"],
            "reached": funnel["customers_reached"],
            "issued to": funnel["customers_issued"],
            "earned by": funnel["customers_earned"],
            "issued and earned": funnel["customers_issued_and_earned"],
            "available now": funnel["customers_available"],
            "issue to earn": [_percent(rate) for rate in funnel["issue_to_earn_rate"]],
        }
    )
    png = charts.funnel_png(funnel) if len(funnel) else None
    title = "Badge funnel: customers reached, issued to, earned by"
    return Chart(title, png, f"{NO_DATA}: no badges in this snapshot.", table, FUNNEL_EXPLAINED)


def time_to_earn_chart(times: pd.DataFrame, unit: str) -> Chart:
    table = pd.DataFrame(
        {
            "badge": times["badge"],
            "customers measured": times["customers_measured"],
            "customers issued": times["customers_issued"],
            f"median ({unit})": times["median"].round(1),
            f"90th percentile ({unit})": times["p90"].round(1),
        }
    )
    png = charts.time_to_earn_png(times, unit) if len(times) else None
    note = f"{NO_DATA}: no customer earned a badge after being issued it."
    explains = (
        f"Per badge, the {unit} from a customer's first issual to their first earn after it "
        "(analytics.time_to_earn): the median and the 90th percentile over the customers "
        "measured. Earns before a customer's first issual (EARN badges) are not measured."
    )
    return Chart("Time from first issual to first earn", png, note, table, explains)


def expiring_chart(con: duckdb.DuckDBPyConnection, snapshot_date: dt.date) -> Chart:
    per_day = data.read_expiring(con, snapshot_date)
    by_badge = data.read_expiring_by_badge(con)
    table = pd.DataFrame(
        {
            "badge": by_badge["badge"],
            "active earns expiring": by_badge["earns"],
            "customers": by_badge["customers"],
            "first expiry in (days)": by_badge["soonest_days"],
        }
    )
    png = charts.expiring_png(per_day, snapshot_date) if per_day["earns"].sum() else None
    days = data.EXPIRY_WINDOW_DAYS
    note = f"{NO_DATA}: no active earn expires in the {days} days from {snapshot_date}."
    explains = (
        f"Active earns whose expiry falls in the {days} days from {snapshot_date} 00:00 UTC, "
        "per day (analytics.expiring_badges); earns without an expiry never expire. The "
        "table lists the badges with the most of them."
    )
    return Chart(f"Active earns expiring in the next {days} days", png, note, table, explains)


def render_html(report: EarnReport) -> str:
    """The whole report as one HTML page: each chart, then its numbers as a table."""
    title = html.escape(f"Earn report {report.snapshot_date}")
    sections = "\n".join(_section(key, chart) for key, chart in report.charts.items())
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>\n<h1>{title}</h1>\n"
        "<p>Read from schema <code>analytics</code> of the published warehouse; "
        "days and weeks are UTC.</p>\n"
        f"{sections}\n</body></html>\n"
    )


def write_earn_report(
    con: duckdb.DuckDBPyConnection, data_dir: Path, snapshot_date: dt.date
) -> EarnReport:
    """Builds the report from the connection's analytics models and writes it atomically."""
    report = build_report(con, report_path(data_dir, snapshot_date), snapshot_date)
    report.path.parent.mkdir(parents=True, exist_ok=True)
    partial = report.path.with_name(report.path.name + ".partial")
    partial.write_text(render_html(report), encoding="utf-8")
    os.replace(partial, report.path)
    return report


_CSS = (
    "body{font-family:sans-serif;max-width:1040px;margin:1em auto;padding:0 1em;color:#222}"
    "section{margin:2em 0}img{display:block;max-width:100%;height:auto}"
    "table{border-collapse:collapse;margin-top:.6em;font-size:.9em}"
    "td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee}"
    "td:first-child,th:first-child{text-align:left}.no-data{color:#666;font-style:italic}"
)


def _section(key: str, chart: Chart) -> str:
    title = html.escape(chart.title)
    if chart.png is None:
        body = f'<p class="no-data">{html.escape(chart.note)}</p>'
    else:
        width, height = _png_size(chart.png)
        body = (
            f'<img src="{png_data_uri(chart.png)}" alt="{title}" width="{width}" height="{height}">'
        )
    table = _html_table(chart.table) if len(chart.table) else ""
    explains = f'<p class="explains">{html.escape(chart.explains)}</p>\n'
    return f'<section id="{key}"><h2>{title}</h2>\n{explains}{body}\n{table}</section>'


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: object) -> str:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return f"{value:,}"
    return "" if pd.isna(value) else str(value)


def _percent(rate: float | None) -> str:
    return "" if rate is None or pd.isna(rate) else f"{rate:.0%}"


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height
