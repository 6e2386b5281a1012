SELECT max_messages, window_hours, cool_down_hours, quiet_start_hour, quiet_end_hour
FROM contact_policies
WHERE tenant_id = $1
