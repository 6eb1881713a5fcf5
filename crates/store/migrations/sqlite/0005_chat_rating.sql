-- Live chat: the customer's rating of a resolved chat (CSAT, 1 to 5, with an optional comment).
-- Rating again replaces it; `rated_at` says when it was last given.
ALTER TABLE conversations ADD COLUMN rating_score SMALLINT;
ALTER TABLE conversations ADD COLUMN rating_comment TEXT;
ALTER TABLE conversations ADD COLUMN rated_at BIGINT;

-- The live-chat queue: open chats that no agent has, oldest first.
CREATE INDEX conversations_chat_queue ON conversations (created_at) WHERE channel = 'chat' AND status = 'open' AND assignee_id IS NULL;
