WITH mentioned AS (
    SELECT badge_id FROM {{ source('main', 'badges') }}
    UNION SELECT badge_id FROM {{ source('main', 'customer_badges') }}
    UNION SELECT badge_id FROM {{ source('main', 'customer_badge_details') }}
    UNION SELECT badge_id FROM {{ source('main', 'badge_issuals') }}
    UNION SELECT badge_id FROM {{ source('main', 'badge_earns') }}
),
listed_names AS (
    SELECT badge_id, min(badge_name) AS badge_name
    FROM (
        SELECT badge_id, badge_name FROM {{ source('main', 'customer_badges') }}
        UNION ALL
        SELECT badge_id, badge_name FROM {{ source('main', 'customer_badge_details') }}
    )
    WHERE badge_name IS NOT NULL
    GROUP BY badge_id
)
SELECT
    m.badge_id,
    coalesce(b.name, l.badge_name) AS badge_name,
    b.badge_id IS NOT NULL AS has_meta,
    b.earn_type,
    b.status
FROM mentioned AS m
LEFT JOIN {{ source('main', 'badges') }} AS b ON b.badge_id = m.badge_id
LEFT JOIN listed_names AS l ON l.badge_id = m.badge_id
WHERE m.badge_id IS NOT NULL
ORDER BY m.badge_id
