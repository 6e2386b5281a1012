-- GetRuleStats' sample of a rule's customers in a window; see the Postgres
-- migration of the same number.
CREATE INDEX rule_firings_rule_customer
    ON rule_firings (tenant_id, rule_id, customer_id, fired_at);
