-- The relay leases the rows it delivers and commits the lease at once, so no
-- database transaction stays open across the call to scoring; a relay that
-- dies mid-delivery leaves its rows to be taken again when the lease ends.
ALTER TABLE outbox ADD COLUMN leased_until timestamptz;
