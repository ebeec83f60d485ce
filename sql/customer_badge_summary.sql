WITH customers AS (
    SELECT customer_id, identifier_type FROM {{ source('main', 'customer_badges') }}
    UNION SELECT customer_id, identifier_type FROM {{ source('main', 'customer_badge_details') }}
    UNION SELECT customer_id, identifier_type FROM {{ source('main', 'badge_earns') }}
),
per_badge AS (
    SELECT
        customer_id,
        identifier_type,
        badge_id,
        coalesce(bool_or(earn_status = 'ACTIVE'), false) AS has_active,
        coalesce(bool_or(earn_status = 'EXPIRED'), false) AS has_expired,
        max(earned_at) AS last_earned_at
    FROM {{ source('main', 'badge_earns') }}
    GROUP BY ALL
),
per_customer AS (
    SELECT
        customer_id,
        identifier_type,
        count(*) AS badges_earned,
        count(*) FILTER (WHERE has_active) AS badges_active,
        count(*) FILTER (WHERE has_expired AND NOT has_active) AS badges_expired,
        max(last_earned_at) AS last_earned_at
    FROM per_badge
    GROUP BY ALL
)
SELECT
    c.customer_id,
    c.identifier_type,
    coalesce(p.badges_earned, 0) AS badges_earned,
    coalesce(p.badges_active, 0) AS badges_active,
    coalesce(p.badges_expired, 0) AS badges_expired,
    p.last_earned_at
FROM customers AS c
LEFT JOIN per_customer AS p
    ON p.customer_id = c.customer_id
    AND p.identifier_type IS NOT DISTINCT FROM c.identifier_type
WHERE c.customer_id IS NOT NULL
ORDER BY c.customer_id, c.identifier_type
