-- The false -> true edge, taken by one evaluation only: a state already
-- matched keeps the episode it became true in.
INSERT INTO rule_states (tenant_id, rule_id, customer_id, matched, episode, updated_at)
VALUES ($1, $2, $3, true, $4, $5)
ON CONFLICT (tenant_id, rule_id, customer_id)
DO UPDATE SET matched = true, episode = excluded.episode, updated_at = excluded.updated_at
WHERE rule_states.matched = false
