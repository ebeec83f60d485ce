"""Incremental nights: a rerun fetches details only for what changed, and loses nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import httpx
import pyarrow.parquet as pq

from pipelines.client.auth import basic_auth_header
from pipelines.client.endpoints import BADGE_DESCRIPTION_KEYS
from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.sandbox import SandboxApiError
from tests.e2e.conftest import Pipeline, today

DETAIL = "customer_badge_detail"


def fetched_pairs(lake: Lake) -> set[tuple[str, str, str]]:
    """Pairs whose detail was called in the archived run (not copied from the last one)."""
    table = pq.read_table(
        lake.raw_dir(today()),
        columns=["endpoint", "ok", "customer_id", "identifier_type", "badge_id", "reused_from"],
    )
    return {
        (r["customer_id"], r["identifier_type"], r["badge_id"])
        for r in table.to_pylist()
        if r["endpoint"] == DETAIL and r["ok"] and r["reused_from"] is None
    }


DESCRIBING = ", ".join(f'"{key}": null' for key in sorted(BADGE_DESCRIPTION_KEYS))


def changed_pairs(before: Path, after: Path) -> set[tuple[str, str, str]]:
    """Pairs whose list rows differ, plus every pair of a badge whose definition changed.
    Neither counts what only describes the badge (its name, description, rank, ...) nor
    its statistics, moved by other customers' activity."""
    entry = "customer_id, identifier_type, badge_id, list_type, earned_count, last_earned_at, "
    entry += "is_active, CAST(json_merge_patch(extra, '{" + DESCRIBING + "}') AS VARCHAR)"
    definition = "badge_id, earn_type, status, is_active, starts_at, expires_at, "
    definition += ", ".join(c.name for c in TABLES["badges"].columns if "_exp" in c.name)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{before}' AS before (READ_ONLY)")
        con.execute(f"ATTACH '{after}' AS after (READ_ONLY)")
        pairs = con.execute(
            f"""SELECT DISTINCT customer_id, identifier_type, badge_id FROM (
                  SELECT {entry} FROM after.main.customer_badges
                  EXCEPT SELECT {entry} FROM before.main.customer_badges)
                UNION
                SELECT DISTINCT customer_id, identifier_type, badge_id
                FROM after.main.customer_badges
                WHERE badge_id IN (SELECT badge_id FROM (
                  SELECT {definition} FROM after.main.badges
                  EXCEPT SELECT {definition} FROM before.main.badges))"""
        ).fetchall()
    return set(pairs)


