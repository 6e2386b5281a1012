SELECT firing_id, rule_id, version, customer_id, trigger_kind, event_kind, episode, fired_at,
       inputs, holdout, results
FROM rule_firings
WHERE tenant_id = $1
  AND ($2 = '' OR rule_id = $2)
  AND ($3 IS NULL OR customer_id = $3)
  AND (fired_at < $4 OR (fired_at = $4 AND firing_id < $5))
ORDER BY fired_at DESC, firing_id DESC
LIMIT $6
