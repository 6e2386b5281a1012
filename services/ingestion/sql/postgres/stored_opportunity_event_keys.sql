-- Which of a batch's dedupe keys ($2 sources, $3 external ids) are taken:
-- rows stored before, whose replay is a duplicate.
SELECT k.source, k.external_id
FROM UNNEST($2::text[], $3::text[]) AS r (source, external_id)
JOIN opportunity_event_keys AS k
  ON k.tenant_id = $1 AND k.source = r.source AND k.external_id = r.external_id
