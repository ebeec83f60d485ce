WITH reported AS (
    SELECT
        badge_id,
        constraint_kind,
        window_unit,
        window_length,
        max(current_earn_count) AS current_earn_count,
        count(DISTINCT (customer_id, identifier_type))
            FILTER (WHERE current_earn_count IS NOT NULL) AS reporting_customers
    FROM {{ source('main', 'customer_badge_constraints') }}
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
FROM {{ source('main', 'badge_constraints') }} AS k
LEFT JOIN reported AS r
    ON r.badge_id = k.badge_id
    AND r.constraint_kind = k.constraint_kind
    AND r.window_unit IS NOT DISTINCT FROM k.window_unit
    AND r.window_length IS NOT DISTINCT FROM k.window_length
LEFT JOIN {{ ref('badge_catalog') }} AS c ON c.badge_id = k.badge_id
WHERE k.constraint_level = 'BADGE'
ORDER BY k.badge_id, k.constraint_kind, k.window_unit, k.window_length
