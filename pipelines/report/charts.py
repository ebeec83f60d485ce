"""The earn report's charts, drawn with matplotlib into PNG bytes.

Only the object-oriented `Figure` API is used (never pyplot), so no GUI backend is
loaded and nothing needs a display: `Figure.savefig` renders through Agg.

Why matplotlib: each candidate was installed into a fresh venv that already held the
project's dependencies; "adds" is what the library and the packages it pulls in take on
disk, "offline" is what its output needs when the page is opened with no network.

| library                 | adds   | output opened offline                                 |
|-------------------------|--------|-------------------------------------------------------|
| matplotlib 3.11         | 75 MB  | PNG/SVG files, no script; fonts ship with it          |
| plotly 7.1              | 46 MB  | HTML pulls plotly.js from a CDN; offline only by      |
|                         |        | inlining 4.8 MB of script; PNG needs kaleido + Chrome |
| bokeh 3.9               | 55 MB  | HTML pulls BokehJS from a CDN; inline mode embeds     |
|                         |        | 1.2 MB of script; PNG needs selenium + a browser      |
| pygal 3.1               | 0.9 MB | SVG loading its tooltip script from a CDN (js=[]      |
|                         |        | drops it, an inline config script stays); PNG needs   |
|                         |        | cairosvg + the system's libcairo (+21 MB)             |
| altair 6.3 + vl-convert | 91 MB  | HTML pulls vega from a CDN; PNG/SVG offline through   |
|                         |        | vl-convert's embedded engine                          |

matplotlib is the only one whose plain output is a static image with no script, no
network and no system library, usable as is both in the HTML page and in the Dagster
UI's Markdown. Its 75 MB are mostly fontTools and Pillow.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

DPI = 110
WIDTH_INCHES = 9.0
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
FUNNEL_STAGES = (
    ("customers_reached", "reached", "#bdd7e7"),
    ("customers_issued", "issued to", "#6baed6"),
    ("customers_earned", "earned by", "#08519c"),
)
STYLE = {
    "text.parse_math": False,  # badge names may hold "$"; they are text, not formulas
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "axes.axisbelow": True,
    "figure.facecolor": "white",
}


def earns_over_time_png(earns: pd.DataFrame, top: pd.DataFrame, bucket: str) -> bytes:
    """One panel per top badge, bars of earns per `bucket` ("week" or "day"), shared axes.

    `earns` has one row per period (`period`, a date) and one column per badge id of `top`
    (`badge_id`, `badge`, `earns`), zero where the badge had no earn.
    """
    with _style():
        height = 0.95 * len(top) + 1.3
        figure = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
        axes = figure.subplots(len(top), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
        width = dt.timedelta(days=6 if bucket == "week" else 0.8)
        periods = pd.to_datetime(earns["period"])
        for position, (ax, badge) in enumerate(zip(axes, top.itertuples(), strict=True)):
            color = PALETTE[position % len(PALETTE)]
            ax.bar(periods, earns[badge.badge_id], width=width, align="edge", color=color)
            ax.set_title(f"{badge.badge}: {badge.earns:,} earns", loc="left", fontsize=9)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
            ax.grid(axis="x", visible=False)
        locator = AutoDateLocator(minticks=4, maxticks=12)
        axes[-1].xaxis.set_major_locator(locator)
        axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
        figure.suptitle(f"Earns per {bucket}, top {len(top)} badges by earns", fontweight="bold")
        figure.supylabel(f"earns per {bucket}")
        start = "week starting Monday" if bucket == "week" else "day"
        figure.supxlabel(f"{start} (UTC)")
        return _png(figure)


def funnel_png(funnel: pd.DataFrame) -> bytes:
    """Per badge, customers it reached, was issued to and earned by (`badge` + counts)."""
    with _style():
        figure = Figure(figsize=(WIDTH_INCHES, 0.55 * len(funnel) + 1.4), layout="constrained")
        ax = figure.subplots()
        bar = 0.27
        for stage, (column, label, color) in enumerate(FUNNEL_STAGES):
            positions = [row + (stage - 1) * bar for row in range(len(funnel))]
            bars = ax.barh(positions, funnel[column], height=bar, color=color, label=label)
            ax.bar_label(bars, fmt="{:,.0f}", padding=2, fontsize=7)
        _badge_axis(ax, funnel["badge"])
        ax.set_xlabel("customers")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", visible=False)
        figure.legend(loc="outside lower center", frameon=False, ncols=3)
        figure.suptitle(
            f"Badge funnel: customers per stage, top {len(funnel)} badges by customers earned",
            fontweight="bold",
        )
        return _png(figure)


def time_to_earn_png(times: pd.DataFrame, unit: str) -> bytes:
    """Median and 90th percentile time to earn per badge (`badge`, `median`, `p90` in `unit`)."""
    with _style():
        figure = Figure(figsize=(WIDTH_INCHES, 0.42 * len(times) + 1.4), layout="constrained")
        ax = figure.subplots()
        rows = range(len(times))
        p90 = ax.barh(rows, times["p90"], height=0.7, color="#c6dbef", label="90th percentile")
        ax.barh(rows, times["median"], height=0.38, color="#08519c", label="median")
        labels = [
            f"{m:,.1f} / {p:,.1f}" for m, p in zip(times["median"], times["p90"], strict=True)
        ]
        ax.bar_label(p90, labels=labels, padding=3, fontsize=7)
        _badge_axis(ax, times["badge"])
        ax.set_xlabel(f"{unit} from a customer's first issual to their first earn after it")
        ax.grid(axis="y", visible=False)
        figure.legend(loc="outside lower center", frameon=False, ncols=2)
        figure.suptitle(
            f"Time to earn (median / 90th percentile, {unit}), "
            f"{len(times)} badges with the most customers measured",
            fontweight="bold",
        )
        return _png(figure)


def expiring_png(expiring: pd.DataFrame, snapshot_date: dt.date) -> bytes:
    """Active earns expiring per day (`expires_on`, `earns`) in the 30 days from the snapshot."""
    with _style():
        figure = Figure(figsize=(WIDTH_INCHES, 3.2), layout="constrained")
        ax = figure.subplots()
        positions = range(len(expiring))
        bars = ax.bar(positions, expiring["earns"], width=0.8, color=PALETTE[5])
        labels = [f"{n:,}" if n else "" for n in expiring["earns"]]
        ax.bar_label(bars, labels=labels, padding=1, fontsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ticks = positions[::3]
        ax.set_xticks(ticks, [expiring["expires_on"].iloc[n].strftime("%b %d") for n in ticks])
        ax.set_xlim(-0.6, len(expiring) - 0.4)
        ax.grid(axis="x", visible=False)
        ax.set_xlabel("expiry date (UTC)")
        ax.set_ylabel("active earns expiring that day")
        ax.set_title(
            f"Active earns expiring in the 30 days from {snapshot_date.isoformat()}",
            fontweight="bold",
        )
        return _png(figure)


def _badge_axis(ax: Axes, labels: pd.Series) -> None:
    """Badge names on the y axis, first row at the top."""
    ax.set_yticks(range(len(labels)), list(labels))
    ax.invert_yaxis()
    ax.margins(x=0.08)


@contextmanager
def _style() -> Iterator[None]:
    with mpl.rc_context(STYLE):
        yield


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" entry: the bytes depend on the data only, not on the library version.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