def standing_for_their_badge(pairs: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """The first pair of each badge: fetched when no other pair of the badge is due (and
    it is still listed)."""
    first: dict[str, tuple[str, str, str]] = {}
    for pair in sorted(pairs):
        first.setdefault(pair[2], pair)
    return set(first.values())


def put_badge(pipeline: Pipeline, body: dict) -> None:
    response = httpx.put(
        f"{pipeline.server.base_url}/api_gateway/v1/badges/badgeMeta",
        json=body,
        headers=basic_auth_header(pipeline.credentials.username, pipeline.credentials.password),
    )
    assert response.status_code == 200, response.text


def change_the_org(pipeline: Pipeline, night: int = 0) -> list[str]:
    """Adds an earn, revokes an issual and updates a badge through PUT badgeMeta (a
    different badge and description on each `night`)."""
    org = pipeline.org
    by_id = {c.customer_id for c in org.customers}
    pairs = sorted(p for p in org.listed_pairs() if p[0] in by_id)
    changes = []
    for customer_id, badge_id in pairs:
        try:
            org.add_earn(customer_id, badge_id)
        except SandboxApiError:
            continue
        changes.append(f"earn {customer_id}/{badge_id}")
        break
    revocable = [p for p in reversed(pairs) if any(i.status == "ACTIVE" for i in org.issuals(*p))]
    org.revoke_issual(*revocable[0])
    changes.append(f"revoke {revocable[0]}")
    listed = sorted(org.listed_badge_ids())
    badge_id = listed[(3 + night) % len(listed)]
    put_badge(pipeline, {"id": badge_id, "description": f"Changed between two nights ({night})"})
    changes.append(f"update {badge_id}")
    return changes


def table_rows(path: Path, table: str) -> list[tuple]:
    columns = ", ".join(
        f"CAST({c.name} AS VARCHAR)" if c.json else c.name for c in TABLES[table].columns
    )
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(con.execute(f"SELECT {columns} FROM main.{table}").fetchall(), key=repr)


def test_second_night_fetches_only_changed_details_and_equals_a_full_refresh(
    tmp_path: Path, pipeline: Pipeline
):
    first = pipeline.run()
    assert first.success
    before = tmp_path / "before.duckdb"
    shutil.copy(pipeline.lake.warehouse_path, before)
    all_pairs = fetched_pairs(pipeline.lake)

    changes = change_the_org(pipeline)
    second = pipeline.run()
    assert second.success
    metadata = second.asset_materializations_for_node("raw_api_responses")[0].metadata
    calls = metadata["calls"].value

    changed = changed_pairs(before, pipeline.lake.warehouse_path)
    assert changed, changes
    listed = set(
        pipeline.query("SELECT customer_id, identifier_type, badge_id FROM customer_badges")
    )
    expected = changed | (standing_for_their_badge(all_pairs) & listed)
    fetched = fetched_pairs(pipeline.lake)
    assert fetched == expected
    described = {pair for pair in listed if f"update {pair[2]}" in changes}
    assert len(described - fetched) > 1  # a new description refetches none of its pairs
    assert calls[DETAIL] == len(expected) < len(all_pairs) / 2
    assert calls["customer_badges"] >= len(pipeline.org.customers) * 4  # lists always fetched
    details = pipeline.row_counts()["customer_badge_details"]
    assert metadata["details_reused"].value == details - len(fetched)

    # a fresh data directory has nothing to reuse: every detail is fetched
    full = Pipeline(
        pipeline.server, pipeline.credentials, pipeline.customers_csv, Lake(tmp_path / "full")
    )
    assert full.run().success
    assert len(fetched_pairs(full.lake)) == details
    for table in TABLES:
        assert table_rows(pipeline.lake.warehouse_path, table) == table_rows(
            full.lake.warehouse_path, table
        ), table


def test_a_changed_definition_refetches_every_pair_of_its_badge(pipeline: Pipeline):
    """An earn expiry changed through PUT badgeMeta shows in no list entry, only in the
    badge's meta: each of its pairs is fetched again, and the rest reused."""
    assert pipeline.run().success
    badge_id = sorted(pipeline.org.listed_badge_ids())[5]
    never = pipeline.org.badges[badge_id].earned_expiry.expiry_type == "NEVER"
    expiry = {"expiryType": "RELATIVE", "relativeExpirytype": "WEEKS", "value": 3}
    put_badge(
        pipeline,
        {"id": badge_id, "earnedBadgeExpiry": expiry if never else {"expiryType": "NEVER"}},
    )

    assert pipeline.run().success
    fetched = fetched_pairs(pipeline.lake)
    its_pairs = set(
        pipeline.query(
            "SELECT DISTINCT customer_id, identifier_type, badge_id FROM customer_badges "
            f"WHERE badge_id = '{badge_id}'"
        )
    )
    assert len(its_pairs) > 1
    assert its_pairs <= fetched
    assert {pair[2] for pair in fetched - its_pairs} < set(pipeline.org.listed_badge_ids())
    expiry_types = pipeline.query(
        "SELECT DISTINCT earn_expiry_type FROM customer_badge_details "
        f"WHERE badge_id = '{badge_id}'"
    )
    assert expiry_types == [("RELATIVE",) if never else ("NEVER",)]
