-- The two-person rule compares people, not email strings: an email can change or pass to someone
-- else, a subject id cannot. Pauses made before this are attributed by the email they recorded; a
-- tool's name (gp) matches no subject and stays null, and only then do the names decide.
ALTER TABLE pauses ADD COLUMN paused_by_subject_id bigint NULL REFERENCES subjects (id);
ALTER TABLE pauses ADD COLUMN resumed_by_subject_id bigint NULL REFERENCES subjects (id);
UPDATE pauses SET paused_by_subject_id = (SELECT s.id FROM subjects s WHERE s.email = lower(pauses.paused_by));
UPDATE pauses SET resumed_by_subject_id = (SELECT s.id FROM subjects s WHERE s.email = lower(pauses.resumed_by)) WHERE resumed_by IS NOT NULL;
ALTER TABLE pauses DROP CONSTRAINT pauses_check;
ALTER TABLE pauses ADD CONSTRAINT pauses_resumed_by_another_officer CHECK (resumed_by IS NULL OR CASE
    WHEN paused_by_subject_id IS NOT NULL AND resumed_by_subject_id IS NOT NULL THEN resumed_by_subject_id <> paused_by_subject_id
    ELSE lower(resumed_by) <> lower(paused_by) END);
