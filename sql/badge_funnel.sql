WITH available AS (
    SELECT badge_id, count(DISTINCT (customer_id, identifier_type)) AS customers_available
    FROM {{ source('main', 'customer_badges') }}
    WHERE list_type IN ('AVAILABLE', 'AVAILABLE_TO_ISSUE')
    GROUP BY badge_id
),
issued AS (
    SELECT DISTINCT badge_id, customer_id, identifier_type FROM {{ source('main', 'badge_issuals') }}
),
earned AS (
    SELECT DISTINCT badge_id, customer_id, identifier_type FROM {{ source('main', 'badge_earns') }}
),
issued_counts AS (
    SELECT
        i.badge_id,
        count(*) AS customers_issued,
        count(e.badge_id) AS customers_issued_and_earned
    FROM issued AS i
    LEFT JOIN earned AS e
        ON e.badge_id = i.badge_id
        AND e.customer_id = i.customer_id
        AND e.identifier_type IS NOT DISTINCT FROM i.identifier_type
    GROUP BY i.badge_id
),
-- Every customer the badge reached: in one of their lists (any type), issued it or earned
-- it. Each later stage counts a subset of these customers, so none exceeds it.
reached AS (
    SELECT badge_id, count(DISTINCT (customer_id, identifier_type)) AS customers_reached
    FROM (
        SELECT badge_id, customer_id, identifier_type FROM {{ source('main', 'customer_badges') }}
        UNION ALL
        SELECT badge_id, customer_id, identifier_type FROM issued
        UNION ALL
        SELECT badge_id, customer_id, identifier_type FROM earned
    )
    GROUP BY badge_id
),
earned_counts AS (
    SELECT badge_id, count(*) AS customers_earned FROM earned GROUP BY badge_id
),
revoked AS (
    SELECT badge_id, count(*) AS issuals_revoked
    FROM {{ source('main', 'badge_issuals') }}
    WHERE issued_status = 'REVOKED'
    GROUP BY badge_id
)
SELECT
    c.badge_id,
    c.badge_name,
    coalesce(rc.customers_reached, 0) AS customers_reached,
    coalesce(a.customers_available, 0) AS customers_available,
    coalesce(ic.customers_issued, 0) AS customers_issued,
    coalesce(ec.customers_earned, 0) AS customers_earned,
    coalesce(ic.customers_issued_and_earned, 0) AS customers_issued_and_earned,
    coalesce(r.issuals_revoked, 0) AS issuals_revoked,
    ic.customers_issued_and_earned / nullif(ic.customers_issued, 0) AS issue_to_earn_rate
FROM {{ ref('badge_catalog') }} AS c
LEFT JOIN reached AS rc ON rc.badge_id = c.badge_id
LEFT JOIN available AS a ON a.badge_id = c.badge_id
LEFT JOIN issued_counts AS ic ON ic.badge_id = c.badge_id
LEFT JOIN earned_counts AS ec ON ec.badge_id = c.badge_id
LEFT JOIN revoked AS r ON r.badge_id = c.badge_id
ORDER BY c.badge_id
