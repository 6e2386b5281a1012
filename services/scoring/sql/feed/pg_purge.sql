DELETE FROM score_changes
 WHERE (tenant_id, xid, seq) IN (
        SELECT tenant_id, xid, seq
          FROM score_changes
         WHERE at < $1 AND xid < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY at
         LIMIT $2)
RETURNING tenant_id, xid::text::bigint AS xid, seq
