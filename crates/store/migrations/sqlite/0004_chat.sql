-- Live chat: visitors of the widget, whether a conversation's customer proved who they are, and
-- how far each side has read.

-- An anonymous visitor of the widget: its browser keeps a random key (only its hash is stored)
-- that opens this contact's chats, and nothing else.
CREATE TABLE chat_visitors (
    id               TEXT PRIMARY KEY,
    key_hash         TEXT NOT NULL UNIQUE,
    contact_id       TEXT NOT NULL REFERENCES contacts(id),
    created_at       BIGINT NOT NULL
);
CREATE INDEX chat_visitors_contact ON chat_visitors (contact_id);

-- NULL outside live chat; 1 when the exchange signed the customer's identity, 0 for a visitor.
ALTER TABLE conversations ADD COLUMN verified_identity BOOLEAN;
-- The highest message `seq` each side has seen.
ALTER TABLE conversations ADD COLUMN customer_read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN agent_read_seq BIGINT NOT NULL DEFAULT 0;
