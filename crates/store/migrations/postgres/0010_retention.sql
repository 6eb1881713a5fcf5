-- Retention: when a closed conversation's text was removed by the retention policy (it is then
-- skipped by later runs); the policy finds its candidates by when they closed.
ALTER TABLE conversations ADD COLUMN purged_at BIGINT;
CREATE INDEX conversations_closed ON conversations (closed_at);
