-- Contact lookup that stays fast as contacts grow: the lower-cased name, the name without its
-- first word (or, for a Chinese name, without its surname) and identity values are matched by
-- prefix through indexes instead of `LIKE '%q%'` over every row. Prefix ranges
-- compare bytes (`COLLATE "C"`) whatever the database's collation is.

ALTER TABLE contacts ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN name_rest_key TEXT NOT NULL DEFAULT '';
-- The same keys as the application computes (contacts.rs: name_key, name_rest_key); 11904 is
-- U+2E80, where CJK begins.
UPDATE contacts SET name_key = LOWER(name),
  name_rest_key = CASE
    WHEN POSITION(' ' IN BTRIM(name)) > 0 THEN LOWER(LTRIM(SUBSTRING(BTRIM(name) FROM POSITION(' ' IN BTRIM(name)) + 1)))
    WHEN ASCII(BTRIM(name)) >= 11904 THEN SUBSTRING(BTRIM(name) FROM 2)
    ELSE '' END;
DROP INDEX contacts_name;
CREATE INDEX contacts_name_key ON contacts (name_key COLLATE "C");
CREATE INDEX contacts_name_rest_key ON contacts (name_rest_key COLLATE "C");
CREATE INDEX contact_identities_value ON contact_identities (value COLLATE "C");
