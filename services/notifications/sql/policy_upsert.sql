INSERT INTO contact_policies
    (tenant_id, max_messages, window_hours, cool_down_hours, quiet_start_hour, quiet_end_hour)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id) DO UPDATE
SET max_messages = excluded.max_messages, window_hours = excluded.window_hours,
    cool_down_hours = excluded.cool_down_hours,
    quiet_start_hour = excluded.quiet_start_hour, quiet_end_hour = excluded.quiet_end_hour
