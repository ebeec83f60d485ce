"""PUT badgeMeta: validation (the spec's error codes) and applying the change to a badge."""

from __future__ import annotations

import datetime as dt

from pipelines.sandbox.error_answers import SandboxApiError
from pipelines.sandbox.model import SECOND, Badge, Constraint, Expiry, Window
from pipelines.sandbox.org import Org
from pipelines.sandbox.render_constraints import PAIR_KEYS

DURATION_UNITS = {"DAILY": "DAYS", "WEEKLY": "WEEKS", "MONTHLY": "MONTHS"}
DURATION_UNITS |= {unit: unit for unit in ("DAYS", "WEEKS", "MONTHS")}
KINDS = ("FIXED_VALUE", "FIXED_WINDOW", "ROLLING_WINDOW", "NO_LIMIT")
SIMPLE_FIELDS = {
    "name": "name",
    "description": "description",
    "earnType": "earn_type",
    "badgeRank": "rank",
    "badgeGroupId": "group_id",
    "isActive": "active",
    "images": "images",
    "tags": "tags",
    "benefits": "benefits",
}


def _invalid(message: str) -> SandboxApiError:
    return SandboxApiError(400, 400, message)


def _epoch_us(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid("Invalid timestamp")
    seconds = value / 1000 if abs(value) >= 1e11 else value
    return round(seconds * SECOND)


def _instant(body: dict, key: str) -> int | None:
    """The instant under `key` (epoch) or `keyISO`; None when neither is given."""
    if body.get(key) is not None:
        return _epoch_us(body[key])
    text = body.get(f"{key}ISO")
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as error:
        raise _invalid("Invalid ISO timestamp") from error
    return round(moment.astimezone(dt.UTC).timestamp() * SECOND)


def _expiry(body: dict | None, now_us: int) -> Expiry | None:
    if body is None:
        return None
    kind = body.get("expiryType")
    if kind == "RELATIVE":
        unit = body.get("relativeExpirytype") or body.get("relativeExpiryType")
        return Expiry(
            "RELATIVE", unit=DURATION_UNITS.get(unit or "", None), value=body.get("value")
        )
    if kind == "NEVER":
        return Expiry("NEVER")
    if kind != "ABSOLUTE":
        raise _invalid("Invalid enum value")
    mode = "WITH_BADGE_META" if body.get("expireWithBadgeMeta") else body.get("type", "FIXED_DATE")
    if mode == "WITH_BADGE_META":
        return Expiry("ABSOLUTE", mode=mode)
    expires_us = _instant(body, "expiresOn")
    if expires_us is None:
        raise SandboxApiError(400, 705, "Expiry date is mandatory.")
    if expires_us <= now_us:
        raise SandboxApiError(400, 724, "Expiry Date cannot be past date")
    return Expiry("ABSOLUTE", mode="FIXED_DATE", expires_us=expires_us)


def _kind(raw_type: object) -> str:
    for kind in KINDS:
        if isinstance(raw_type, str) and raw_type in (f"CUSTOMER_BADGE_{kind}", f"BADGE_{kind}"):
            return kind
    raise _invalid("Invalid enum value")


def _constraint(org: Org, level: str, body: dict, starts: int, ends: int) -> Constraint:
    raw_type = body.get("constraintType")
    kind = _kind(raw_type)
    limit = body.get("maxEarnLimit")
    if kind == "FIXED_VALUE":
        return Constraint(level, kind, raw_type, [Window(max_earn_limit=limit)])
    if kind == "NO_LIMIT":
        return Constraint(level, kind, raw_type, [Window()])
    if kind == "FIXED_WINDOW":
        unit = DURATION_UNITS.get(body.get("durationType") or "DAYS")
        if unit is None:
            raise _invalid("Invalid enum value")
        window = Window(unit, body.get("refreshRate") or 1, limit)
        day = body.get("startDayOfTheWeek")
        return Constraint(
            level,
            kind,
            raw_type,
            [window],
            body.get("referenceId") or org.new_id(),
            starts,
            ends,
            start_day_of_week=None if day is None else str(day),
        )
    if raw_type == "CUSTOMER_BADGE_ROLLING_WINDOW":
        windows = [
            Window(unit, body.get(roll_key), body.get(max_key))
            for unit, (max_key, roll_key) in PAIR_KEYS.items()
            if body.get(max_key) is not None and body.get(roll_key) is not None
        ]
        if not windows:
            raise _invalid("Rolling window needs at least one limit")
        return Constraint(level, kind, raw_type, windows)
    unit = body.get("rollType")
    if unit not in PAIR_KEYS:
        raise _invalid("Invalid enum value")
    return Constraint(level, kind, raw_type, [Window(unit, body.get("rollValue") or 1, limit)])


def _has_window(constraints: list[Constraint]) -> tuple[bool, bool]:
    """(any fixed window, any fixed value or rolling window) among the constraints."""
    kinds = {c.kind for c in constraints}
    return "FIXED_WINDOW" in kinds, bool(kinds & {"FIXED_VALUE", "ROLLING_WINDOW"})


def _check_family(old: list[Constraint], new: list[Constraint]) -> None:
    old_window, old_value = _has_window(old)
    new_window, new_value = _has_window(new)
    if (old_window or old_value) and (new_window or new_value) and old_window != new_window:
        raise SandboxApiError(
            400,
            826,
            "Change from rolling window or fixed constraint to fixed window or vice versa is "
            "not allowed.",
        )


def _new_constraints(org: Org, badge: Badge, payload: dict, key: str, level: str, dates: tuple):
    if key not in payload:
        return None
    bodies = payload.get(key) or []
    if not isinstance(bodies, list) or not all(isinstance(b, dict) for b in bodies):
        raise _invalid(f"{key} must be a list")
    new = [_constraint(org, level, body, *dates) for body in bodies]
    _check_family(
        badge.customer_constraints if level == "CUSTOMER" else badge.badge_constraints, new
    )
    return new


def apply_update(org: Org, payload: object) -> Badge:
    """Validates a PUT badgeMeta body and applies it; raises SandboxApiError when invalid."""
    if not isinstance(payload, dict) or not payload.get("id"):
        raise _invalid("id is required")
    badge = org.badges.get(str(payload["id"]))
    if badge is None:
        raise SandboxApiError(404, 404, "Passed badge is not found")
    starts = _instant(payload, "startOn")
    ends = _instant(payload, "expiresOn")
    new_starts = badge.starts_us if starts is None else starts
    new_ends = badge.expires_us if ends is None else ends
    earned = (
        _expiry(payload["earnedBadgeExpiry"], org.as_of_us)
        if payload.get("earnedBadgeExpiry")
        else badge.earned_expiry
    )
    issued = (
        _expiry(payload["issuedBadgeExpiry"], org.as_of_us)
        if "issuedBadgeExpiry" in payload
        else badge.issued_expiry
    )
    if new_starts >= new_ends:
        raise SandboxApiError(400, 720, "Start Date should be before End Date")
    if new_starts != badge.starts_us and badge.status(org.as_of_us) in ("LIVE", "EXPIRED"):
        raise SandboxApiError(400, 723, "Start Date cannot change once the badge is live")
    if ends is not None and ends != badge.expires_us and ends <= org.as_of_us:
        raise SandboxApiError(400, 724, "Expiry Date cannot be past date")
    dates = (new_starts, new_ends)
    customer = _new_constraints(org, badge, payload, "customerConstraints", "CUSTOMER", dates)
    badge_level = _new_constraints(org, badge, payload, "badgeConstraints", "BADGE", dates)

    for key, attribute in SIMPLE_FIELDS.items():
        if key in payload:
            setattr(badge, attribute, payload[key])
    if isinstance(payload.get("customFields"), dict):
        badge.custom_fields = {str(k): str(v) for k, v in payload["customFields"].items()}
    owners = (payload.get("ownership") or {}).get("restrictedToOwners")
    if isinstance(owners, list):
        badge.owners = [str(owner) for owner in owners]
    badge.starts_us, badge.expires_us = dates
    badge.earned_expiry, badge.issued_expiry = earned, issued
    badge.customer_constraints = badge.customer_constraints if customer is None else customer
    badge.badge_constraints = badge.badge_constraints if badge_level is None else badge_level
    if badge.numeric_id is None:
        badge.numeric_id = max((b.numeric_id or 0 for b in org.badges.values()), default=0) + 1
    badge.updated_us = max(badge.updated_us + SECOND, org.as_of_us)
    org.changed()
    return badge
