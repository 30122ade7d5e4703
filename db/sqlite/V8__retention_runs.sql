-- Retention sweeps: one row per run, written when it starts and completed when it ends, so a run that
-- crashed half-way shows as never finished; what it deleted before the crash stays deleted.
CREATE TABLE retention_runs (
    id              INTEGER PRIMARY KEY,
    started_at      integer NOT NULL,
    finished_at     integer NULL,
    records_deleted integer NOT NULL DEFAULT 0,
    records_held    integer NOT NULL DEFAULT 0
);
CREATE INDEX ix_retention_runs_started ON retention_runs (started_at);

-- Per category of a finished run: what was deleted and what a legal hold kept past its retention.
CREATE TABLE retention_run_counts (
    run_id      integer NOT NULL REFERENCES retention_runs (id),
    category_id integer NOT NULL REFERENCES categories (id),
    deleted     integer NOT NULL,
    held        integer NOT NULL,
    PRIMARY KEY (run_id, category_id)
);

-- The sweep's batches look for a category's oldest records.
CREATE INDEX ix_records_category_captured ON records (category_id, captured_at);
