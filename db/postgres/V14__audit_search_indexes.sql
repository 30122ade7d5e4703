-- The auditors' search pages newest first by seq (keyset, no OFFSET) under each filter; one index per
-- filter, ending in seq, lets the database walk only the matching events in seq order (docs/audit-log.md).
-- Subject and time already have theirs: ix_audit_events_subject (subject_id, seq), ix_audit_events_occurred.
CREATE INDEX ix_audit_events_actor ON audit_events (actor, seq);
CREATE INDEX ix_audit_events_action ON audit_events (action, seq);
CREATE INDEX ix_audit_events_program ON audit_events (program, seq);
