-- Which of a batch's dedupe keys ($2 sources, $3 external ids, JSON arrays
-- of the same length) are taken: rows stored before, whose replay is a
-- duplicate.
SELECT k.source, k.external_id
FROM json_each($2) AS s
JOIN json_each($3) AS e ON e.key = s.key
JOIN opportunity_event_keys AS k
  ON k.tenant_id = $1 AND k.source = s.value AND k.external_id = e.value
