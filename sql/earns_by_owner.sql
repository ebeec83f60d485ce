-- earns_by_owner: earns per awarding owner, i.e. which program awarded them.
-- grain: owner_type x owner_reference_id found on earns (nulls form their own group)
-- key: owner_type, owner_reference_id
-- columns:
--   owner_type: Owner that awarded the earn (Loyalty, Milestones...); null when not given.
--   owner_reference_id: The awarding owner's reference (program id); null when not given.
--   earns: Earn records (any earn_status).
--   active_earns: Earn records whose earn_status is ACTIVE.
--   customers: Distinct customers (customer_id, identifier_type) among those earns.
--   badges: Distinct badges among those earns.
--   first_earned_at: Earliest earned_at of the group.
--   last_earned_at: Latest earned_at of the group.
SELECT
    owner_type,
    owner_reference_id,
    count(*) AS earns,
    count(*) FILTER (WHERE earn_status = 'ACTIVE') AS active_earns,
    count(DISTINCT (customer_id, identifier_type)) AS customers,
    count(DISTINCT badge_id) AS badges,
    min(earned_at) AS first_earned_at,
    max(earned_at) AS last_earned_at
FROM main.badge_earns
GROUP BY ALL
ORDER BY owner_type NULLS LAST, owner_reference_id NULLS LAST
