-- Signed checkpoints of the audit log (docs/audit-log.md, "Checkpoints"): the Merkle root of the first
-- tree_size events, signed with the portal's signing key. One per size: two nodes signing the same size
-- at once keep the first, so no two different checkpoints of one size can exist.
CREATE TABLE audit_checkpoints (
    id         INTEGER PRIMARY KEY,
    origin     text    NOT NULL,
    tree_size  integer NOT NULL UNIQUE CHECK (tree_size >= 0),
    root_hash  text    NOT NULL,
    signed_at  integer NOT NULL,
    key_id     text    NOT NULL REFERENCES signing_keys (id),
    signature  blob    NOT NULL
);

-- Runs of the verification job: the live chain and every checkpoint checked; a failed run names the
-- first bad seq (when one event is to blame) and why, and the home page of officers and auditors shows it.
CREATE TABLE audit_verifications (
    id                  INTEGER PRIMARY KEY,
    started_at          integer NOT NULL,
    finished_at         integer NOT NULL,
    ok                  integer NOT NULL CHECK (ok IN (0, 1)),
    events_checked      integer NOT NULL,
    checkpoints_checked integer NOT NULL,
    first_bad_seq       integer NULL,
    problem             text    NULL
);
CREATE INDEX ix_audit_verifications_finished ON audit_verifications (finished_at);
