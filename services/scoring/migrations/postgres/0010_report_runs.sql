-- Report runs (ReportsService): a job per run, queued by StartReport or by
-- the refresh worker's schedule, leased by one worker at a time (lease_owner,
-- lease_until, renewed with every page of progress), its result stored as an
-- encoded rapport.v1.Report. At most one run per tenant is queued or running.
CREATE TABLE report_runs (
    tenant_id          uuid        NOT NULL,
    run_id             uuid        NOT NULL,
    -- The caller's idempotency key; the schedule's runs use "schedule:<run_id>".
    request_id         text        NOT NULL,
    origin             text        NOT NULL,
    -- queued, running, succeeded, failed
    state              text        NOT NULL,
    -- The rankings asked for, an encoded rapport.v1.StartReportRequest.
    request            bytea       NOT NULL,
    queued_at          timestamptz NOT NULL,
    started_at         timestamptz,
    finished_at        timestamptz,
    customers_done     bigint      NOT NULL DEFAULT 0,
    customers_expected bigint      NOT NULL DEFAULT 0,
    error              text        NOT NULL DEFAULT '',
    report             bytea,
    lease_owner        uuid,
    lease_until        timestamptz,
    PRIMARY KEY (tenant_id, run_id)
);

CREATE UNIQUE INDEX report_runs_request ON report_runs (tenant_id, request_id);
-- One active run per tenant, and the worker's look for work.
CREATE UNIQUE INDEX report_runs_active ON report_runs (tenant_id)
    WHERE state IN ('queued', 'running');
CREATE INDEX report_runs_newest ON report_runs (tenant_id, queued_at DESC, run_id DESC);
