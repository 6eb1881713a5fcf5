-- Chats answered by e-mail: the address an anonymous visitor typed in the pre-chat form (kept
-- on their contact, sealed under the master key like every identity; rows moved here from the
-- contact's attributes are sealed when the application next starts), and how far a chat's
-- replies have been mailed to a customer who was not there to read them.
ALTER TABLE contacts ADD COLUMN unverified_email TEXT;
UPDATE contacts SET unverified_email = attributes::jsonb ->> 'unverified_email',
  attributes = (attributes::jsonb - 'unverified_email')::text
  WHERE attributes LIKE '%unverified_email%' AND (attributes::jsonb ->> 'unverified_email') IS NOT NULL;
ALTER TABLE conversations ADD COLUMN emailed_seq BIGINT NOT NULL DEFAULT 0;
