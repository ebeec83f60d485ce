"""Pure flatteners: one parsed API response -> rows of the contract tables.

Each returns `{table name: [row, ...]}` with the column names of `pipelines.lake.tables`,
`snapshot_date` filled in, timestamps as int microseconds UTC and `extra` as JSON
text (or None) holding every source key no column maps. An issual or earn without its id
is keyed on what it carries (`key_derived`); an item no row can be keyed on (a list entry
that is not an object or has no badge id, an issual or earn that carries nothing) is a
row of `extract_errors` naming it instead. No I/O happens here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from pipelines.client.endpoints import DETAIL_ENDPOINT, LIST_ENDPOINT
from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import (
    BADGE_CLAIMS,
    BADGE_CONSTRAINTS,
    BADGE_CUSTOM_FIELDS,
    BADGE_EARNS,
    BADGE_ISSUALS,
    BADGE_OWNERS,
    BADGES,
    CUSTOMER_BADGE_CONSTRAINTS,
    CUSTOMER_BADGE_DETAILS,
    CUSTOMER_BADGES,
    EXTRACT_ERRORS,
    Table,
)
from pipelines.normalize.constraints import constraint_arrays, constraint_rows
from pipelines.normalize.fields import Field
from pipelines.normalize.mappings import (
    BADGE_FIELDS,
    CLAIM_FIELDS,
    CUSTOMER_BADGE_FIELDS,
    DETAIL_FIELDS,
    EARN_COUNT,
    EARN_EXPIRY_FIELDS,
    EARN_FIELDS,
    EARNED_EXPIRY_FIELDS,
    ISSUAL_FIELDS,
    ISSUE_EXPIRY_FIELDS,
    ISSUED_COUNT,
    ISSUED_EXPIRY_FIELDS,
)
from pipelines.normalize.reader import ObjectReader, flat_row, json_text, new_row, sample_of

Rows = dict[str, list[dict[str, Any]]]
UNKEYED = "unkeyed"  # error_code of an answer, or an item of one, without the id of its rows


def flatten_badge_meta(
    data: dict[str, Any],
    snapshot_date: dt.date,
    warnings: Counter[str],
    badge_id: str | None = None,
) -> Rows:
    """A badge meta `data` object -> badges, badge_owners, badge_claims, custom fields, constraints.

    `badge_id` (the requested id) is used only when the object carries no id of its own.
    """
    reader = ObjectReader(data, BADGES.name, warnings)
    badge = new_row(BADGES, snapshot_date=snapshot_date)
    reader.fill(badge, BADGE_FIELDS)
    badge["badge_id"] = badge["badge_id"] or badge_id
    reader.child("earnedBadgeExpiry", "earnExpiry").fill(badge, EARNED_EXPIRY_FIELDS)
    reader.child("issuedBadgeExpiry", "issueExpiry").fill(badge, ISSUED_EXPIRY_FIELDS)
    keys = {"snapshot_date": snapshot_date, "badge_id": badge["badge_id"]}
    ownership = reader.child("ownership")
    owners = [
        new_row(BADGE_OWNERS, **keys, owner_type=owner)
        for owner in ownership.strings("restrictedToOwners")
    ]
    claims = _flat_rows(BADGE_CLAIMS, CLAIM_FIELDS, ownership.objects("claims"), keys, warnings)
    custom_fields = [
        new_row(BADGE_CUSTOM_FIELDS, **keys, field_name=name, field_value=_field_value(value))
        for name, value in reader.mapping("customFields").items()
    ]
    reader.use(*constraint_arrays(data))
    badge["extra"] = reader.extra_json()
    return {
        BADGES.name: [badge],
        BADGE_OWNERS.name: owners,
        BADGE_CLAIMS.name: claims,
        BADGE_CUSTOM_FIELDS.name: custom_fields,
        BADGE_CONSTRAINTS.name: constraint_rows(data, BADGE_CONSTRAINTS, keys, warnings),
    }


def _field_value(value: Any) -> str | None:
    """Custom field values are strings; anything else is kept as its JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json_text(value)


