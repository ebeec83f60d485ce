-- constraint_utilization: how much of each badge-level earn limit is used.
-- grain: badge-level constraint window (badge_constraints rows with constraint_level BADGE)
-- key: badge_id, constraint_kind, window_unit, window_length
-- columns:
--   badge_id: Badge meta id.
--   badge_name: Name from analytics.badge_catalog.
--   constraint_kind: FIXED_VALUE, FIXED_WINDOW, ROLLING_WINDOW or NO_LIMIT.
--   window_unit: DAYS, WEEKS or MONTHS; null when not windowed.
--   window_length: Window length in window_unit; null when not windowed.
--   max_earn_limit: Most earns allowed for the whole badge in the window; null for NO_LIMIT.
--   current_earn_count: Highest currentEarnCount any customer's detail reported for the same
--     badge-level window (the counter is badge-wide; details are read at different moments, the
--     highest is the latest); null when no detail reported it.
--   reporting_customers: Distinct customers whose detail reported a count for the window.
--   utilization: current_earn_count / max_earn_limit; null when either is null or the limit is 0.
-- Windows match on (badge_id, constraint_kind, window_unit, window_length), nulls equal.
WITH reported AS (
    SELECT
        badge_id,
        constraint_kind,
        window_unit,
        window_length,
        max(current_earn_count) AS current_earn_count,
        count(DISTINCT (customer_id, identifier_type))
            FILTER (WHERE current_earn_count IS NOT NULL) AS reporting_customers
    FROM main.customer_badge_constraints
    WHERE constraint_level = 'BADGE'
    GROUP BY ALL
)
SELECT
    k.badge_id,
    c.badge_name,
    k.constraint_kind,
    k.window_unit,
    k.window_length,
    k.max_earn_limit,
    r.current_earn_count,
    coalesce(r.reporting_customers, 0) AS reporting_customers,
    CASE WHEN k.max_earn_limit > 0 THEN r.current_earn_count / k.max_earn_limit END
        AS utilization
FROM main.badge_constraints AS k
LEFT JOIN reported AS r
    ON r.badge_id = k.badge_id
    AND r.constraint_kind = k.constraint_kind
    AND r.window_unit IS NOT DISTINCT FROM k.window_unit
    AND r.window_length IS NOT DISTINCT FROM k.window_length
LEFT JOIN analytics.badge_catalog AS c ON c.badge_id = k.badge_id
WHERE k.constraint_level = 'BADGE'
ORDER BY k.badge_id, k.constraint_kind, k.window_unit, k.window_length
