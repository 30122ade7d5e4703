-- records keeps no foreign keys (docs/PERFORMANCE.md, "Collection endpoint"): checking five parents for
-- every stored row cost more than the insert itself. Integrity holds without them: a record is written only
-- by RecordStore, inside the collection transaction that read its program, category, subject, collector and
-- data key, and none of those rows is ever deleted (programs retire, collectors are revoked, data keys stay as
-- tombstones, subjects stay). SQLite cannot drop a constraint, so the table is rebuilt with the same columns.
CREATE TABLE records_v12 (
    id           INTEGER PRIMARY KEY,
    program_id   integer     NOT NULL,
    category_id  integer     NOT NULL,
    subject_id   integer     NOT NULL,
    collector_id integer     NULL,
    data_key_id  integer     NOT NULL,
    captured_at  integer     NOT NULL,
    received_at  integer     NOT NULL,
    nonce        blob        NOT NULL,
    payload      blob        NOT NULL
);
INSERT INTO records_v12 (id, program_id, category_id, subject_id, collector_id, data_key_id, captured_at, received_at, nonce, payload)
    SELECT id, program_id, category_id, subject_id, collector_id, data_key_id, captured_at, received_at, nonce, payload FROM records;
DROP TABLE records;
ALTER TABLE records_v12 RENAME TO records;

-- The same indexes as before the rebuild.
CREATE INDEX ix_records_subject_program_category_captured ON records (subject_id, program_id, category_id, captured_at);
CREATE INDEX ix_records_captured ON records (captured_at);
CREATE INDEX ix_records_category_captured ON records (category_id, captured_at);
