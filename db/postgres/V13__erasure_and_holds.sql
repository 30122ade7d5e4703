-- Erasure (docs/erasure.md). A data key is sealed when its scope is withdrawn, objected to or asked to be
-- erased: it still opens the records it sealed, but it never seals another one, so records collected
-- after a re-join get a new key and an erasure destroys exactly the keys of the records it erases.
ALTER TABLE data_keys ADD COLUMN sealed_at timestamptz NULL;
DROP INDEX ux_data_keys_live_scope;
-- One key per scope that may still seal new records; sealed and destroyed keys stay beside it.
CREATE UNIQUE INDEX ux_data_keys_live_scope ON data_keys (subject_id, program_id, category_id) WHERE destroyed_at IS NULL AND sealed_at IS NULL;
CREATE INDEX ix_data_keys_subject_sealed ON data_keys (subject_id, sealed_at);

-- Requests filed before keys were sealed (an open erasure or objection, or an upheld objection not yet erased):
-- a key is sealed at the earliest such request of its scope that came after its last record, so the request
-- covers it exactly. A key that went on sealing records after every request of its scope stays unsealed and
-- keeps those records (docs/erasure.md, "Requests from before V13").
-- legacy-seal:begin
UPDATE data_keys SET sealed_at = (
    SELECT min(q.received_at) FROM requests q
    WHERE q.subject_id = data_keys.subject_id
      AND (q.program_id IS NULL OR q.program_id = data_keys.program_id)
      AND (q.category_id IS NULL OR q.category_id = data_keys.category_id)
      AND q.receipt IS NULL
      AND ((q.kind IN ('erasure', 'objection') AND q.status IN ('received', 'in_progress')) OR (q.kind = 'objection' AND q.status = 'upheld'))
      AND q.received_at >= coalesce((SELECT max(r.received_at) FROM records r
                                     WHERE r.subject_id = data_keys.subject_id AND r.program_id = data_keys.program_id
                                       AND r.category_id = data_keys.category_id AND r.data_key_id = data_keys.id), data_keys.created_at))
WHERE sealed_at IS NULL AND destroyed_at IS NULL
  AND EXISTS (SELECT 1 FROM requests q WHERE q.subject_id = data_keys.subject_id AND q.receipt IS NULL AND q.kind IN ('erasure', 'objection'));
-- legacy-seal:end

-- Every destruction of data keys takes the next generation under this row's lock, so generations commit
-- in order; each node compares the generation with the last it saw and drops the destroyed keys it cached.
CREATE TABLE data_key_generation (
    id         integer PRIMARY KEY CHECK (id = 1),
    generation bigint  NOT NULL
);
INSERT INTO data_key_generation (id, generation) VALUES (1, 0);

CREATE TABLE data_key_destructions (
    generation  bigint NOT NULL,
    data_key_id bigint NOT NULL REFERENCES data_keys (id),
    PRIMARY KEY (generation, data_key_id)
);

-- Records an erasure request deleted, per category, added to in the transaction of each batch.
CREATE TABLE erasure_counts (
    request_id  bigint NOT NULL REFERENCES requests (id),
    category_id bigint NOT NULL REFERENCES categories (id),
    deleted     bigint NOT NULL,
    PRIMARY KEY (request_id, category_id)
);

-- Legal holds as privacy officers place them: the internal reason and case, who answers for it, when it
-- is reviewed, and the notice the employee reads; its release with a note.
ALTER TABLE legal_holds ADD COLUMN case_reference text NOT NULL DEFAULT '';
ALTER TABLE legal_holds ADD COLUMN responsible_officer text NOT NULL DEFAULT '';
ALTER TABLE legal_holds ADD COLUMN review_on timestamptz NULL;
ALTER TABLE legal_holds ADD COLUMN notice text NOT NULL DEFAULT '';
ALTER TABLE legal_holds ADD COLUMN release_note text NULL;
-- Until now the reason was what employees were shown.
UPDATE legal_holds SET notice = reason WHERE notice = '';
CREATE INDEX ix_legal_holds_subject ON legal_holds (subject_id) WHERE released_at IS NULL;

-- The records a hold kept back from an erasure request, counted when the sweep first met the hold.
CREATE TABLE erasure_holds (
    request_id bigint NOT NULL REFERENCES requests (id),
    hold_id    bigint NOT NULL REFERENCES legal_holds (id),
    kept_back  bigint NOT NULL,
    PRIMARY KEY (request_id, hold_id)
);
