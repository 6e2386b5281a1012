-- A publish asks for a schedule pass now, so customers who already match a
-- newly published version are evaluated within a poll rather than at the next
-- interval. An earlier due time is kept.
INSERT INTO rules_schedule (tenant_id, due_at, leased_until)
VALUES ($1, $2, NULL)
ON CONFLICT (tenant_id) DO UPDATE
SET due_at = CASE
    WHEN excluded.due_at < rules_schedule.due_at THEN excluded.due_at
    ELSE rules_schedule.due_at
END
