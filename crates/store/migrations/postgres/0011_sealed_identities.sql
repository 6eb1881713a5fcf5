-- Contact identities sealed at rest: `value` holds a blind key (a keyed hash of the e-mail,
-- phone or account id, which lookups match) and `sealed` the value encrypted under the master
-- key. The application seals rows written before this (sealed still NULL, value in clear) when
-- it first opens the master key.
ALTER TABLE contact_identities ADD COLUMN sealed TEXT;
