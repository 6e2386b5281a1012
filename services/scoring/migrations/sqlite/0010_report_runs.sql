-- Report runs (ReportsService); see the Postgres migration of the same
-- number. Times are microseconds since the epoch.
CREATE TABLE report_runs (
    tenant_id          TEXT    NOT NULL,
    run_id             TEXT    NOT NULL,
    request_id         TEXT    NOT NULL,
    origin             TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    request            BLOB    NOT NULL,
    queued_at          INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER,
    customers_done     INTEGER NOT NULL DEFAULT 0,
    customers_expected INTEGER NOT NULL DEFAULT 0,
    error              TEXT    NOT NULL DEFAULT '',
    report             BLOB,
    lease_owner        TEXT,
    lease_until        INTEGER,
    PRIMARY KEY (tenant_id, run_id)
);

CREATE UNIQUE INDEX report_runs_request ON report_runs (tenant_id, request_id);
CREATE UNIQUE INDEX report_runs_active ON report_runs (tenant_id)
    WHERE state IN ('queued', 'running');
CREATE INDEX report_runs_newest ON report_runs (tenant_id, queued_at DESC, run_id DESC);
