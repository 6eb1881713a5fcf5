-- Step-up identity checks: before a sensitive action (account unlock, 2FA reset, a change of
-- e-mail or phone, a withdrawal dispute, a hacked account) an agent asks the customer to prove
-- who they are through a channel already proven. `secret_hash` is the SHA-256 of the check's id
-- and the one-time code sent (never the code itself); `attempts` counts wrong answers.
CREATE TABLE identity_checks (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    method           TEXT NOT NULL CHECK (method IN ('email_code', 'exchange_totp', 'signed_session')),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'passed', 'failed', 'expired', 'cancelled')),
    reason           TEXT NOT NULL,
    destination      TEXT,
    secret_hash      TEXT,
    attempts         BIGINT NOT NULL DEFAULT 0,
    requested_by     TEXT NOT NULL REFERENCES agents(id),
    requested_by_name TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    completed_at     BIGINT
);
CREATE INDEX identity_checks_conversation ON identity_checks (conversation_id, created_at);

-- The latest check's public state (JSON, no secret), so that every reader of a conversation
-- has it without a second query; written in the same transaction as the check.
ALTER TABLE conversations ADD COLUMN identity_check TEXT;

-- Macros that act on the customer's account: disabled until the conversation's customer passed
-- an identity check.
ALTER TABLE macros ADD COLUMN sensitive BOOLEAN NOT NULL DEFAULT FALSE;
