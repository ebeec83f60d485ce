"""The vendor's JSON bodies (meta, list entry, detail, errors), as pre-serialized bytes.

orjson cannot write `1765185213.630000000`, so epochs go in as marked strings and the
marks are swapped for the bare number text after serializing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson

from pipelines.sandbox.model import Badge, Constraint, Customer, Earn, Expiry, Issual
from pipelines.sandbox.org import Org
from pipelines.sandbox.render_constraints import detail_constraint, meta_constraint
from pipelines.sandbox.timefmt import broken_ms_iso_text, epoch_text, iso_text

_MARK = "\x1f"
_MARKED_NUMBER = re.compile(rb'"\\u001f([0-9.+-]+)\\u001f"')


def number(us: int | None, style: str) -> str | None:
    """An epoch to be written as a bare number in `style` (see timefmt)."""
    return None if us is None else f"{_MARK}{epoch_text(us, style)}{_MARK}"


def dumps(value: object) -> bytes:
    return _MARKED_NUMBER.sub(rb"\1", orjson.dumps(value))


def error_body(code: int, message: str) -> bytes:
    error = {"code": code, "message": message, "reference": None}
    return orjson.dumps({"data": None, "errors": [error], "warnings": []})


class Stamp:
    """Writes one badge's instants in that badge's epoch style and ISO offset."""

    def __init__(self, badge: Badge) -> None:
        self.style = badge.epoch_style
        self.offset = badge.iso_offset

    def epoch(self, us: int | None) -> str | None:
        return number(us, self.style)

    def iso(self, us: int | None) -> str | None:
        return None if us is None else iso_text(us, self.offset)


def _expiry(expiry: Expiry | None, stamp: Stamp, with_iso: bool = True) -> dict | None:
    if expiry is None:
        return None
    if expiry.expiry_type == "RELATIVE":
        return {"expiryType": "RELATIVE", "relativeExpirytype": expiry.unit, "value": expiry.value}
    if expiry.expiry_type == "NEVER":
        return {"expiryType": "NEVER"}
    body: dict = {"expiryType": "ABSOLUTE", "type": expiry.mode, "expiresOn": None}
    if expiry.mode == "FIXED_DATE":
        body["expiresOn"] = stamp.epoch(expiry.expires_us)
    if with_iso:
        body["expiresOnISO"] = stamp.iso(expiry.expires_us) if body["expiresOn"] else None
    body["expireWithBadgeMeta"] = expiry.mode == "WITH_BADGE_META"
    return body


def _ownership(badge: Badge) -> dict:
    claims = [
        {"ownerType": c.owner_type, "referenceId": c.reference_id, "isActive": c.is_active}
        for c in badge.claims
    ]
    return {"restrictedToOwners": list(badge.owners), "claims": claims}


def _meta_constraints(org: Org, constraints: list[Constraint], stamp: Stamp, full: bool) -> list:
    return [meta_constraint(c, stamp.epoch, stamp.iso, org.as_of_us, full) for c in constraints]


def meta_body(org: Org, badge: Badge, include_statistics: bool = True) -> bytes:
    stamp = Stamp(badge)
    data: dict = {
        "id": badge.badge_id,
        "badgeNumericId": badge.numeric_id,
        "orgId": badge.org_id,
        "name": badge.name,
        "description": badge.description,
        "startOn": stamp.epoch(badge.starts_us),
        "startOnISO": stamp.iso(badge.starts_us),
        "expiresOn": stamp.epoch(badge.expires_us),
        "expiresOnISO": stamp.iso(badge.expires_us),
        "earnedBadgeExpiry": _expiry(badge.earned_expiry, stamp),
        "issuedBadgeExpiry": _expiry(badge.issued_expiry, stamp),
        "images": badge.images,
        "ownership": _ownership(badge),
        "customerConstraints": _meta_constraints(org, badge.customer_constraints, stamp, True),
        "badgeConstraints": _meta_constraints(org, badge.badge_constraints, stamp, True),
        "benefits": badge.benefits,
        "tags": badge.tags,
        "badgeGroupId": badge.group_id,
        "badgeRank": badge.rank,
        "earnType": badge.earn_type,
    }
    if include_statistics:
        data["issuedCount"], data["earnedCount"] = org.badge_totals(badge.badge_id)
    data |= {
        "status": badge.status(org.as_of_us),
        "createdOn": stamp.epoch(badge.created_us),
        "createdOnISO": stamp.iso(badge.created_us),
        "createdBy": badge.created_by,
        "lastUpdatedOn": stamp.epoch(badge.updated_us),
        "lastUpdatedOnISO": stamp.iso(badge.updated_us),
        "lastUpdatedBy": badge.updated_by,
        "customFields": badge.custom_fields,
        "active": badge.active,
    }
    return dumps({"data": data, "errors": None, "warnings": None})


def list_entry(org: Org, customer_id: str, badge: Badge) -> bytes:
    stamp = Stamp(badge)
    earns = org.history(customer_id, badge.badge_id).earns
    group = org.groups.get(badge.group_id or "")
    entry: dict = {
        "badgeMetaId": badge.badge_id,
        "orgId": badge.org_id,
        "name": badge.name,
        "description": badge.description,
        "startOn": stamp.epoch(badge.starts_us),
        "expiresOn": stamp.epoch(badge.expires_us),
        "images": badge.images,
    }
    if badge.tags:
        entry["tags"] = badge.tags
    entry |= {
        "badgeGroupId": badge.group_id,
        "badgeGroupName": group.name if group else None,
        "badgeRank": badge.rank,
        "ownership": _ownership(badge),
        "earnType": badge.earn_type,
        "customerConstraints": _meta_constraints(org, badge.customer_constraints, stamp, False),
        "badgeConstraints": _meta_constraints(org, badge.badge_constraints, stamp, False),
        "earnedCount": len(earns) or None,
    }
    if earns:
        entry["lastEarnedOnDate"] = stamp.epoch(max(e.earned_us for e in earns))
        entry["lastEarnEventDate"] = stamp.epoch(max(e.event_us for e in earns))
    entry |= {"customFields": badge.custom_fields, "active": badge.active}
    return dumps(entry)


def list_body(entries: list[bytes], page: int, limit: int, total: int, paginated: bool) -> bytes:
    badges = b"[" + b",".join(entries) + b"]"
    if not paginated:
        return b'{"data":{"badges":' + badges + b"}}"
    pagination = orjson.dumps(
        {"page": page, "size": limit, "total": total, "totalPages": -(-total // limit)}
    )
    return (
        b'{"data":{"badges":'
        + badges
        + b',"pagination":'
        + pagination
        + b'},"errors":[],"warnings":[]}'
    )


def _issual(issual: Issual, stamp: Stamp) -> dict:
    return {
        "issuedOn": stamp.epoch(issual.issued_us),
        "issuedStatus": issual.status,
        "issueExpiresOn": stamp.epoch(issual.expires_us),
        "issueId": issual.issue_id,
        "ownerType": issual.owner_type,
        "ownerReferenceId": issual.owner_reference_id,
        "revokedOn": stamp.epoch(issual.revoked_us),
        "issueEventDate": stamp.epoch(issual.event_us),
    }


def _earn(earn: Earn, stamp: Stamp) -> dict:
    return {
        "earnId": earn.earn_id,
        "earnedOn": stamp.epoch(earn.earned_us),
        "earnEventDate": stamp.epoch(earn.event_us),
        "earnExpiresOn": stamp.epoch(earn.expires_us),
        "earnStatus": earn.status,
        "issueId": earn.issue_id,
        "ownerType": earn.owner_type,
        "ownerReferenceId": earn.owner_reference_id,
    }


def _detail_constraints(
    org: Org, customer_id: str, badge: Badge, constraints: list[Constraint], stats: bool
) -> list[dict]:
    stamp = Stamp(badge)
    return [
        detail_constraint(
            c,
            org.constraint_times(c, customer_id, badge.badge_id) if stats else None,
            stamp.epoch,
            org.as_of_us,
        )
        for c in constraints
    ]


def _starts_and_expires(badge: Badge, stamp: Stamp) -> dict:
    if not badge.detail_ms:
        return {
            "startsOn": stamp.epoch(badge.starts_us),
            "startsOnISO": stamp.iso(badge.starts_us),
            "expiresOn": stamp.epoch(badge.expires_us),
            "expiresOnISO": stamp.iso(badge.expires_us),
        }
    return {
        "startsOn": number(badge.starts_us, "ms"),
        "startsOnISO": broken_ms_iso_text(badge.starts_us),
        "expiresOn": number(badge.expires_us, "ms"),
        "expiresOnISO": broken_ms_iso_text(badge.expires_us),
    }


def detail_body(org: Org, customer: Customer, badge: Badge, include_statistics: bool) -> bytes:
    stamp = Stamp(badge)
    cid = customer.customer_id
    history = org.history(cid, badge.badge_id)
    group = org.groups.get(badge.group_id or "")
    last_earn = max(history.earns, key=lambda e: e.earned_us, default=None)
    last_event = max((e.event_us for e in history.earns), default=None)
    claims = _ownership(badge)["claims"]
    data: dict = {
        "id": badge.badge_id,
        "name": badge.name,
        "description": badge.description,
        "createdOn": stamp.epoch(badge.created_us),
        "createdOnISO": stamp.iso(badge.created_us),
        "lastUpdatedOn": stamp.epoch(badge.updated_us),
        "lastUpdatedOnISO": stamp.iso(badge.updated_us),
        **_starts_and_expires(badge, stamp),
        "action": "ACTIVATED" if badge.active else "DE_ACTIVATED",
        "badgeType": badge.earn_type,
        "badgeStatus": badge.status(org.as_of_us),
        "owner": list(badge.owners),
        "claimedBy": claims,
        "images": badge.images,
        "earnExpiry": _expiry(badge.earned_expiry, stamp),
        "issueExpiry": _expiry(badge.issued_expiry, stamp),
        "tags": badge.tags,
        "badgeGroupId": badge.group_id,
        "badgeGroupName": group.name if group else None,
        "badgeRank": badge.rank,
        "customerConstraints": _detail_constraints(
            org, cid, badge, badge.customer_constraints, include_statistics
        ),
        "badgeConstraints": _detail_constraints(
            org, cid, badge, badge.badge_constraints, include_statistics
        ),
        "issualDetails": {
            "issuedCount": len(history.issuals),
            "issuals": [_issual(i, stamp) for i in history.issuals],
        },
    }
    if history.issuals:
        data["issuedStatus"] = history.issuals[-1].status
    data |= {
        "earnDetails": {
            "earnCount": len(history.earns),
            "earns": [_earn(e, stamp) for e in history.earns],
        },
        "activeEarnedCount": sum(e.status == "ACTIVE" for e in history.earns),
        "lastEarnedOn": stamp.epoch(last_earn.earned_us) if last_earn else None,
        "lastEarnedOnISO": stamp.iso(last_earn.earned_us) if last_earn else None,
        "lastEarnEventDateISO": stamp.iso(last_event),
        "customFields": badge.custom_fields,
    }
    return dumps({"data": data, "errors": [], "warnings": []})


class BodyCache:
    """Rendered bodies by key, dropped as a whole whenever the org changes."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._version = -1
        self._bodies: dict[tuple, object] = {}

    def get(self, key: tuple, build: Callable[[], object]) -> object:
        if self._version != self.org.version:
            self._bodies = {}
            self._version = self.org.version
        body = self._bodies.get(key)
        if body is None:
            body = self._bodies[key] = build()
        return body
