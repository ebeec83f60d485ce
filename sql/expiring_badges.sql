WITH snapshot AS (
    SELECT snapshot_date, timezone('UTC', CAST(snapshot_date AS TIMESTAMP)) AS window_start_at
    FROM {{ source('main', 'snapshot_info') }}
)
SELECT
    s.snapshot_date,
    e.customer_id,
    e.identifier_type,
    e.badge_id,
    c.badge_name,
    e.earn_id,
    e.earned_at,
    e.earn_expires_at,
    CAST(timezone('UTC', e.earn_expires_at) AS DATE) - s.snapshot_date AS days_until_expiry
FROM {{ source('main', 'badge_earns') }} AS e
CROSS JOIN snapshot AS s
LEFT JOIN {{ ref('badge_catalog') }} AS c ON c.badge_id = e.badge_id
WHERE e.earn_status = 'ACTIVE'
    AND e.earn_expires_at >= s.window_start_at
    AND e.earn_expires_at < s.window_start_at + INTERVAL 30 DAY
ORDER BY e.earn_expires_at, e.earn_id
