INSERT INTO customers (tenant_id, id, display_name, kind, email, phone, parent_id, stub, created_at, updated_at)
SELECT $1, *
FROM UNNEST($2::uuid[], $3::text[], $4::int4[], $5::text[], $6::text[], $7::uuid[], $8::bool[],
            $9::timestamptz[], $10::timestamptz[])
ON CONFLICT (tenant_id, id) DO UPDATE SET
    display_name = EXCLUDED.display_name,
    kind         = EXCLUDED.kind,
    email        = EXCLUDED.email,
    phone        = EXCLUDED.phone,
    parent_id    = EXCLUDED.parent_id,
    stub         = EXCLUDED.stub,
    updated_at   = EXCLUDED.updated_at
