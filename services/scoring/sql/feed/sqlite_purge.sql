DELETE FROM score_changes
 WHERE seq IN (SELECT seq FROM score_changes WHERE at < $1 ORDER BY at LIMIT $2)
RETURNING tenant_id, xid, seq
