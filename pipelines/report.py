"""The earn report: earns per day of the top badges and the badge funnel, drawn as SVG.

Reads `analytics.earns_daily` and `analytics.badge_funnel` of a warehouse connection and
writes one self-contained HTML file (inline SVG, no script, no external file) under
`<data dir>/reports/`. Plain Python: no plotting library.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

TOP_BADGES = 5
FUNNEL_BADGES = 10
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
FUNNEL_STAGES = (("available", "#9ecae1"), ("issued", "#4292c6"), ("earned", "#08519c"))
FONT = 'font-family="sans-serif" font-size="11"'
LABEL_CHARS = 30


@dataclass(frozen=True)
class BadgeSeries:
    badge_id: str
    label: str
    total_earns: int
    earns_by_day: dict[dt.date, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FunnelRow:
    badge_id: str
    label: str
    available: int
    issued: int
    earned: int
    issue_to_earn_rate: float | None


@dataclass(frozen=True)
class EarnReport:
    snapshot_date: dt.date
    path: Path
    top_badges: list[BadgeSeries]
    funnel: list[FunnelRow]
    earns_svg: str
    funnel_svg: str

    def summary_markdown(self) -> str:
        """The top badges as a Markdown table, then both charts as inline images."""
        rates = {row.badge_id: row.issue_to_earn_rate for row in self.funnel}
        lines = [
            f"**Earn report {self.snapshot_date}**: `{self.path}`",
            "",
            "| badge | earns | issue to earn |",
            "|---|---:|---:|",
        ]
        for series in self.top_badges:
            label = series.label.replace("|", "\\|")
            lines.append(
                f"| {label} | {series.total_earns:,} | {_rate(rates.get(series.badge_id))} |"
            )
        if not self.top_badges:
            lines.append("| (no earns in this snapshot) | 0 | |")
        lines += ["", _markdown_image("earns per day", self.earns_svg)]
        lines += ["", _markdown_image("badge funnel", self.funnel_svg)]
        return "\n".join(lines)


def report_path(data_dir: Path, snapshot_date: dt.date) -> Path:
    """Where the report of `snapshot_date` is written."""
    return data_dir / "reports" / f"earn_report-{snapshot_date.isoformat()}.html"


def read_top_badge_series(
    con: duckdb.DuckDBPyConnection, limit: int = TOP_BADGES
) -> list[BadgeSeries]:
    """Daily earns of the `limit` badges with the most earns (ties: badge id)."""
    rows = con.execute(
        """
        WITH top AS (
            SELECT badge_id, any_value(badge_name) AS badge_name, sum(earns) AS total
            FROM analytics.earns_daily
            GROUP BY badge_id
            ORDER BY total DESC, badge_id
            LIMIT ?
        )
        SELECT top.badge_id, top.badge_name, top.total, daily.day, daily.earns
        FROM top JOIN analytics.earns_daily AS daily USING (badge_id)
        ORDER BY top.total DESC, top.badge_id, daily.day
        """,
        [limit],
    ).fetchall()
    series: dict[str, BadgeSeries] = {}
    for badge_id, badge_name, total, day, earns in rows:
        if badge_id not in series:
            series[badge_id] = BadgeSeries(badge_id, badge_name or badge_id, int(total))
        series[badge_id].earns_by_day[day] = int(earns)
    return list(series.values())


def read_funnel(con: duckdb.DuckDBPyConnection, limit: int = FUNNEL_BADGES) -> list[FunnelRow]:
    """The funnel of the `limit` badges most customers earned."""
    rows = con.execute(
        """
        SELECT badge_id, badge_name, customers_available, customers_issued, customers_earned,
               issue_to_earn_rate
        FROM analytics.badge_funnel
        ORDER BY customers_earned DESC, customers_available DESC, badge_id
        LIMIT ?
        """,
        [limit],
    ).fetchall()
    return [
        FunnelRow(badge_id, name or badge_id, int(available), int(issued), int(earned), rate)
        for badge_id, name, available, issued, earned, rate in rows
    ]


def earns_chart_svg(series: list[BadgeSeries], width: int = 880, height: int = 320) -> str:
    """One line per badge: earns per UTC day, zero on days without earns."""
    left, right, top, bottom = 50, 200, 30, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    parts = [_svg_open(width, height), _text(left, 18, "Earns per day, top badges", bold=True)]
    days = sorted({day for s in series for day in s.earns_by_day})
    if not days:
        parts.append(_text(left, top + plot_height / 2, "no earns in this snapshot"))
        return "".join(parts) + "</svg>"
    first, span = days[0], max((days[-1] - days[0]).days, 1)
    peak = max(max(s.earns_by_day.values()) for s in series)

    def x(day: dt.date) -> float:
        return left + plot_width * (day - first).days / span

    def y(value: float) -> float:
        return top + plot_height * (1 - value / peak)

    parts.append(_axes(left, top, plot_width, plot_height))
    for value in sorted({0, peak // 2, peak}):
        parts.append(_text(left - 6, y(value) + 4, str(value), anchor="end"))
    for step in range(6):
        day = first + dt.timedelta(days=round(span * step / 5))
        parts.append(_text(x(day), top + plot_height + 16, day.isoformat(), anchor="middle"))
    for position, badge in enumerate(series):
        color = PALETTE[position % len(PALETTE)]
        every_day = (first + dt.timedelta(days=n) for n in range(span + 1))
        points = " ".join(
            f"{x(day):.1f},{y(badge.earns_by_day.get(day, 0)):.1f}" for day in every_day
        )
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.2" points="{points}"/>'
        )
        legend_x, legend_y = width - right + 12, top + 14 * position
        parts.append(_swatch(legend_x, legend_y, color))
        label = f"{_short(badge.label)} ({badge.total_earns:,})"
        parts.append(_text(legend_x + 14, legend_y + 9, label))
    return "".join(parts) + "</svg>"


def funnel_chart_svg(rows: list[FunnelRow], width: int = 880) -> str:
    """Per badge, three bars: customers it was available to, issued to, and who earned it."""
    label_width, top, bar, gap = 210, 46, 9, 10
    height = top + len(rows) * (bar * len(FUNNEL_STAGES) + gap) + 10
    parts = [_svg_open(width, height), _text(10, 18, "Badge funnel (customers)", bold=True)]
    for position, (stage, color) in enumerate(FUNNEL_STAGES):
        legend_x = label_width + 110 * position
        parts.append(_swatch(legend_x, 26, color))
        parts.append(_text(legend_x + 14, 35, stage))
    peak = max((max(r.available, r.issued, r.earned) for r in rows), default=0) or 1
    scale = (width - label_width - 60) / peak
    for position, row in enumerate(rows):
        row_top = top + position * (bar * len(FUNNEL_STAGES) + gap)
        parts.append(_text(label_width - 8, row_top + bar * 2, _short(row.label), anchor="end"))
        values = (row.available, row.issued, row.earned)
        for stage_index, ((_, color), value) in enumerate(zip(FUNNEL_STAGES, values, strict=True)):
            bar_top = row_top + stage_index * bar
            parts.append(
                f'<rect x="{label_width}" y="{bar_top}" width="{value * scale:.1f}" '
                f'height="{bar - 1}" fill="{color}"/>'
            )
            parts.append(_text(label_width + value * scale + 4, bar_top + bar - 1, f"{value:,}"))
    if not rows:
        parts.append(_text(label_width, top + 12, "no badges in this snapshot"))
    return "".join(parts) + "</svg>"


def render_html(report: EarnReport) -> str:
    """The whole report as one HTML page: both charts, then their numbers as tables."""
    title = f"Earn report {report.snapshot_date}"
    top_rows = [[s.label, f"{s.total_earns:,}"] for s in report.top_badges]
    funnel_rows = [
        [r.label, f"{r.available:,}", f"{r.issued:,}", f"{r.earned:,}", _rate(r.issue_to_earn_rate)]
        for r in report.funnel
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif}}"
        "td,th{padding:2px 10px;text-align:right}td:first-child{text-align:left}</style>"
        f"</head><body><h1>{title}</h1>\n{report.earns_svg}\n"
        + _html_table(["badge", "earns"], top_rows)
        + f"\n{report.funnel_svg}\n"
        + _html_table(["badge", "available", "issued", "earned", "issue to earn"], funnel_rows)
        + "\n</body></html>\n"
    )


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def write_earn_report(
    con: duckdb.DuckDBPyConnection, data_dir: Path, snapshot_date: dt.date
) -> EarnReport:
    """Builds the report from the connection's analytics models and writes it atomically."""
    top_badges, funnel = read_top_badge_series(con), read_funnel(con)
    report = EarnReport(
        snapshot_date,
        report_path(data_dir, snapshot_date),
        top_badges,
        funnel,
        earns_chart_svg(top_badges),
        funnel_chart_svg(funnel),
    )
    report.path.parent.mkdir(parents=True, exist_ok=True)
    partial = report.path.with_name(report.path.name + ".partial")
    partial.write_text(render_html(report), encoding="utf-8")
    os.replace(partial, report.path)
    return report


def _svg_open(width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="white"/>'
    )


def _axes(left: float, top: float, plot_width: float, plot_height: float) -> str:
    bottom = top + plot_height
    return f'<path d="M{left},{top} V{bottom} H{left + plot_width}" fill="none" stroke="#444"/>'


def _swatch(x: float, y: float, color: str) -> str:
    return f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/>'


def _text(x: float, y: float, content: str, anchor: str = "start", bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT}{weight}>'
        f"{html.escape(content)}</text>"
    )


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"


def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.0%}"


def _markdown_image(alt: str, svg: str) -> str:
    encoded = base64.b64encode(svg.encode()).decode()
    return f"![{alt}](data:image/svg+xml;base64,{encoded})"
