-- Population figures of the tenants too large to read whole in a request
-- (more than scoring.inline_figures_limit scores): SummarizeScores and
-- GetCustomerEquity answer them, and the refresh worker recomputes them
-- once older than scoring.figures_max_age_seconds, a page of scores at a
-- time on the reader. One row per tenant and kind ('summary', 'equity'),
-- the answer stored as an encoded rapport.v1.SummarizeScoresResponse or
-- GetCustomerEquityResponse. No equity row before the tenant's first fit.
CREATE TABLE population_figures (
    tenant_id   uuid        NOT NULL,
    kind        text        NOT NULL,
    -- When the scores were read (the computation's start).
    as_of       timestamptz NOT NULL,
    customers   bigint      NOT NULL,
    duration_ms bigint      NOT NULL,
    response    bytea       NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);
