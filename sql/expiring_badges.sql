-- expiring_badges: active earns that expire within 30 days of the snapshot, with their customer.
-- grain: earn (badge_earns row) that is ACTIVE and expires in the 30-day window
-- key: earn_id
-- columns:
--   snapshot_date: Snapshot the window is measured from (main.snapshot_info).
--   customer_id: Customer identifier as sent to the API.
--   identifier_type: How customer_id identifies the customer.
--   badge_id: Badge meta id.
--   badge_name: Name from analytics.badge_catalog.
--   earn_id: Earn id.
--   earned_at: When the badge was earned.
--   earn_expires_at: When the earn expires.
--   days_until_expiry: UTC date of earn_expires_at minus snapshot_date, 0 to 29.
-- Window: snapshot_date 00:00 UTC (inclusive) to snapshot_date + 30 days 00:00 UTC (exclusive).
-- Only earn_status ACTIVE; earns without earn_expires_at never expire and are left out.
WITH snapshot AS (
    SELECT snapshot_date, timezone('UTC', CAST(snapshot_date AS TIMESTAMP)) AS window_start_at
    FROM main.snapshot_info
)
SELECT
    s.snapshot_date,
    e.customer_id,
    e.identifier_type,
    e.badge_id,
    c.badge_name,
    e.earn_id,
    e.earned_at,
    e.earn_expires_at,
    CAST(timezone('UTC', e.earn_expires_at) AS DATE) - s.snapshot_date AS days_until_expiry
FROM main.badge_earns AS e
CROSS JOIN snapshot AS s
LEFT JOIN analytics.badge_catalog AS c ON c.badge_id = e.badge_id
WHERE e.earn_status = 'ACTIVE'
    AND e.earn_expires_at >= s.window_start_at
    AND e.earn_expires_at < s.window_start_at + INTERVAL 30 DAY
ORDER BY e.earn_expires_at, e.earn_id
