INSERT INTO score_change_horizons AS h (tenant_id, xid, seq)
VALUES ($1, CAST($2 AS INTEGER), $3)
ON CONFLICT (tenant_id) DO UPDATE SET xid = excluded.xid, seq = excluded.seq
 WHERE (h.xid, h.seq) < (excluded.xid, excluded.seq)