def flatten_customer_badge_list(
    badges: list[dict[str, Any]],
    customer_id: str | None,
    identifier_type: str | None,
    list_type: str | None,
    first_position: int | None,
    snapshot_date: dt.date,
    warnings: Counter[str],
    fetched_on: dt.date | None = None,
) -> Rows:
    """A page of a customer's badge list -> customer_badges (position: first_position + index).

    `fetched_on` (default: the snapshot date) is the night the list was fetched."""
    keys = {
        "snapshot_date": snapshot_date,
        "fetched_on": fetched_on or snapshot_date,
        "customer_id": customer_id,
        "identifier_type": identifier_type,
        "list_type": list_type,
    }
    template = new_row(CUSTOMER_BADGES, **keys, list_position=None)
    rows, errors = [], []
    for index, item in enumerate(badges):
        position = None if first_position is None else first_position + index
        where = f"data.badges[{index}]" + ("" if position is None else f" (position {position})")
        if not isinstance(item, dict):
            warnings[f"{CUSTOMER_BADGES.name}: list item not an object"] += 1
            problem = f"{where} is not an object"
            errors.append(unkeyed_error(LIST_ENDPOINT.name, keys, problem, item))
            continue
        row = template.copy()
        row["list_position"] = position
        flat_row(item, CUSTOMER_BADGE_FIELDS, CUSTOMER_BADGES.name, row, warnings)
        if row["badge_id"] is None:
            warnings[f"{CUSTOMER_BADGES.name}.badge_id: missing"] += 1
            errors.append(unkeyed_error(LIST_ENDPOINT.name, keys, f"{where} has no badge id", item))
            continue
        rows.append(row)
    return {CUSTOMER_BADGES.name: rows, **({EXTRACT_ERRORS.name: errors} if errors else {})}


def unkeyed_error(endpoint: str, keys: dict[str, Any], problem: str, item: Any) -> dict[str, Any]:
    """An extract_errors row naming an item no row can be keyed on (`keys`: the answer's)."""
    names = ("snapshot_date", "customer_id", "identifier_type", "badge_id", "list_type")
    return new_row(
        EXTRACT_ERRORS,
        **{name: keys[name] for name in names if name in keys},
        endpoint=endpoint,
        error_code=UNKEYED,
        message=f"{problem}: {sample_of(item)}",
    )


def flatten_customer_badge_detail(
    data: dict[str, Any],
    customer_id: str | None,
    identifier_type: str | None,
    badge_id: str | None,
    snapshot_date: dt.date,
    warnings: Counter[str],
    fetched_on: dt.date | None = None,
) -> Rows:
    """A customer-badge detail `data` object -> details, customer constraints, issuals, earns.

    `fetched_on` (default: the snapshot date) is the night the detail was fetched."""
    own_id = data.get("id")
    own_id_used = own_id is None or own_id == badge_id or badge_id is None
    if own_id_used:
        badge_id = badge_id or (own_id if isinstance(own_id, str) else None)
    keys = {
        "snapshot_date": snapshot_date,
        "fetched_on": fetched_on or snapshot_date,
        "customer_id": customer_id,
        "identifier_type": identifier_type,
        "badge_id": badge_id,
    }
    detail = new_row(CUSTOMER_BADGE_DETAILS, **keys)
    keyed = {**keys, "key_derived": False}
    issual_objects, earn_objects = _read_detail(data, detail, own_id_used, warnings)
    issuals = _flat_rows(BADGE_ISSUALS, ISSUAL_FIELDS, issual_objects, keyed, warnings)
    earns = _flat_rows(BADGE_EARNS, EARN_FIELDS, earn_objects, keyed, warnings)
    errors = [
        *_unkeyed_items(BADGE_ISSUALS, issuals, issual_objects, keys, warnings),
        *_unkeyed_items(BADGE_EARNS, earns, earn_objects, keys, warnings),
    ]
    return {
        CUSTOMER_BADGE_DETAILS.name: [detail],
        CUSTOMER_BADGE_CONSTRAINTS.name: constraint_rows(
            data, CUSTOMER_BADGE_CONSTRAINTS, keys, warnings
        ),
        BADGE_ISSUALS.name: issuals,
        BADGE_EARNS.name: earns,
        **({EXTRACT_ERRORS.name: errors} if errors else {}),
    }


