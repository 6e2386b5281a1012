-- One firing per (rule, customer, episode): a retry finds the first.
INSERT INTO rule_firings (tenant_id, firing_id, rule_id, version, customer_id, trigger_kind,
                          event_kind, episode, fired_at, inputs, holdout, results)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '[]')
ON CONFLICT (tenant_id, rule_id, customer_id, episode) DO NOTHING
