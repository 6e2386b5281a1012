-- The partitions of applied_changes (in the service's schema).
SELECT c.relname::text
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'applied_changes'::regclass
