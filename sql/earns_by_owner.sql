SELECT
    owner_type,
    owner_reference_id,
    count(*) AS earns,
    count(*) FILTER (WHERE earn_status = 'ACTIVE') AS active_earns,
    count(DISTINCT (customer_id, identifier_type)) AS customers,
    count(DISTINCT badge_id) AS badges,
    min(earned_at) AS first_earned_at,
    max(earned_at) AS last_earned_at
FROM {{ source('main', 'badge_earns') }}
GROUP BY ALL
ORDER BY owner_type NULLS LAST, owner_reference_id NULLS LAST
