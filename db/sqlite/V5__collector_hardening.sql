-- The SHA-256 of the body an Idempotency-Key was first used with, so a reuse with another body is refused.
-- NULL for answers stored before this version; they expire within 24 hours.

ALTER TABLE collect_requests ADD COLUMN request_sha256 blob NULL;
