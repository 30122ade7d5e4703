-- The two-person rule compares people, not email strings: an email can change or be re-pointed, a
-- subject id cannot. Pauses made before this are attributed by the email they recorded; a tool's
-- name (gp) matches no subject and stays null, and those pauses fall back to comparing names.
ALTER TABLE pauses ADD COLUMN paused_by_subject_id integer NULL REFERENCES subjects (id);
ALTER TABLE pauses ADD COLUMN resumed_by_subject_id integer NULL REFERENCES subjects (id);
UPDATE pauses SET paused_by_subject_id = (SELECT s.id FROM subjects s WHERE s.email = lower(pauses.paused_by));
UPDATE pauses SET resumed_by_subject_id = (SELECT s.id FROM subjects s WHERE s.email = lower(pauses.resumed_by)) WHERE resumed_by IS NOT NULL;
