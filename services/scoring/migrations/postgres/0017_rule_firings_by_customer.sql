-- GetRuleStats samples the first customers in id order who fired for a rule
-- in a window: with the firing time in the (rule, customer) index that is an
-- index-only scan that stops at the sample's size, instead of a heap read per
-- firing (the episode index has no time) or a scan of every rule's firings
-- (the customer index has no rule). Built under the table's lock: a large
-- rule_firings holds rules firings for the build's length during the upgrade.
CREATE INDEX rule_firings_rule_customer
    ON rule_firings (tenant_id, rule_id, customer_id, fired_at);
