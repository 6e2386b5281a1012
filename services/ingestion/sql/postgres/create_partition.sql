-- One month of transactions; {name}, {from} and {to} are filled in by the
-- service from integers only.
CREATE TABLE IF NOT EXISTS {name} PARTITION OF transactions
FOR VALUES FROM ('{from}') TO ('{to}')
