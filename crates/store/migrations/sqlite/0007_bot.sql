-- The support bot: its dialogue state per conversation, one row per customer message it
-- handled (for containment, handoff and unanswered-message reports), the examples admins added
-- to its training set, and the quick replies and article link a bot message carries.

CREATE TABLE bot_sessions (
    conversation_id  TEXT PRIMARY KEY REFERENCES conversations (id),
    -- `active`: the bot answers; `handed_off`: a person has it; `contained`: the bot settled it;
    -- `agent`: an agent stepped in without a handoff.
    status           TEXT NOT NULL,
    -- The dialogue state (JSON), owned by the bot.
    state            TEXT NOT NULL DEFAULT '{}',
    -- The customer's messages up to this seq have been answered.
    handled_seq      BIGINT NOT NULL DEFAULT 0,
    intent           TEXT,
    language         TEXT,
    handoff_reason   TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX bot_sessions_created ON bot_sessions (created_at);
CREATE INDEX bot_sessions_status ON bot_sessions (status, updated_at);

CREATE TABLE bot_turns (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    message_id       TEXT NOT NULL REFERENCES messages (id),
    intent           TEXT NOT NULL,
    -- Per mille, 0 to 1000.
    confidence       BIGINT NOT NULL,
    language         TEXT NOT NULL,
    -- `answered`, `flow`, `small_talk`, `not_understood`, `feedback`, `handoff`.
    outcome          TEXT NOT NULL,
    -- The handoff reason, or `no_answer`/`low_confidence` for what the bot could not answer.
    reason           TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX bot_turns_created ON bot_turns (created_at);

CREATE TABLE bot_examples (
    id          TEXT PRIMARY KEY,
    text        TEXT NOT NULL UNIQUE,
    intent      TEXT NOT NULL,
    lang        TEXT NOT NULL,
    created_by  TEXT REFERENCES agents (id),
    created_at  BIGINT NOT NULL
);

-- JSON: `{"buttons": [...], "article": {...}}` on bot messages; NULL elsewhere.
ALTER TABLE messages ADD COLUMN actions TEXT;
