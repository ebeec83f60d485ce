"""The sandbox: a real HTTP server (loopback only) behaving like the Capillary Badges API.

Endpoints: badge meta (GET `/api_gateway/v1/badges/badgeMeta/{id}`), customer lists
(GET `/api_gateway/v1/badges/customer/{customer}`), customer badge detail (GET
`/api_gateway/v1/badges/management/{customer}/badge/{id}`), badge update (PUT
`/api_gateway/v1/badges/badgeMeta`) and OAuth tokens (POST `/v3/oauth/token/generate`),
in the shapes and with the quirks of the vendor's docs.

Data rules (tests rely on them):

- Deterministic: the same (customers, badges, seed, as_of) gives byte-identical bodies.
  Everything is drawn from `random.Random(seed)`; the clock is read only for the
  `as_of` default (today, UTC) and for token expiry and rate limiting. "Now" is
  `as_of` at 00:00 UTC; every instant is kept as integer microseconds (UTC).
- Ids: badges 24 hex characters, customers numeric strings; each customer also has an
  email, mobile, externalId and cardNumber that resolve to it with the
  `X-CAP-CUSTOMER-IDENTIFIER` header.
- Badges: a few groups with names and ranks; badges with and without group and rank;
  EARN and ISSUE_EARN; status from the dates (UPCOMING when startOn > now, EXPIRED when
  expiresOn <= now, else LIVE; every status appears from 10 badges on); active or not;
  custom fields, claims, images and tags, sometimes none.
- Constraints (cycling by badge position, all appear from 6 badges on): customer
  FIXED_VALUE, FIXED_WINDOW (durationType + refreshRate, referenceId, cycleStatus,
  currentCycle), ROLLING_WINDOW with 1-3 of the days/weeks/months pairs, NO_LIMIT, or
  none; badge FIXED_VALUE, FIXED_VALUE + 1-3 ROLLING_WINDOWs, FIXED_WINDOW, NO_LIMIT,
  two ROLLING_WINDOWs or none. Badge position 4 carries a `CUSTOMER_BADGE_FIXED_WINDOW`
  inside `badgeConstraints` (its level is BADGE: the array it is in).
- Window arithmetic: a day is 86 400 s, a week 7 days, a month 30 days. Every earn
  counts against a constraint whatever its status: FIXED_VALUE counts all, a rolling
  window the earns in (t - length, t], a fixed window those in the cycle holding t
  (cycles of refreshRate units from the constraint's startDate). Customer-level
  constraints count the pair's earns, badge-level ones all earns of the badge. No
  window is ever exceeded at any instant (earns are accepted in time order), and
  `currentEarnCount` in the detail statistics is the count at `as_of`; NO_LIMIT has
  null statistics.
- Relations: each customer relates to 2-12 badges; every 40th customer (from the first)
  to 85% of them, so its lists span several pages. EARN pairs mostly have an issual
  (some two), ISSUE_EARN pairs sometimes; issuals ACTIVE/REVOKED/EXPIRED. History runs
  at a steady pace: issuals are uniform over the last year before `as_of` (none before
  the badge was created), earns uniform over the badge's live span within that year
  (EARN: none before the first issual; the 40th customers earn 2-6 times a badge), so
  no day before `as_of` stands out and nightly activity comes from what tests and
  benchmarks add; earn status is REVOKED (some), else EXPIRED when its expiry <= now,
  else ACTIVE.
- Lists (includeExpired=false drops badges whose status is EXPIRED; the HTTP default is
  false, `Org.list_entries` defaults to true): EARNED = related badges with >= 1 ACTIVE
  earn; EXPIRED = related badges with earns, all EXPIRED; AVAILABLE = LIVE ISSUE_EARN
  related badges under every limit; AVAILABLE_TO_ISSUE = LIVE EARN badges with an ACTIVE
  issual, under every limit ("under" = current count < max for every window). Default
  order: createdOn descending; `sortOn=RANK` follows the spec; `groupId` filters. Page
  is 0-based, default limit 10, default badgeType AVAILABLE_TO_ISSUE.
- A list entry's `earnedCount` is the pair's number of earns in the detail (null when
  0); `lastEarnedOnDate`/`lastEarnEventDate` are the max over them (absent when none).
  Meta statistics: `issuedCount` = the badge's ACTIVE issuals, `earnedCount` = all its
  earns, over every customer (so a revocation shows in the badge's meta).
- Quirks: each badge writes its epochs in one style: `1765185213.630000000`,
  `1728281969.3` or integers; some badges' ISO twins use `+05:30`; every 7th badge
  (position % 7 == 2) has detail `startsOn`/`expiresOn` in milliseconds with the broken
  `+57906-...` ISO twin. Meta has `errors: null`, lists and detail `errors: []`. About a
  quarter of customers (crc32(customer_id) % 4 == 0) get single-page lists (page 0,
  total <= limit) with no `pagination` and no errors/warnings keys.
- `expected_row_counts()` derives each contract table's rows from the model: only
  `listed_badge_ids()` get meta rows, only `listed_pairs()` details; a constraint makes
  one row per window (paired rolling: one per non-null pair; FIXED_VALUE and NO_LIMIT one).
- PUT bumps `lastUpdatedOn` to max(previous + 1 s, as_of); a null badgeNumericId gets
  the next free number; existing earns are kept even when a new limit is lower.
- Faults (`Faults`) are drawn from `random.Random(seed)` in request order; see faults.py.
"""

from pipelines.client.endpoints import LIST_TYPES
from pipelines.sandbox.app import create_app
from pipelines.sandbox.credentials import SandboxCredentials, basic_header
from pipelines.sandbox.error_answers import SandboxApiError
from pipelines.sandbox.faults import Faults, SandboxStats
from pipelines.sandbox.generate import generate_org
from pipelines.sandbox.model import (
    Badge,
    BadgeGroup,
    Constraint,
    Customer,
    Earn,
    Issual,
    Window,
)
from pipelines.sandbox.org import Org
from pipelines.sandbox.server import SandboxProcess, SandboxServer

__all__ = [
    "LIST_TYPES",
    "Badge",
    "BadgeGroup",
    "Constraint",
    "Customer",
    "Earn",
    "Faults",
    "Issual",
    "Org",
    "SandboxApiError",
    "SandboxCredentials",
    "SandboxProcess",
    "SandboxServer",
    "SandboxStats",
    "Window",
    "basic_header",
    "create_app",
    "generate_org",
]
