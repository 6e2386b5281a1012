-- The relay's lease on the rows it is delivering (microseconds).
ALTER TABLE outbox ADD COLUMN leased_until INTEGER;
