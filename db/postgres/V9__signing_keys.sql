-- The portal's signing keys (ECDSA P-256): checkpoints of the audit log, export manifests and erasure
-- receipts are signed with the current one. A rotated key is retired, never deleted, so what it signed
-- stays verifiable. The private key is stored sealed under the master key, as data keys are.
CREATE TABLE signing_keys (
    id                  text        PRIMARY KEY,
    algorithm           text        NOT NULL,
    public_key          bytea       NOT NULL,
    sealed_private_key  bytea       NOT NULL,
    master_key_id       text        NOT NULL,
    created_at          timestamptz NOT NULL,
    retired_at          timestamptz NULL
);
-- At most one current key.
CREATE UNIQUE INDEX ux_signing_keys_current ON signing_keys (algorithm) WHERE retired_at IS NULL;
