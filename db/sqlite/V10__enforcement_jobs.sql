-- Recurring jobs: one row per run, written when it starts and completed when it ends, so a run that
-- crashed shows as never finished and a failed one keeps the kind of error (never personal data).
CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job         text        NOT NULL,
    started_at  integer     NOT NULL,
    finished_at integer     NULL,
    failed      integer     NOT NULL DEFAULT 0 CHECK (failed IN (0, 1)),
    summary     text        NULL
);
CREATE INDEX ix_job_runs_job_started ON job_runs (job, started_at);

-- Pause checks: each check of a pause counts the records in its scope received after it committed
-- (while it held); anything but zero is an alert. review_due: open longer than Pauses:ReviewAfterDays.
CREATE TABLE pause_checks (
    id           INTEGER PRIMARY KEY,
    pause_id     integer     NOT NULL REFERENCES pauses (id),
    checked_at   integer     NOT NULL,
    late_records integer     NOT NULL CHECK (late_records >= 0),
    review_due   integer     NOT NULL CHECK (review_due IN (0, 1))
);
CREATE INDEX ix_pause_checks_pause ON pause_checks (pause_id, checked_at);

-- Grants past their end, marked by the expiry sweep (once: the audit event is written with the mark).
ALTER TABLE grants ADD COLUMN expired_at integer NULL;

-- Deadline flags raised by the deadline sweep: 'due_soon' (7 days before) or 'overdue', the time it was
-- raised and the deadline in force it was raised against (an extension makes it stale).
ALTER TABLE requests ADD COLUMN deadline_flag text NULL CHECK (deadline_flag IN ('due_soon', 'overdue'));
ALTER TABLE requests ADD COLUMN deadline_flagged_at integer NULL;
ALTER TABLE requests ADD COLUMN deadline_flagged_for integer NULL;
