-- time_to_earn: per badge, how long customers take from their first issual to their first earn.
-- grain: badge with at least one issual
-- key: badge_id
-- columns:
--   badge_id: Badge meta id.
--   badge_name: Name from analytics.badge_catalog.
--   customers_issued: Distinct customers with an issual of the badge that has issued_at.
--   customers_measured: Of those, customers with an earn at or after their first issual.
--   median_hours_to_earn: Median over measured customers of hours from first issued_at to the
--     first earned_at at or after it (interpolated, quantile_cont); null when none measured.
--   p90_hours_to_earn: 90th percentile of the same hours (interpolated); null when none measured.
-- Earns before a customer's first issual (EARN-type badges) are not measured.
WITH first_issual AS (
    SELECT badge_id, customer_id, identifier_type, min(issued_at) AS first_issued_at
    FROM main.badge_issuals
    WHERE issued_at IS NOT NULL
    GROUP BY ALL
),
first_earn AS (
    SELECT
        i.badge_id,
        i.customer_id,
        i.identifier_type,
        i.first_issued_at,
        min(e.earned_at) AS first_earned_at
    FROM first_issual AS i
    LEFT JOIN main.badge_earns AS e
        ON e.badge_id = i.badge_id
        AND e.customer_id = i.customer_id
        AND e.identifier_type IS NOT DISTINCT FROM i.identifier_type
        AND e.earned_at >= i.first_issued_at
    GROUP BY ALL
),
durations AS (
    SELECT badge_id, epoch(first_earned_at - first_issued_at) / 3600.0 AS hours_to_earn
    FROM first_earn
)
SELECT
    d.badge_id,
    c.badge_name,
    count(*) AS customers_issued,
    count(d.hours_to_earn) AS customers_measured,
    quantile_cont(d.hours_to_earn, 0.5) AS median_hours_to_earn,
    quantile_cont(d.hours_to_earn, 0.9) AS p90_hours_to_earn
FROM durations AS d
LEFT JOIN analytics.badge_catalog AS c ON c.badge_id = d.badge_id
GROUP BY ALL
ORDER BY d.badge_id