_ITEMS = {BADGE_ISSUALS.name: "issualDetails.issuals", BADGE_EARNS.name: "earnDetails.earns"}
# The instants a derived key is made of, the first one the object gave.
_WHEN = {
    BADGE_ISSUALS.name: ("issued_at", "issue_event_at"),
    BADGE_EARNS.name: ("earned_at", "earn_event_at"),
}


def _unkeyed_items(
    table: Table,
    rows: list[dict[str, Any]],
    objects: list[dict[str, Any]],
    keys: dict[str, Any],
    warnings: Counter[str],
) -> list[dict[str, Any]]:
    """Keys the rows without their id (the table's key) on what they carry: customer,
    badge, instant and position (`key_derived`). An object that carries nothing (no
    non-null value) is taken out of `rows`: an extract_errors row each, naming it."""
    (column,) = table.key
    if all(row[column] is not None for row in rows):
        return []
    empty = []
    for index, row in enumerate(rows):
        if row[column] is not None:
            continue
        if any(value is not None for value in objects[index].values()):
            row[column] = _derived_key(table, row, index)
            row["key_derived"] = True
            warnings[f"{table.name}.{column}: derived"] += 1
        else:
            empty.append(index)
    if not empty:
        return []
    rows[:] = [row for row in rows if row[column] is not None]
    warnings[f"{table.name}.{column}: missing"] += len(empty)
    where = f"data.{_ITEMS[table.name]}"
    return [
        unkeyed_error(DETAIL_ENDPOINT.name, keys, f"{where}[{i}] carries nothing", objects[i])
        for i in empty
    ]


def _derived_key(table: Table, row: dict[str, Any], position: int) -> str:
    when = next((row[c] for c in _WHEN[table.name] if row[c] is not None), None)
    instant = "" if when is None else str(when)
    return f"~{row['customer_id']}:{row['badge_id']}:{instant}:{position}"


def _read_detail(
    data: dict[str, Any], detail: dict[str, Any], own_id_used: bool, warnings: Counter[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fills `detail` (its key columns set) from `data`; returns the issual and earn objects."""
    reader = ObjectReader(data, CUSTOMER_BADGE_DETAILS.name, warnings)
    if own_id_used:
        reader.use("id")
    reader.fill(detail, DETAIL_FIELDS)
    reader.child("earnExpiry", "earnedBadgeExpiry").fill(detail, EARN_EXPIRY_FIELDS)
    reader.child("issueExpiry", "issuedBadgeExpiry").fill(detail, ISSUE_EXPIRY_FIELDS)
    issual_details = reader.child("issualDetails")
    detail["issued_count"] = issual_details.read(ISSUED_COUNT)
    earn_details = reader.child("earnDetails")
    detail["earn_count"] = earn_details.read(EARN_COUNT)
    issual_objects = issual_details.objects("issuals")
    earn_objects = earn_details.objects("earns")
    reader.use(*constraint_arrays(data))
    detail["extra"] = reader.extra_json()
    return issual_objects, earn_objects


def _flat_rows(
    table: Table,
    fields: tuple[Field, ...],
    objects: list[dict[str, Any]],
    keys: dict[str, Any],
    warnings: Counter[str],
) -> list[dict[str, Any]]:
    """One row of `table` per object: the key columns, the fields and extra."""
    if not objects:
        return []
    template = new_row(table, **keys)
    return [flat_row(item, fields, table.name, template.copy(), warnings) for item in objects]


def flatten_error(
    record: RawRecord,
    snapshot_date: dt.date,
    error_code: str | None = None,
    message: str | None = None,
) -> Rows:
    """A failed call (or an unusable body, with `error_code`/`message` given) -> extract_errors."""
    row = new_row(
        EXTRACT_ERRORS,
        snapshot_date=snapshot_date,
        endpoint=record.endpoint,
        customer_id=record.customer_id,
        identifier_type=record.identifier_type,
        badge_id=record.badge_id,
        list_type=record.list_type,
        http_status=record.http_status,
        error_code=error_code or record.error_code,
        message=message or record.error_message,
        attempts=record.attempts,
    )
    return {EXTRACT_ERRORS.name: [row]}
