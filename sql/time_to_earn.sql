WITH first_issual AS (
    SELECT badge_id, customer_id, identifier_type, min(issued_at) AS first_issued_at
    FROM {{ source('main', 'badge_issuals') }}
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
    LEFT JOIN {{ source('main', 'badge_earns') }} AS e
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
LEFT JOIN {{ ref('badge_catalog') }} AS c ON c.badge_id = d.badge_id
GROUP BY ALL
ORDER BY d.badge_id
