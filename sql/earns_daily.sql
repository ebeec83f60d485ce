-- earns_daily: earns per UTC day and badge.
-- grain: UTC calendar day x badge, for every day with at least one earn of the badge
-- key: day, badge_id
-- columns:
--   day: UTC calendar date of badge_earns.earned_at.
--   badge_id: Badge meta id.
--   badge_name: Name from analytics.badge_catalog; null when no source names the badge.
--   earns: Earn records (badge_earns rows, any earn_status) earned that day.
--   customers: Distinct customers (customer_id, identifier_type) with an earn that day.
-- Earns without earned_at are left out. Revoked and expired earns count: they happened that day.
SELECT
    CAST(timezone('UTC', e.earned_at) AS DATE) AS day,
    e.badge_id,
    c.badge_name,
    count(*) AS earns,
    count(DISTINCT (e.customer_id, e.identifier_type)) AS customers
FROM main.badge_earns AS e
LEFT JOIN analytics.badge_catalog AS c ON c.badge_id = e.badge_id
WHERE e.earned_at IS NOT NULL
GROUP BY ALL
ORDER BY day, e.badge_id
