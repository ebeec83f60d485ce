"""The warehouse contract: every table the normalizer writes and the loader loads.

One `Table` per contract table of schema `main`, with its grain, natural key and typed
columns. The normalizer builds Arrow tables from these schemas, the loader derives
DuckDB DDL from them, and the warehouse docs (`docs/warehouse.md`) and dbt's sources are
generated from them, so a column is declared exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    json: bool = False  # stored as JSON text in Parquet, typed JSON in DuckDB


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # Key columns a row is not keyed without (a constraint of an unknown type has no kind):
    # rows null in one are left out of the unique-key check. Other key parts may be null.
    keyed_by: tuple[str, ...] = ()
    unique: bool = True  # False: several rows may share the key (problems of one call)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @property
    def file_schema(self) -> pa.Schema:
        """The schema of the table's lake files: `snapshot_date` is kept as the text of its
        Hive path (`snapshot_date=YYYY-MM-DD/`), so engines that merge the path into the
        rows (pyarrow datasets, polars, DuckDB) read the partitions with their defaults."""
        return pa.schema(
            [
                pa.field(c.name, pa.string() if c.name == SNAPSHOT.name else c.type)
                for c in self.columns
            ]
        )


def _c(name: str, type_: pa.DataType, description: str) -> Column:
    return Column(name, type_, description)


S, I64, B, D = pa.string(), pa.int64(), pa.bool_(), pa.date32()

SNAPSHOT = _c("snapshot_date", D, "Day (UTC) of the nightly snapshot the row belongs to.")
EXTRA = Column("extra", S, "Every key of the source object that no column maps, as JSON.", True)
CUSTOMER = (
    _c("customer_id", S, "Customer identifier as sent to the API."),
    _c("identifier_type", S, "What customer_id is: id, email, mobile, externalId, cardNumber."),
)
BADGE_ID = _c("badge_id", S, "Badge meta id (24 hex characters).")
LIST_FETCHED_ON = _c(
    "fetched_on",
    D,
    "Night (UTC) the customer's lists were last fetched; before snapshot_date when the row "
    "was carried forward from an earlier snapshot (rotation over several nights).",
)
DETAIL_FETCHED_ON = _c(
    "fetched_on",
    D,
    "Night (UTC) the customer-badge detail was last fetched from the API; before "
    "snapshot_date when it was reused or carried forward unchanged.",
)


def _derived(key: str, what: str, when: str) -> Column:
    return _c(
        "key_derived",
        B,
        f"True when the {what} came without its id: {key} is then derived from what it "
        f"carries, `~<customer_id>:<badge_id>:<{when} or its event time, in microseconds>:"
        "<position in the list>`.",
    )


def _expiry(prefix: str, what: str) -> tuple[Column, ...]:
    return (
        _c(f"{prefix}_expiry_type", S, f"{what} expiry: RELATIVE, ABSOLUTE or NEVER."),
        _c(f"{prefix}_expiry_unit", S, f"{what} relative expiry unit: DAYS, WEEKS, MONTHS."),
        _c(f"{prefix}_expiry_value", I64, f"{what} relative expiry length in units."),
        _c(f"{prefix}_expiry_mode", S, f"{what} absolute expiry: FIXED_DATE or WITH_BADGE_META."),
        _c(f"{prefix}_expires_at", TIMESTAMP, f"{what} absolute expiry instant."),
    )


CONSTRAINT_COLUMNS = (
    _c("constraint_level", S, "CUSTOMER or BADGE: the array the constraint came from."),
    _c(
        "constraint_kind",
        S,
        "FIXED_VALUE, FIXED_WINDOW, ROLLING_WINDOW or NO_LIMIT; null for an unknown "
        "constraintType (such rows are not keyed).",
    ),
    _c("window_unit", S, "DAYS, WEEKS or MONTHS; null for FIXED_VALUE and NO_LIMIT."),
    _c("window_length", I64, "Window length in window_unit; null when not windowed."),
    _c("max_earn_limit", I64, "Most earns allowed in the window (or overall)."),
    _c("raw_constraint_type", S, "constraintType exactly as the API sent it."),
    _c("reference_id", S, "Fixed-window reference id (referenceId / fixedWindowReferenceId)."),
    _c("cycle_status", S, "Status of the fixed window's cycle: ACTIVE, UPCOMING, ..."),
    _c("cycle_start_at", TIMESTAMP, "Start of the current fixed-window cycle."),
    _c("cycle_end_at", TIMESTAMP, "End of the current fixed-window cycle."),
    _c("starts_at", TIMESTAMP, "Start of the constraint's validity (startDate)."),
    _c("ends_at", TIMESTAMP, "End of the constraint's validity (endDate)."),
    _c("start_day_of_week", S, "Day a weekly fixed window starts on."),
)

BADGES = Table(
    "badges",
    "badge",
    ("badge_id",),
    (
        SNAPSHOT,
        BADGE_ID,
        _c("badge_numeric_id", I64, "Numeric badge id used as a promotion sourceId."),
        _c("org_id", I64, "Organization id."),
        _c("name", S, "Badge name (unique, case sensitive)."),
        _c("description", S, "Badge description."),
        _c("earn_type", S, "EARN or ISSUE_EARN (earnType)."),
        _c("status", S, "LIVE, UPCOMING, EXPIRED or ENDED."),
        _c("is_active", B, "Whether the badge meta is active."),
        _c("starts_at", TIMESTAMP, "When the badge goes live."),
        _c("expires_at", TIMESTAMP, "When the badge ends."),
        _c("badge_group_id", S, "Group the badge belongs to."),
        _c("badge_rank", I64, "Rank within its group."),
        _c("issued_count", I64, "Times issued, when the API reports it."),
        _c("earned_count", I64, "Times earned, when the API reports it."),
        _c("created_at", TIMESTAMP, "When the badge was created."),
        _c("created_by", I64, "User who created the badge."),
        _c("updated_at", TIMESTAMP, "When the badge meta was last updated."),
        _c("updated_by", I64, "User who last updated the badge."),
        *_expiry("earned", "Earned badge"),
        *_expiry("issued", "Issued badge"),
        EXTRA,
    ),
)

BADGE_OWNERS = Table(
    "badge_owners",
    "badge x allowed owner",
    ("badge_id", "owner_type"),
    (SNAPSHOT, BADGE_ID, _c("owner_type", S, "Owner category allowed to claim the badge.")),
)

BADGE_CLAIMS = Table(
    "badge_claims",
    "badge x claim",
    ("badge_id", "owner_type", "reference_id"),
    (
        SNAPSHOT,
        BADGE_ID,
        _c("owner_type", S, "Owner that claimed the badge."),
        _c("reference_id", S, "The claiming owner's reference (program, promotion...)."),
        _c("is_active", B, "Whether the claim is active."),
        EXTRA,
    ),
)

BADGE_CUSTOM_FIELDS = Table(
    "badge_custom_fields",
    "badge x custom field",
    ("badge_id", "field_name"),
    (
        SNAPSHOT,
        BADGE_ID,
        _c("field_name", S, "Custom field name."),
        _c("field_value", S, "Custom field value, as the string the API sent."),
    ),
)

BADGE_CONSTRAINTS = Table(
    "badge_constraints",
    "badge x constraint window",
    ("badge_id", "constraint_level", "constraint_kind", "window_unit", "window_length"),
    (SNAPSHOT, BADGE_ID, *CONSTRAINT_COLUMNS, EXTRA),
    keyed_by=("badge_id", "constraint_kind"),
)

CUSTOMER_BADGES = Table(
    "customer_badges",
    "customer x badge x list",
    ("customer_id", "identifier_type", "badge_id", "list_type"),
    (
        SNAPSHOT,
        LIST_FETCHED_ON,
        *CUSTOMER,
        BADGE_ID,
        _c("list_type", S, "AVAILABLE_TO_ISSUE, AVAILABLE, EARNED or EXPIRED."),
        _c("list_position", I64, "0-based position in the list across pages."),
        _c("badge_name", S, "Badge name as listed."),
        _c("org_id", I64, "Organization id."),
        _c("earn_type", S, "EARN or ISSUE_EARN."),
        _c("earned_count", I64, "Times the customer earned the badge."),
        _c("last_earned_at", TIMESTAMP, "When the customer last earned the badge."),
        _c("last_earn_event_at", TIMESTAMP, "When the event behind the last earn happened."),
        _c("starts_at", TIMESTAMP, "When the badge goes live."),
        _c("expires_at", TIMESTAMP, "When the badge ends."),
        _c("badge_group_id", S, "Group the badge belongs to."),
        _c("badge_group_name", S, "Name of that group."),
        _c("badge_rank", I64, "Rank within its group."),
        _c("is_active", B, "Whether the badge meta is active."),
        EXTRA,
    ),
)

CUSTOMER_BADGE_DETAILS = Table(
    "customer_badge_details",
    "customer x badge",
    ("customer_id", "identifier_type", "badge_id"),
    (
        SNAPSHOT,
        DETAIL_FETCHED_ON,
        *CUSTOMER,
        BADGE_ID,
        _c("badge_name", S, "Badge name."),
        _c("badge_type", S, "EARN or ISSUE_EARN (badgeType)."),
        _c("action", S, "ACTIVATED or DE_ACTIVATED."),
        _c("badge_status", S, "LIVE, UPCOMING or EXPIRED (badgeStatus)."),
        _c("starts_at", TIMESTAMP, "When the badge goes live (startsOn)."),
        _c("expires_at", TIMESTAMP, "When the badge ends."),
        _c("created_at", TIMESTAMP, "When the badge was created."),
        _c("updated_at", TIMESTAMP, "When the badge was last updated."),
        _c("issued_status", S, "Status of the customer's latest issual."),
        _c("issued_count", I64, "Issuals reported for the customer."),
        _c("earn_count", I64, "Earns reported for the customer."),
        _c("active_earned_count", I64, "Earns currently active."),
        _c("last_earned_at", TIMESTAMP, "When the customer last earned the badge."),
        _c("last_earn_event_at", TIMESTAMP, "When the event behind the last earn happened."),
        _c("badge_group_id", S, "Group the badge belongs to."),
        _c("badge_group_name", S, "Name of that group."),
        _c("badge_rank", I64, "Rank within its group."),
        *_expiry("earn", "Earn"),
        *_expiry("issue", "Issue"),
        EXTRA,
    ),
)

CUSTOMER_BADGE_CONSTRAINTS = Table(
    "customer_badge_constraints",
    "customer x badge x constraint window",
    (
        "customer_id",
        "identifier_type",
        "badge_id",
        "constraint_level",
        "constraint_kind",
        "window_unit",
        "window_length",
    ),
    (
        SNAPSHOT,
        DETAIL_FETCHED_ON,
        *CUSTOMER,
        BADGE_ID,
        *CONSTRAINT_COLUMNS,
        _c("current_earn_count", I64, "Earns counted against the constraint right now."),
        EXTRA,
    ),
    keyed_by=("customer_id", "identifier_type", "badge_id", "constraint_kind"),
)

BADGE_ISSUALS = Table(
    "badge_issuals",
    "issual",
    ("issue_id",),
    (
        SNAPSHOT,
        DETAIL_FETCHED_ON,
        *CUSTOMER,
        BADGE_ID,
        _c("issue_id", S, "Issual id (issueId), or derived when the vendor sent none."),
        _derived("issue_id", "issual", "issued_at"),
        _c("issued_at", TIMESTAMP, "When the badge was issued."),
        _c("issued_status", S, "ACTIVE, REVOKED or EXPIRED."),
        _c("issue_expires_at", TIMESTAMP, "When the issual expires."),
        _c("owner_type", S, "Owner that issued (Loyalty, Milestones...)."),
        _c("owner_reference_id", S, "The issuing owner's reference."),
        _c("revoked_at", TIMESTAMP, "When the issual was revoked."),
        _c("issue_event_at", TIMESTAMP, "When the event behind the issual happened."),
        EXTRA,
    ),
)

BADGE_EARNS = Table(
    "badge_earns",
    "earn",
    ("earn_id",),
    (
        SNAPSHOT,
        DETAIL_FETCHED_ON,
        *CUSTOMER,
        BADGE_ID,
        _c("earn_id", S, "Earn id (earnId), or derived when the vendor sent none."),
        _derived("earn_id", "earn", "earned_at"),
        _c("earned_at", TIMESTAMP, "When the badge was earned."),
        _c("earn_event_at", TIMESTAMP, "When the event behind the earn happened."),
        _c("earn_expires_at", TIMESTAMP, "When the earn expires."),
        _c("earn_status", S, "ACTIVE, EXPIRED or REVOKED."),
        _c("issue_id", S, "Issual the earn completed, if any."),
        _c("owner_type", S, "Owner that awarded the earn."),
        _c("owner_reference_id", S, "The awarding owner's reference (program)."),
        EXTRA,
    ),
)

EXTRACT_ERRORS = Table(
    "extract_errors",
    "failed call, or an answer (or an item of one) no row can be keyed on",
    ("endpoint", "customer_id", "identifier_type", "badge_id", "list_type"),
    (
        SNAPSHOT,
        _c("endpoint", S, "badge_meta, customer_badges or customer_badge_detail."),
        *CUSTOMER,
        BADGE_ID,
        _c("list_type", S, "List type for customer_badges calls."),
        _c("http_status", pa.int32(), "Last HTTP status; null when no response arrived."),
        _c(
            "error_code",
            S,
            "Vendor error code (1026, 1028, 404), transport failure kind, bad_body, or "
            "unkeyed: an answer or list item without the id its rows are keyed on.",
        ),
        _c("message", S, "What went wrong (and where in the answer), without secrets."),
        _c("attempts", pa.int32(), "Attempts made before giving up."),
    ),
    unique=False,
)

# Tables with one customer's rows: carried forward whole for customers not fetched tonight.
CUSTOMER_TABLES = (
    CUSTOMER_BADGES,
    CUSTOMER_BADGE_DETAILS,
    CUSTOMER_BADGE_CONSTRAINTS,
    BADGE_ISSUALS,
    BADGE_EARNS,
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        BADGES,
        BADGE_OWNERS,
        BADGE_CLAIMS,
        BADGE_CUSTOM_FIELDS,
        BADGE_CONSTRAINTS,
        CUSTOMER_BADGES,
        CUSTOMER_BADGE_DETAILS,
        CUSTOMER_BADGE_CONSTRAINTS,
        BADGE_ISSUALS,
        BADGE_EARNS,
        EXTRACT_ERRORS,
    )
}
