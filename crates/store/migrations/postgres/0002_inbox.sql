-- Unified inbox: contacts and their channel identities, conversations (tickets) with their
-- messages, tags and activity timeline, attachments, teams, canned responses, macros,
-- saved views, mention notifications and customer portal access.

CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
-- Conversation numbers start at #10001 so they never look like small row counts.
INSERT INTO counters (name, value) VALUES ('conversation_number', 10000);

CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    language     TEXT,
    vip_tier     BIGINT NOT NULL DEFAULT 0,
    kyc_level    BIGINT NOT NULL DEFAULT 0,
    tags         TEXT NOT NULL DEFAULT '[]',
    attributes   TEXT NOT NULL DEFAULT '{}',
    notes        TEXT NOT NULL DEFAULT '',
    merged_into  TEXT REFERENCES contacts(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX contacts_name ON contacts (name);

-- One row per way of reaching a person: e-mail, phone, exchange user id, Telegram id.
CREATE TABLE contact_identities (
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'phone', 'exchange_user', 'telegram')),
    value       TEXT NOT NULL,
    contact_id  TEXT NOT NULL REFERENCES contacts(id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    private     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    agent_id  TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members (agent_id);

CREATE TABLE conversations (
    id                 TEXT PRIMARY KEY,
    number             BIGINT NOT NULL UNIQUE,
    channel            TEXT NOT NULL,
    subject            TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('open', 'pending', 'on_hold', 'resolved', 'closed')),
    -- 0 low, 1 normal, 2 high, 3 urgent: a number so that views sort by it with an index.
    priority           BIGINT NOT NULL,
    contact_id         TEXT NOT NULL REFERENCES contacts(id),
    assignee_id        TEXT REFERENCES agents(id),
    team_id            TEXT REFERENCES teams(id),
    language           TEXT,
    intent             TEXT,
    custom_fields      TEXT NOT NULL DEFAULT '{}',
    merged_into        TEXT REFERENCES conversations(id),
    last_seq           BIGINT NOT NULL DEFAULT 0,
    message_count      BIGINT NOT NULL DEFAULT 0,
    -- Set while a customer message waits for an agent's public reply.
    waiting_since      BIGINT,
    first_response_at  BIGINT,
    resolved_at        BIGINT,
    closed_at          BIGINT,
    last_activity_at   BIGINT NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX conversations_activity ON conversations (last_activity_at, id);
CREATE INDEX conversations_status_activity ON conversations (status, last_activity_at, id);
CREATE INDEX conversations_assignee_activity ON conversations (assignee_id, status, last_activity_at);
CREATE INDEX conversations_team ON conversations (team_id, status);
CREATE INDEX conversations_contact ON conversations (contact_id, last_activity_at);

CREATE TABLE conversation_tags (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    tag              TEXT NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
CREATE INDEX conversation_tags_tag ON conversation_tags (tag);

CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    seq              BIGINT NOT NULL,
    author_kind      TEXT NOT NULL CHECK (author_kind IN ('customer', 'agent', 'bot', 'system')),
    author_id        TEXT,
    author_name      TEXT NOT NULL,
    private          BOOLEAN NOT NULL DEFAULT FALSE,
    body             TEXT NOT NULL,
    html             TEXT,
    channel          TEXT NOT NULL,
    client_key       TEXT,
    mentions         TEXT NOT NULL DEFAULT '[]',
    delivery         TEXT NOT NULL DEFAULT '{}',
    created_at       BIGINT NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, client_key)
);

CREATE TABLE activities (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    actor_kind       TEXT NOT NULL,
    actor_id         TEXT,
    actor_name       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    data             TEXT NOT NULL DEFAULT '{}',
    created_at       BIGINT NOT NULL
);
CREATE INDEX activities_conversation ON activities (conversation_id, created_at);

CREATE TABLE attachments (
    id               TEXT PRIMARY KEY,
    blob_key         TEXT NOT NULL,
    thumbnail_key    TEXT,
    filename         TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    inline_safe      BOOLEAN NOT NULL,
    uploader_kind    TEXT NOT NULL CHECK (uploader_kind IN ('agent', 'customer')),
    uploader_id      TEXT NOT NULL,
    conversation_id  TEXT REFERENCES conversations(id),
    message_id       TEXT REFERENCES messages(id),
    created_at       BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_conversation ON attachments (conversation_id);

-- owner_id '' marks a response shared with everyone; otherwise it is that agent's own.
CREATE TABLE canned_responses (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL DEFAULT '',
    shortcut    TEXT NOT NULL,
    title       TEXT NOT NULL,
    locale      TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (owner_id, shortcut, locale)
);

CREATE TABLE macros (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL,
    actions     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);

CREATE TABLE saved_views (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    shared      BOOLEAN NOT NULL DEFAULT FALSE,
    filters     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);

CREATE TABLE notifications (
    id               TEXT PRIMARY KEY,
    agent_id         TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    message_id       TEXT,
    actor_name       TEXT NOT NULL,
    excerpt          TEXT NOT NULL,
    read_at          BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX notifications_agent ON notifications (agent_id, created_at);

-- Portal access: a magic link or a signed-in session. A link from the ticket form opens
-- only that ticket (conversation_id set); a verified identity opens all of the contact's.
CREATE TABLE portal_access (
    id               TEXT PRIMARY KEY,
    token_hash       TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('link', 'session')),
    contact_id       TEXT NOT NULL REFERENCES contacts(id),
    conversation_id  TEXT REFERENCES conversations(id),
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
