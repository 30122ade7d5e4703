-- A provider identity is the issuer and its subject id; a subject first seen by a collector or the demo
-- data has no issuer until the person it names signs in (docs/sign-in.md).
ALTER TABLE subjects ADD COLUMN external_issuer text NULL;

-- Server-side sessions: the cookie names a session by a random key, of which only the SHA-256 is kept
-- here, so the table alone cannot be replayed as cookies. The ticket is the signed-in principal,
-- encrypted with the portal's data-protection keys. A session ends at sign-out, at "sign out
-- everywhere", or at expires_at (the absolute lifetime), whichever is first.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    key_hash     text    NOT NULL UNIQUE,
    subject_id   integer NOT NULL REFERENCES subjects (id),
    created_at   integer NOT NULL,
    renewed_at   integer NOT NULL,
    expires_at   integer NOT NULL,
    ended_at     integer NULL,
    ended_reason text    NULL,
    ticket       blob    NOT NULL
);
CREATE INDEX sessions_by_subject ON sessions (subject_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
