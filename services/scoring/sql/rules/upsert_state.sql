INSERT INTO rule_states (tenant_id, rule_id, customer_id, matched, episode, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, rule_id, customer_id)
DO UPDATE SET matched = excluded.matched, episode = excluded.episode,
              updated_at = excluded.updated_at
