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
    FROM {{ source('main', 'customer_badge_constraints') }}
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
LEFT JOIN {{ ref('badge_catalog') }} AS c ON c.badge_id = l.badge_id
WHERE l.tightness_rank = 1 AND l.earns_remaining <= 1
ORDER BY l.badge_id, l.customer_id, l.identifier_type
