SELECT
    CAST(timezone('UTC', e.earned_at) AS DATE) AS day,
    e.badge_id,
    c.badge_name,
    count(*) AS earns,
    count(DISTINCT (e.customer_id, e.identifier_type)) AS customers
FROM {{ source('main', 'badge_earns') }} AS e
LEFT JOIN {{ ref('badge_catalog') }} AS c ON c.badge_id = e.badge_id
WHERE e.earned_at IS NOT NULL
GROUP BY ALL
ORDER BY day, e.badge_id
