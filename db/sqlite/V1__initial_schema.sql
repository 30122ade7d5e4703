-- Schema v1: the whole domain of DESIGN §3. Times are UTC, stored as integer microseconds since
-- 1970-01-01T00:00:00Z: exact, compact and cheap to index.

CREATE TABLE programs (
    id            INTEGER PRIMARY KEY,
    key           text        NOT NULL UNIQUE CHECK (key GLOB '[a-z0-9]*' AND key NOT GLOB '*[^a-z0-9-]*' AND length(key) <= 63),
    name          text        NOT NULL,
    purpose       text        NOT NULL,
    owner         text        NOT NULL,
    legal_basis   text        NOT NULL CHECK (legal_basis IN ('consent', 'legitimate_interest', 'legal_obligation')),
    state         text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'retired')),
    created_at    integer     NOT NULL,
    updated_at    integer     NOT NULL
);

CREATE TABLE categories (
    id             INTEGER PRIMARY KEY,
    program_id     integer     NOT NULL REFERENCES programs (id),
    key            text        NOT NULL CHECK (key GLOB '[a-z0-9]*' AND key NOT GLOB '*[^a-z0-9_-]*' AND length(key) <= 63),
    name           text        NOT NULL,
    description    text        NOT NULL DEFAULT '',
    sensitivity    text        NOT NULL CHECK (sensitivity IN ('low', 'medium', 'high', 'special')),
    retention_days integer     NOT NULL CHECK (retention_days > 0),
    paused         integer     NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    retired_at     integer     NULL,
    created_at     integer     NOT NULL,
    UNIQUE (program_id, key)
);

CREATE TABLE subjects (
    id              INTEGER PRIMARY KEY,
    external_id     text        NULL UNIQUE,
    email           text        NULL UNIQUE,
    display_name    text        NOT NULL,
    created_at      integer     NOT NULL,
    last_sign_in_at integer     NULL,
    CHECK (email IS NOT NULL OR external_id IS NOT NULL)
);

CREATE TABLE collectors (
    id               INTEGER PRIMARY KEY,
    program_id       integer     NOT NULL REFERENCES programs (id),
    name             text        NOT NULL,
    token_hash       blob        NOT NULL UNIQUE,
    created_by       text        NOT NULL,
    created_at       integer     NOT NULL,
    last_seen_at     integer     NULL,
    records_accepted integer     NOT NULL DEFAULT 0,
    revoked_at       integer     NULL,
    revoked_by       text        NULL
);

CREATE TABLE data_keys (
    id            INTEGER PRIMARY KEY,
    subject_id    integer     NOT NULL REFERENCES subjects (id),
    program_id    integer     NOT NULL REFERENCES programs (id),
    category_id   integer     NOT NULL REFERENCES categories (id),
    wrapped_key   blob        NULL,
    master_key_id text        NULL,
    created_at    integer     NOT NULL,
    destroyed_at  integer     NULL,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);
-- One live key per scope; a destroyed key stays as a tombstone and a later record gets a new key.
CREATE UNIQUE INDEX ux_data_keys_live_scope ON data_keys (subject_id, program_id, category_id) WHERE destroyed_at IS NULL;

CREATE TABLE records (
    id           INTEGER PRIMARY KEY,
    program_id   integer     NOT NULL REFERENCES programs (id),
    category_id  integer     NOT NULL REFERENCES categories (id),
    subject_id   integer     NOT NULL REFERENCES subjects (id),
    collector_id integer     NULL REFERENCES collectors (id),
    data_key_id  integer     NOT NULL REFERENCES data_keys (id),
    captured_at  integer     NOT NULL,
    received_at  integer     NOT NULL,
    nonce        blob        NOT NULL,
    payload      blob        NOT NULL
);
CREATE INDEX ix_records_subject_program_category_captured ON records (subject_id, program_id, category_id, captured_at);
CREATE INDEX ix_records_captured ON records (captured_at);

CREATE TABLE revocations (
    id           INTEGER PRIMARY KEY,
    subject_id   integer     NOT NULL REFERENCES subjects (id),
    program_id   integer     NOT NULL REFERENCES programs (id),
    category_id  integer     NULL REFERENCES categories (id),
    kind         text        NOT NULL CHECK (kind IN ('withdrawal', 'objection')),
    created_at   integer     NOT NULL,
    withdrawn_at integer     NULL
);
CREATE INDEX ix_revocations_subject_program ON revocations (subject_id, program_id);

