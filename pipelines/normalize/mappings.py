"""Which source key feeds which column, per table (aliases across endpoints first-wins)."""

from __future__ import annotations

from pipelines.normalize.fields import Field, boolean, integer, key_text, text, timestamp, unit


def _expiry_fields(prefix: str) -> tuple[Field, ...]:
    return (
        text(f"{prefix}_expiry_type", "expiryType"),
        unit(f"{prefix}_expiry_unit", "relativeExpirytype", "relativeExpiryType"),
        integer(f"{prefix}_expiry_value", "value"),
        text(f"{prefix}_expiry_mode", "type"),
        timestamp(f"{prefix}_expires_at", "expiresOn"),
    )


BADGE_FIELDS = (
    key_text("badge_id", "id", "badgeMetaId"),
    integer("badge_numeric_id", "badgeNumericId"),
    integer("org_id", "orgId"),
    text("name", "name"),
    text("description", "description"),
    text("earn_type", "earnType", "badgeType"),
    text("status", "status", "badgeStatus"),
    boolean("is_active", "active", "isActive"),
    timestamp("starts_at", "startOn", "startsOn"),
    timestamp("expires_at", "expiresOn"),
    text("badge_group_id", "badgeGroupId"),
    integer("badge_rank", "badgeRank"),
    integer("issued_count", "issuedCount"),
    integer("earned_count", "earnedCount"),
    timestamp("created_at", "createdOn"),
    integer("created_by", "createdBy"),
    timestamp("updated_at", "lastUpdatedOn"),
    integer("updated_by", "lastUpdatedBy"),
)
EARNED_EXPIRY_FIELDS = _expiry_fields("earned")
ISSUED_EXPIRY_FIELDS = _expiry_fields("issued")
CLAIM_FIELDS = (
    text("owner_type", "ownerType"),
    text("reference_id", "referenceId"),
    boolean("is_active", "isActive", "active"),
)
GROUP_FIELDS = (
    text("badge_group_id", "badgeGroupId"),
    text("badge_group_name", "badgeGroupName"),
    integer("badge_rank", "badgeRank"),
)
CUSTOMER_BADGE_FIELDS = (
    key_text("badge_id", "badgeMetaId", "id"),
    text("badge_name", "name"),
    integer("org_id", "orgId"),
    text("earn_type", "earnType", "badgeType"),
    integer("earned_count", "earnedCount"),
    timestamp("last_earned_at", "lastEarnedOnDate", "lastEarnedOn"),
    timestamp("last_earn_event_at", "lastEarnEventDate"),
    timestamp("starts_at", "startOn", "startsOn"),
    timestamp("expires_at", "expiresOn"),
    *GROUP_FIELDS,
    boolean("is_active", "active", "isActive"),
)
DETAIL_FIELDS = (
    text("badge_name", "name"),
    text("badge_type", "badgeType", "earnType"),
    text("action", "action"),
    text("badge_status", "badgeStatus", "status"),
    timestamp("starts_at", "startsOn", "startOn"),
    timestamp("expires_at", "expiresOn"),
    timestamp("created_at", "createdOn"),
    timestamp("updated_at", "lastUpdatedOn"),
    text("issued_status", "issuedStatus"),
    integer("active_earned_count", "activeEarnedCount"),
    timestamp("last_earned_at", "lastEarnedOn", "lastEarnedOnDate"),
    timestamp("last_earn_event_at", "lastEarnEventDate"),
    *GROUP_FIELDS,
)
EARN_EXPIRY_FIELDS = _expiry_fields("earn")
ISSUE_EXPIRY_FIELDS = _expiry_fields("issue")
ISSUED_COUNT = integer("issued_count", "issuedCount")
EARN_COUNT = integer("earn_count", "earnCount")
ISSUAL_FIELDS = (
    key_text("issue_id", "issueId"),
    timestamp("issued_at", "issuedOn"),
    text("issued_status", "issuedStatus"),
    timestamp("issue_expires_at", "issueExpiresOn"),
    text("owner_type", "ownerType"),
    text("owner_reference_id", "ownerReferenceId"),
    timestamp("revoked_at", "revokedOn"),
    timestamp("issue_event_at", "issueEventDate"),
)
EARN_FIELDS = (
    key_text("earn_id", "earnId"),
    timestamp("earned_at", "earnedOn"),
    timestamp("earn_event_at", "earnEventDate"),
    timestamp("earn_expires_at", "earnExpiresOn"),
    text("earn_status", "earnStatus"),
    text("issue_id", "issueId"),
    text("owner_type", "ownerType"),
    text("owner_reference_id", "ownerReferenceId"),
)
