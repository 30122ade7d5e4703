-- The two-person rule compares people, not email strings: an email can change or pass to someone
-- else, a subject id cannot. Pauses made before this are attributed by the email they recorded; a
-- tool's name (gp) matches no subject and stays null, and only then do the names decide.
--
-- SQLite cannot change a CHECK in place, so pauses is rebuilt (pause_categories, which refers to
-- it, is set aside and restored around the rebuild so no foreign key is ever left dangling).
CREATE TABLE pause_categories_v6 AS SELECT pause_id, category_id FROM pause_categories;
DROP TABLE pause_categories;

CREATE TABLE pauses_v6 (
    id                    INTEGER PRIMARY KEY,
    program_id            integer     NOT NULL REFERENCES programs (id),
    paused_by             text        NOT NULL,
    paused_by_subject_id  integer     NULL REFERENCES subjects (id),
    paused_at             integer     NOT NULL,
    reason                text        NOT NULL CHECK (length(reason) > 0),
    resumed_by            text        NULL,
    resumed_by_subject_id integer     NULL REFERENCES subjects (id),
    resumed_at            integer     NULL,
    resolution            text        NULL,
    CHECK (resumed_by IS NULL OR CASE
        WHEN paused_by_subject_id IS NOT NULL AND resumed_by_subject_id IS NOT NULL THEN resumed_by_subject_id <> paused_by_subject_id
        ELSE lower(resumed_by) <> lower(paused_by) END)
);
INSERT INTO pauses_v6 (id, program_id, paused_by, paused_by_subject_id, paused_at, reason, resumed_by, resumed_by_subject_id, resumed_at, resolution)
SELECT id, program_id, paused_by, (SELECT s.id FROM subjects s WHERE s.email = lower(p.paused_by)), paused_at, reason,
       resumed_by, (SELECT s.id FROM subjects s WHERE s.email = lower(p.resumed_by)), resumed_at, resolution
FROM pauses p;
DROP TABLE pauses;
ALTER TABLE pauses_v6 RENAME TO pauses;
CREATE INDEX ix_pauses_program ON pauses (program_id, paused_at);

CREATE TABLE pause_categories (
    pause_id    integer NOT NULL REFERENCES pauses (id),
    category_id integer NOT NULL REFERENCES categories (id),
    PRIMARY KEY (pause_id, category_id)
);
INSERT INTO pause_categories (pause_id, category_id) SELECT pause_id, category_id FROM pause_categories_v6;
DROP TABLE pause_categories_v6;
