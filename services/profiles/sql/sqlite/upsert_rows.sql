INSERT INTO customers (tenant_id, id, display_name, kind, email, phone, parent_id, stub, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (tenant_id, id) DO UPDATE SET
    display_name = excluded.display_name,
    kind         = excluded.kind,
    email        = excluded.email,
    phone        = excluded.phone,
    parent_id    = excluded.parent_id,
    stub         = excluded.stub,
    updated_at   = excluded.updated_at
