-- records keeps no foreign keys (docs/PERFORMANCE.md, "Collection endpoint"): each stored row ran five
-- foreign-key triggers, each a row lock on a parent row that every concurrent batch also locks (the program,
-- its categories, the collector), and the COPY took nine times as long as into the same table without them.
-- Integrity holds without them: a record is written only by RecordStore, inside the collection transaction
-- that read its program, category, subject, collector and data key, and none of those rows is ever deleted
-- (programs retire, collectors are revoked, data keys stay as tombstones, subjects stay).
ALTER TABLE records DROP CONSTRAINT records_program_id_fkey;
ALTER TABLE records DROP CONSTRAINT records_category_id_fkey;
ALTER TABLE records DROP CONSTRAINT records_subject_id_fkey;
ALTER TABLE records DROP CONSTRAINT records_collector_id_fkey;
ALTER TABLE records DROP CONSTRAINT records_data_key_id_fkey;

-- A person's records in a program, newest first, at any depth, from the index alone (an index-only scan):
-- (captured_at, id) is the pages' order and category_id rides along for the one-category pages and the counts.
-- It replaces (subject_id, program_id, category_id, captured_at), so an insert updates as many indexes as before.
-- (SQLite keeps that one: it merges the categories' ranges of it in order, which PostgreSQL 15 does not.)
DROP INDEX ix_records_subject_program_category_captured;
CREATE INDEX ix_records_subject_program_captured ON records (subject_id, program_id, captured_at, id) INCLUDE (category_id);
