"""What the earn report shows, read from the models of schema `analytics` as pandas frames.

Every frame carries `badge`: the badge's name from the catalog, shortened for a chart
axis, or its id when no source names it.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

TOP_BADGES = 5
FUNNEL_BADGES = 10
TIME_TO_EARN_BADGES = 10
EXPIRING_BADGES = 10
EXPIRY_WINDOW_DAYS = 30
DAILY_MAX_DAYS = 56  # earns spanning fewer days are counted per day, longer spans per week
LABEL_CHARS = 32


def read_top_badges(con: duckdb.DuckDBPyConnection, limit: int = TOP_BADGES) -> pd.DataFrame:
    """The `limit` badges with the most earns (ties: badge id), named from the catalog."""
    top = con.execute(
        """
        SELECT e.badge_id, any_value(c.badge_name) AS badge_name,
               CAST(sum(e.earns) AS BIGINT) AS earns, min(e.day) AS first_day,
               max(e.day) AS last_day
        FROM analytics.earns_daily AS e
        LEFT JOIN analytics.badge_catalog AS c USING (badge_id)
        GROUP BY e.badge_id
        ORDER BY earns DESC, e.badge_id
        LIMIT ?
        """,
        [limit],
    ).df()
    return _with_label(top)


def read_earns_by_period(
    con: duckdb.DuckDBPyConnection, badge_ids: list[str]
) -> tuple[pd.DataFrame, str]:
    """Earns per period (rows) and badge (columns), zero-filled, and the period: week or day."""
    first, last = con.execute("SELECT min(day), max(day) FROM analytics.earns_daily").fetchone()
    if first is None or not badge_ids:
        return pd.DataFrame({"period": []}), "day"
    bucket = "day" if (last - first).days < DAILY_MAX_DAYS else "week"
    earns = con.execute(
        f"""
        SELECT CAST(date_trunc('{bucket}', day) AS DATE) AS period, badge_id, sum(earns) AS earns
        FROM analytics.earns_daily
        WHERE badge_id IN (SELECT unnest(?))
        GROUP BY ALL
        """,
        [badge_ids],
    ).df()
    step = pd.Timedelta(days=7 if bucket == "week" else 1)
    start = pd.Timestamp(first) - pd.Timedelta(days=first.weekday() if bucket == "week" else 0)
    periods = pd.date_range(start, pd.Timestamp(last), freq=step)
    earns["period"] = pd.to_datetime(earns["period"])
    table = earns.pivot_table(
        index="period", columns="badge_id", values="earns", aggfunc="sum", fill_value=0
    ).reindex(index=periods, columns=badge_ids, fill_value=0)
    table = table.fillna(0).astype("int64").rename_axis(index="period", columns=None)
    return table.reset_index(), bucket


def read_funnel(con: duckdb.DuckDBPyConnection, limit: int = FUNNEL_BADGES) -> pd.DataFrame:
    """The funnel of the `limit` badges most customers earned."""
    funnel = con.execute(
        """
        SELECT badge_id, badge_name, customers_reached, customers_available, customers_issued,
               customers_earned, customers_issued_and_earned, issue_to_earn_rate
        FROM analytics.badge_funnel
        ORDER BY customers_earned DESC, customers_reached DESC, badge_id
        LIMIT ?
        """,
        [limit],
    ).df()
    return _with_label(funnel)


def read_time_to_earn(
    con: duckdb.DuckDBPyConnection, limit: int = TIME_TO_EARN_BADGES
) -> tuple[pd.DataFrame, str]:
    """Median and p90 time to earn of the badges with most customers measured, and the unit."""
    times = con.execute(
        """
        SELECT badge_id, badge_name, customers_issued, customers_measured,
               median_hours_to_earn AS median, p90_hours_to_earn AS p90
        FROM analytics.time_to_earn
        WHERE customers_measured > 0
        ORDER BY customers_measured DESC, badge_id
        LIMIT ?
        """,
        [limit],
    ).df()
    unit = "days" if len(times) and times["p90"].max() >= 48 else "hours"
    if unit == "days":
        times[["median", "p90"]] = times[["median", "p90"]] / 24
    return _with_label(times), unit


def read_expiring(con: duckdb.DuckDBPyConnection, snapshot_date: dt.date) -> pd.DataFrame:
    """Active earns expiring per day of the window, every day present (zero when none)."""
    per_day = con.execute(
        """
        SELECT days_until_expiry, count(*) AS earns,
               count(DISTINCT (customer_id, identifier_type)) AS customers
        FROM analytics.expiring_badges
        GROUP BY days_until_expiry
        """
    ).df()
    window = pd.DataFrame({"days_until_expiry": range(EXPIRY_WINDOW_DAYS)})
    days = window.merge(per_day, on="days_until_expiry", how="left").fillna(0)
    days[["earns", "customers"]] = days[["earns", "customers"]].astype("int64")
    days["expires_on"] = [
        snapshot_date + dt.timedelta(days=int(n)) for n in days["days_until_expiry"]
    ]
    return days


def read_expiring_by_badge(
    con: duckdb.DuckDBPyConnection, limit: int = EXPIRING_BADGES
) -> pd.DataFrame:
    """The badges with the most active earns expiring in the window."""
    by_badge = con.execute(
        """
        SELECT badge_id, any_value(badge_name) AS badge_name, count(*) AS earns,
               count(DISTINCT (customer_id, identifier_type)) AS customers,
               min(days_until_expiry) AS soonest_days
        FROM analytics.expiring_badges
        GROUP BY badge_id
        ORDER BY earns DESC, badge_id
        LIMIT ?
        """,
        [limit],
    ).df()
    return _with_label(by_badge)


def _with_label(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `badge`: the badge's name, shortened, or its id when no source names it."""
    names = frame["badge_name"].where(frame["badge_name"].notna(), frame["badge_id"])
    frame["badge"] = [_short(str(name)) for name in names]
    return frame


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"
