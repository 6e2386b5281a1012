-- Population figures of large tenants; see the Postgres migration of the
-- same number. Times are microseconds since the epoch.
CREATE TABLE population_figures (
    tenant_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    as_of       INTEGER NOT NULL,
    customers   INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    response    BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);
