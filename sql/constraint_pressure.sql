-- constraint_pressure: customers at, or one earn short of, a customer-level earn limit.
-- grain: customer x badge, where the tightest customer-level limit leaves at most one earn
-- key: badge_id, customer_id, identifier_type
-- columns:
--   badge_id: Badge meta id.
--   badge_name: Name from analytics.badge_catalog.
--   customer_id: Customer identifier as sent to the API.
--   identifier_type: How customer_id identifies the customer.
--   constraint_kind: Kind of the tightest limit (fewest earns remaining).
--   window_unit: Its window unit; null when not windowed.
--   window_length: Its window length; null when not windowed.
--   max_earn_limit: Its maximum earns.
--   current_earn_count: Earns counted against it now (detail statistics).
--   earns_remaining: max_earn_limit - current_earn_count; 0 or less means at the limit.
--   at_limit: True when earns_remaining <= 0: the customer cannot earn the badge in the window.
-- Only customer_badge_constraints rows with constraint_level CUSTOMER and both max_earn_limit
-- and current_earn_count known. Ties for the tightest pick the shortest window (a month
-- counted as 30 days), then a windowed limit before FIXED_VALUE.
WITH limits AS (
    SELECT
        badge_id,
        customer_id,
        identifier_type,
        constraint_kind,
        window_unit,
        window_length,
        max_earn_limit,
        current_earn_count,
        max_earn_limit - current_earn_count AS earns_remaining,
        row_number() OVER (
            PARTITION BY badge_id, customer_id, identifier_type
            ORDER BY
                max_earn_limit - current_earn_count,
                window_length
                    * CASE window_unit WHEN 'DAYS' THEN 1 WHEN 'WEEKS' THEN 7 ELSE 30 END
                    NULLS LAST,
                constraint_kind
        ) AS tightness_rank
    FROM main.customer_badge_constraints
    WHERE constraint_level = 'CUSTOMER'
        AND max_earn_limit IS NOT NULL
        AND current_earn_count IS NOT NULL
)
SELECT
    l.badge_id,
    c.badge_name,
    l.customer_id,
    l.identifier_type,
    l.constraint_kind,
    l.window_unit,
    l.window_length,
    l.max_earn_limit,
    l.current_earn_count,
    l.earns_remaining,
    l.earns_remaining <= 0 AS at_limit
FROM limits AS l
LEFT JOIN analytics.badge_catalog AS c ON c.badge_id = l.badge_id
WHERE l.tightness_rank = 1 AND l.earns_remaining <= 1
ORDER BY l.badge_id, l.customer_id, l.identifier_type