CREATE TABLE pauses (
    id          INTEGER PRIMARY KEY,
    program_id  integer     NOT NULL REFERENCES programs (id),
    paused_by   text        NOT NULL,
    paused_at   integer     NOT NULL,
    reason      text        NOT NULL CHECK (length(reason) > 0),
    resumed_by  text        NULL,
    resumed_at  integer     NULL,
    resolution  text        NULL,
    CHECK (resumed_by IS NULL OR resumed_by <> paused_by)
);
CREATE INDEX ix_pauses_program ON pauses (program_id, paused_at);

-- A pause with no rows here covers the whole program.
CREATE TABLE pause_categories (
    pause_id    integer NOT NULL REFERENCES pauses (id),
    category_id integer NOT NULL REFERENCES categories (id),
    PRIMARY KEY (pause_id, category_id)
);

CREATE TABLE legal_holds (
    id          INTEGER PRIMARY KEY,
    subject_id  integer     NULL REFERENCES subjects (id),
    program_id  integer     NULL REFERENCES programs (id),
    reason      text        NOT NULL CHECK (length(reason) > 0),
    placed_by   text        NOT NULL,
    placed_at   integer     NOT NULL,
    released_by text        NULL,
    released_at integer     NULL,
    CHECK (subject_id IS NOT NULL OR program_id IS NOT NULL)
);

CREATE TABLE grants (
    id             INTEGER PRIMARY KEY,
    principal_kind text        NOT NULL CHECK (principal_kind IN ('user', 'group')),
    principal      text        NOT NULL,
    program_id     integer     NOT NULL REFERENCES programs (id),
    purpose        text        NOT NULL CHECK (length(purpose) > 0),
    requested_by   text        NOT NULL,
    requested_at   integer     NOT NULL,
    approved_by    text        NULL,
    approved_at    integer     NULL,
    expires_at     integer     NOT NULL,
    revoked_by     text        NULL,
    revoked_at     integer     NULL,
    CHECK (approved_by IS NULL OR approved_by <> requested_by)
);
CREATE INDEX ix_grants_principal ON grants (principal_kind, principal);

CREATE TABLE grant_categories (
    grant_id    integer NOT NULL REFERENCES grants (id),
    category_id integer NOT NULL REFERENCES categories (id),
    PRIMARY KEY (grant_id, category_id)
);

CREATE TABLE requests (
    id               INTEGER PRIMARY KEY,
    reference        text        NOT NULL UNIQUE,
    subject_id       integer     NOT NULL REFERENCES subjects (id),
    kind             text        NOT NULL CHECK (kind IN ('export', 'erasure', 'objection')),
    program_id       integer     NULL REFERENCES programs (id),
    category_id      integer     NULL REFERENCES categories (id),
    status           text        NOT NULL CHECK (status IN ('received', 'in_progress', 'completed', 'upheld', 'rejected')),
    received_at      integer     NOT NULL,
    due_at           integer     NOT NULL,
    extended_due_at  integer     NULL,
    extension_reason text        NULL,
    decided_by       text        NULL,
    decision_reason  text        NULL,
    completed_at     integer     NULL,
    receipt          text        NULL
);
CREATE INDEX ix_requests_subject ON requests (subject_id, received_at);
CREATE INDEX ix_requests_status_due ON requests (status, due_at);

-- Append-only and hash-chained (DESIGN §5.4): seq is assigned by the writer under a lock, no gaps.
CREATE TABLE audit_events (
    seq          integer     PRIMARY KEY CHECK (seq > 0),
    occurred_at  integer     NOT NULL,
    actor        text        NOT NULL,
    actor_roles  text        NOT NULL,
    action       text        NOT NULL,
    subject_id   integer     NULL,
    program      text        NULL,
    purpose      text        NULL,
    detail       text        NULL,
    record_count integer     NULL,
    prev_hash    text        NOT NULL,
    hash         text        NOT NULL UNIQUE
);
CREATE INDEX ix_audit_events_subject ON audit_events (subject_id, seq);
CREATE INDEX ix_audit_events_occurred ON audit_events (occurred_at);

-- Keys for ASP.NET data protection, shared by every portal node.
CREATE TABLE data_protection_keys (
    friendly_name text PRIMARY KEY,
    xml           text        NOT NULL,
    created_at    integer     NOT NULL
);
