-- badge_catalog: every badge the snapshot mentions, with the best name known for it.
-- grain: badge: every badge_id found in badges, customer lists, details, issuals or earns
-- key: badge_id
-- columns:
--   badge_id: Badge meta id.
--   badge_name: badges.name; for a badge without a meta row, the alphabetically first name
--     the customer lists or details give it; null when no source names it.
--   has_meta: True when main.badges holds the badge (its meta call succeeded).
--   earn_type: badges.earn_type (EARN or ISSUE_EARN); null without meta.
--   status: badges.status (LIVE, UPCOMING, EXPIRED, ENDED); null without meta.
-- The other models take badge names from here, so a badge whose meta call failed keeps a name.
WITH mentioned AS (
    SELECT badge_id FROM main.badges
    UNION SELECT badge_id FROM main.customer_badges
    UNION SELECT badge_id FROM main.customer_badge_details
    UNION SELECT badge_id FROM main.badge_issuals
    UNION SELECT badge_id FROM main.badge_earns
),
listed_names AS (
    SELECT badge_id, min(badge_name) AS badge_name
    FROM (
        SELECT badge_id, badge_name FROM main.customer_badges
        UNION ALL
        SELECT badge_id, badge_name FROM main.customer_badge_details
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
LEFT JOIN main.badges AS b ON b.badge_id = m.badge_id
LEFT JOIN listed_names AS l ON l.badge_id = m.badge_id
WHERE m.badge_id IS NOT NULL
ORDER BY m.badge_id
