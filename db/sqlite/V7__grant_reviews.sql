-- Access grants as a workflow: a data consumer asks (purpose, justification, end), privacy officers
-- review, an officer may end a grant early. People are compared by subject id, never by email.
-- approvals_needed is 2 when a category of sensitivity 'special' is asked for (the two-person rule).
ALTER TABLE grants ADD COLUMN principal_subject_id integer NULL REFERENCES subjects (id);
ALTER TABLE grants ADD COLUMN justification text NULL;
ALTER TABLE grants ADD COLUMN approvals_needed integer NOT NULL DEFAULT 1 CHECK (approvals_needed IN (1, 2));
ALTER TABLE grants ADD COLUMN denied_at integer NULL;
ALTER TABLE grants ADD COLUMN revoked_by_subject_id integer NULL REFERENCES subjects (id);
ALTER TABLE grants ADD COLUMN end_reason text NULL;
UPDATE grants SET principal_subject_id = (SELECT s.id FROM subjects s WHERE s.email = lower(grants.principal)) WHERE principal_kind = 'user';
CREATE INDEX ix_grants_principal_subject ON grants (principal_subject_id, expires_at);
CREATE INDEX ix_grants_program ON grants (program_id, expires_at);

-- One row per officer's decision. The unique index makes a second approval by the same officer, or
-- a double-submitted one, impossible whatever the caller does.
CREATE TABLE grant_reviews (
    id                 INTEGER PRIMARY KEY,
    grant_id           integer NOT NULL REFERENCES grants (id),
    officer            text    NOT NULL,
    officer_subject_id integer NOT NULL REFERENCES subjects (id),
    decision           text    NOT NULL CHECK (decision IN ('approve', 'deny')),
    note               text    NOT NULL CHECK (length(note) > 0),
    decided_at         integer NOT NULL,
    UNIQUE (grant_id, officer_subject_id)
);

-- The portal roles each person held at their last sign-in, so that a request nobody could approve
-- (no privacy officer other than the requester) is refused at once.
CREATE TABLE subject_roles (
    subject_id integer NOT NULL REFERENCES subjects (id),
    role       text    NOT NULL,
    seen_at    integer NOT NULL,
    PRIMARY KEY (subject_id, role)
);
CREATE INDEX ix_subject_roles_role ON subject_roles (role, subject_id);
