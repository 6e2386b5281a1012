-- Marketing accepted for delivery since $3: how many since $4 (the cap's
-- window) and the latest (for the cool-down).
SELECT COALESCE(SUM(CASE WHEN created_at > $4 THEN 1 ELSE 0 END), 0) AS in_window,
       MAX(created_at) AS latest
FROM notifications
WHERE tenant_id = $1 AND customer_id = $2 AND purpose = 'marketing'
  AND status <> 'suppressed' AND created_at > $3
