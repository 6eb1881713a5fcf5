-- The security shield's note on a message: the kinds of secrets taken out before it was stored
-- and the verdict on each link in it (JSON: `{"redacted": [...], "links": [...]}`); NULL when
-- there was nothing to note.
ALTER TABLE messages ADD COLUMN shield TEXT;
