-- Collection API: answers kept for Idempotency-Key retries (24 hours), and lookups the endpoint needs.

CREATE TABLE collect_requests (
    collector_id    integer     NOT NULL REFERENCES collectors (id),
    idempotency_key text        NOT NULL,
    created_at      integer     NOT NULL,
    response        text        NOT NULL,
    PRIMARY KEY (collector_id, idempotency_key)
);
CREATE INDEX ix_collect_requests_created ON collect_requests (created_at);

CREATE INDEX ix_collectors_program ON collectors (program_id, created_at);
CREATE INDEX ix_pause_categories_category ON pause_categories (category_id);
