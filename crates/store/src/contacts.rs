//! Contacts (customers) and the channel identities that lead to them; merging two contacts
//! moves identities and history to the one that stays.

use crate::{Result, Store, StoreError, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactRow {
    pub id: String,
    pub name: String,
    pub language: Option<String>,
    pub vip_tier: i64,
    pub kyc_level: i64,
    pub tags: String,
    pub attributes: String,
    pub notes: String,
    pub merged_into: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The e-mail address an anonymous chat visitor typed, sealed (`v1:` and base64); nobody
    /// proved it is theirs, so it finds no contact.
    pub unverified_email: Option<String>,
}

/// A channel identity as stored. `value` is its blind key (a keyed hash, which lookups match)
/// and `sealed` the value itself, encrypted; a row from before sealing has the value in clear
/// and no `sealed` until the application seals it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdentityRow {
    pub contact_id: String,
    pub kind: String,
    pub value: String,
    pub sealed: Option<String>,
    pub created_at: i64,
}

/// An identity ready to store: its kind, blind key and sealed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIdentity {
    pub kind: String,
    pub key: String,
    pub sealed: String,
}

/// Identities a contact update sets: every identity of `kinds` is replaced by `values`.
#[derive(Debug, Clone, Default)]
pub struct IdentityChanges {
    pub kinds: Vec<String>,
    pub values: Vec<StoredIdentity>,
}

#[derive(Debug, Clone)]
pub struct NewContact {
    pub id: String,
    pub name: String,
    pub language: Option<String>,
    pub vip_tier: i64,
    pub kyc_level: i64,
    pub tags: String,
    pub attributes: String,
    pub notes: String,
    pub identities: Vec<StoredIdentity>,
    /// Sealed, as `ContactRow::unverified_email`.
    pub unverified_email: Option<String>,
}

/// What a contact update sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactChanges {
    pub name: Option<String>,
    pub language: Option<Option<String>>,
    pub vip_tier: Option<i64>,
    pub kyc_level: Option<i64>,
    pub tags: Option<String>,
    pub attributes: Option<String>,
    pub notes: Option<String>,
    pub identities: Option<IdentityChanges>,
}

pub(crate) const CONTACT_COLUMNS: &str =
    "id, name, language, vip_tier, kyc_level, tags, attributes, notes, merged_into, created_at, updated_at, unverified_email";

pub(crate) const INSERT_CONTACT: &str = "INSERT INTO contacts (id, name, language, vip_tier, kyc_level, tags, attributes, notes, created_at, updated_at, \
       name_key, name_rest_key, unverified_email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12)";
pub(crate) const INSERT_IDENTITY: &str =
    "INSERT INTO contact_identities (kind, value, contact_id, created_at, sealed) VALUES ($1, $2, $3, $4, $5)";

/// Inserts a new contact and its identities inside the open transaction `$tx`; a taken
/// identity is a `Conflict`.
macro_rules! insert_contact_tx {
    ($tx:expr, $c:expr, $now:expr) => {{
        let c: &$crate::contacts::NewContact = $c;
        sqlx::query($crate::contacts::INSERT_CONTACT)
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.language)
            .bind(c.vip_tier)
            .bind(c.kyc_level)
            .bind(&c.tags)
            .bind(&c.attributes)
            .bind(&c.notes)
            .bind($now)
            .bind($crate::contacts::name_key(&c.name))
            .bind($crate::contacts::name_rest_key(&c.name))
            .bind(&c.unverified_email)
            .execute(&mut *$tx)
            .await?;
        for i in &c.identities {
            sqlx::query($crate::contacts::INSERT_IDENTITY)
                .bind(&i.kind)
                .bind(&i.key)
                .bind(&c.id)
                .bind($now)
                .bind(&i.sealed)
                .execute(&mut *$tx)
                .await
                .map_err($crate::StoreError::from_write)?;
        }
    }};
}
pub(crate) use insert_contact_tx;

/// The lower-cased name that name lookups match by prefix.
pub(crate) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// The name without its first word, so that a family name after a given name is found too
/// ("Sofia Rossi" by "ros"); a Chinese name without spaces loses its surname instead ("王小明"
/// by "小明"). Empty for a one-word Latin name.
pub(crate) fn name_rest_key(name: &str) -> String {
    let name = name.trim();
    if let Some(i) = name.find(char::is_whitespace) {
        return name[i..].trim_start().to_lowercase();
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if u32::from(c) >= 0x2E80 => chars.as_str().to_lowercase(),
        _ => String::new(),
    }
}

/// The bounds of a byte-wise range holding every text that starts with `prefix`.
fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_string(), format!("{prefix}\u{10FFFF}"))
}

/// `$1, $2, …` from `from`, for an `IN (…)` list.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    pub async fn insert_contact(&self, c: &NewContact, now: i64) -> Result<()> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            insert_contact_tx!(tx, c, now);
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn contact_by_id(&self, id: &str) -> Result<Option<ContactRow>> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?))
    }

    /// The contact an identity (by its blind key) belongs to.
    pub async fn contact_id_by_identity(&self, kind: &str, key: &str) -> Result<Option<String>> {
        Ok(read_pool!(self, |p| sqlx::query_scalar("SELECT contact_id FROM contact_identities WHERE kind = $1 AND value = $2")
            .bind(kind)
            .bind(key)
            .fetch_optional(p)
            .await?))
    }

    pub async fn identities_of(&self, contact_ids: &[String]) -> Result<Vec<IdentityRow>> {
        if contact_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT contact_id, kind, value, sealed, created_at FROM contact_identities WHERE contact_id IN ({}) ORDER BY created_at, value",
            placeholders(1, contact_ids.len())
        );
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in contact_ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await?
        }))
    }

    pub async fn contacts_by_ids(&self, ids: &[String]) -> Result<Vec<ContactRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id IN ({})", placeholders(1, ids.len()));
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await?
        }))
    }

    /// Contacts whose name or family or given name (see `name_rest_key`) starts with `q`
    /// (case-insensitive), or who have an identity with one of these blind keys (an e-mail, phone
    /// or account id given whole), newest first; merged-away contacts are left out. Names are
    /// prefix ranges over an index and keys exact matches, so the lookup costs the same at any size.
    pub async fn list_contacts(&self, q: Option<&str>, keys: &[String], before: Option<&str>, limit: i64) -> Result<Vec<ContactRow>> {
        let Some(q) = q else {
            let sql = format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE merged_into IS NULL AND ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT CAST($2 AS BIGINT)"
            );
            return Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(before)
                .bind(limit)
                .fetch_all(p)
                .await?));
        };
        let (lo, hi) = prefix_range(&q.to_lowercase());
        // PostgreSQL compares bytes only under the C collation, which its indexes are built with.
        let c = match self {
            Store::Sqlite(_) => "",
            Store::Postgres(_) => " COLLATE \"C\"",
        };
        let by_key = if keys.is_empty() {
            String::new()
        } else {
            format!(" UNION SELECT contact_id FROM contact_identities WHERE value IN ({})", placeholders(5, keys.len()))
        };
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE merged_into IS NULL AND ($1 IS NULL OR id < $1) AND id IN ( \
               SELECT id FROM contacts WHERE name_key{c} >= $2 AND name_key{c} < $3 \
               UNION SELECT id FROM contacts WHERE name_rest_key{c} >= $2 AND name_rest_key{c} < $3{by_key}) \
             ORDER BY id DESC LIMIT CAST($4 AS BIGINT)"
        );
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(before).bind(&lo).bind(&hi).bind(limit);
            for k in keys {
                q = q.bind(k);
            }
            q.fetch_all(p).await?
        }))
    }

    /// The contact that owns the strongest of these identities, given as (kind, blind key)
    /// (exchange user id, then e-mail, phone, Telegram), in one query.
    pub async fn contact_by_identities(&self, identities: &[(String, String)]) -> Result<Option<ContactRow>> {
        let wanted: Vec<&(String, String)> = identities.iter().filter(|(_, v)| !v.is_empty()).collect();
        if wanted.is_empty() {
            return Ok(None);
        }
        let pairs: Vec<String> = (0..wanted.len()).map(|i| format!("(i.kind = ${} AND i.value = ${})", 2 * i + 1, 2 * i + 2)).collect();
        let cols: Vec<String> = CONTACT_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect();
        let sql = format!(
            "SELECT {} FROM contact_identities i JOIN contacts c ON c.id = i.contact_id WHERE {} \
             ORDER BY CASE i.kind WHEN 'exchange_user' THEN 0 WHEN 'email' THEN 1 WHEN 'phone' THEN 2 ELSE 3 END, i.created_at LIMIT 1",
            cols.join(", "),
            pairs.join(" OR ")
        );
        Ok(read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for (k, v) in &wanted {
                q = q.bind(k).bind(v);
            }
            q.fetch_optional(p).await?
        }))
    }

    /// Applies `ch`; identities of the kinds named are replaced. A taken identity is a conflict.
    pub async fn update_contact(&self, id: &str, ch: &ContactChanges, now: i64) -> Result<bool> {
        let n = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE contacts SET name = COALESCE($2, name), \
                   language = CASE WHEN $3 THEN $4 ELSE language END, \
                   vip_tier = COALESCE($5, vip_tier), kyc_level = COALESCE($6, kyc_level), tags = COALESCE($7, tags), \
                   attributes = COALESCE($8, attributes), notes = COALESCE($9, notes), updated_at = $10, \
                   name_key = COALESCE($11, name_key), name_rest_key = COALESCE($12, name_rest_key) \
                 WHERE id = $1 AND merged_into IS NULL",
            )
            .bind(id)
            .bind(&ch.name)
            .bind(ch.language.is_some())
            .bind(ch.language.clone().flatten())
            .bind(ch.vip_tier)
            .bind(ch.kyc_level)
            .bind(&ch.tags)
            .bind(&ch.attributes)
            .bind(&ch.notes)
            .bind(now)
            .bind(ch.name.as_deref().map(name_key))
            .bind(ch.name.as_deref().map(name_rest_key))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1
                && let Some(ids) = &ch.identities
            {
                for k in &ids.kinds {
                    sqlx::query("DELETE FROM contact_identities WHERE contact_id = $1 AND kind = $2")
                        .bind(id)
                        .bind(k)
                        .execute(&mut *tx)
                        .await?;
                }
                for i in &ids.values {
                    sqlx::query(INSERT_IDENTITY)
                        .bind(&i.kind)
                        .bind(&i.key)
                        .bind(id)
                        .bind(now)
                        .bind(&i.sealed)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from_write)?;
                }
            }
            tx.commit().await?;
            n
        });
        Ok(n == 1)
    }

    /// Moves `source`'s identities, conversations and messages to `target` and marks `source`
    /// as merged into it, all at once. Returns false when either is missing or already merged.
    pub async fn merge_contacts(&self, target: &str, source: &str, now: i64) -> Result<bool> {
        let done = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let marked = sqlx::query(
                "UPDATE contacts SET merged_into = $1, updated_at = $3 WHERE id = $2 AND merged_into IS NULL \
                 AND EXISTS (SELECT 1 FROM contacts t WHERE t.id = $1 AND t.merged_into IS NULL)",
            )
            .bind(target)
            .bind(source)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 1 {
                sqlx::query("UPDATE contact_identities SET contact_id = $1 WHERE contact_id = $2")
                    .bind(target)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE conversations SET contact_id = $1 WHERE contact_id = $2")
                    .bind(target)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE messages SET author_id = $1 WHERE author_kind = 'customer' AND author_id = $2")
                    .bind(target)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE portal_access SET contact_id = $1 WHERE contact_id = $2")
                    .bind(target)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                // A chat visitor's key opened an unproven contact's chats; after a merge it would
                // open the other contact's history, so it opens nothing any more.
                sqlx::query("DELETE FROM chat_visitors WHERE contact_id = $1").bind(source).execute(&mut *tx).await?;
                sqlx::query("UPDATE contacts SET merged_into = $1 WHERE merged_into = $2")
                    .bind(target)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE contacts SET updated_at = $2 WHERE id = $1").bind(target).bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            marked == 1
        });
        Ok(done)
    }
}

impl Store {
    /// Contacts whose unverified e-mail is still in clear (not `v1:`-sealed), at most `limit`:
    /// (id, value).
    pub async fn clear_unverified_emails(&self, limit: i64) -> Result<Vec<(String, String)>> {
        Ok(read_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, unverified_email FROM contacts WHERE unverified_email IS NOT NULL AND unverified_email NOT LIKE 'v1:%' LIMIT CAST($1 AS BIGINT)"
        )
        .bind(limit)
        .fetch_all(p)
        .await?
        }))
    }

    /// Replaces a contact's unverified e-mail `old` by `new` (its sealed form, or a re-sealing).
    pub async fn replace_unverified_email(&self, id: &str, old: &str, new: &str) -> Result<()> {
        write_pool!(self, |p| {
            sqlx::query("UPDATE contacts SET unverified_email = $3 WHERE id = $1 AND unverified_email = $2")
                .bind(id)
                .bind(old)
                .bind(new)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Contacts with an unverified e-mail, in id order after `after`, at most `limit`: (id, value).
    pub async fn unverified_emails_after(&self, after: &str, limit: i64) -> Result<Vec<(String, String)>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT id, unverified_email FROM contacts WHERE unverified_email IS NOT NULL AND id > $1 ORDER BY id LIMIT CAST($2 AS BIGINT)"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// Identities still in clear (written before sealing), at most `limit`.
    pub async fn clear_identities(&self, limit: i64) -> Result<Vec<IdentityRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT contact_id, kind, value, sealed, created_at FROM contact_identities WHERE sealed IS NULL LIMIT CAST($1 AS BIGINT)"
        )
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// Identities in key order after (`kind`, `value`) (from the start when both are empty), at
    /// most `limit`: for sealing rows from before sealing and for re-sealing under a new key.
    pub async fn identities_after(&self, kind: &str, value: &str, limit: i64) -> Result<Vec<IdentityRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT contact_id, kind, value, sealed, created_at FROM contact_identities WHERE kind > $1 OR (kind = $1 AND value > $2) \
             ORDER BY kind, value LIMIT CAST($3 AS BIGINT)"
        )
        .bind(kind)
        .bind(value)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// Stores identity (`kind`, `value`) as `new`: its blind key and sealed value. When its key
    /// is already taken (two values written in clear that mean the same, such as one phone with
    /// and without `+`) the row is a duplicate and goes. False when the row is gone.
    pub async fn reseal_identity(&self, kind: &str, value: &str, new: &StoredIdentity) -> Result<bool> {
        let done = write_pool!(self, |p| {
            let r = sqlx::query("UPDATE contact_identities SET value = $3, sealed = $4 WHERE kind = $1 AND value = $2")
                .bind(kind)
                .bind(value)
                .bind(&new.key)
                .bind(&new.sealed)
                .execute(p)
                .await
                .map_err(StoreError::from_write);
            match r {
                Ok(r) => r.rows_affected() == 1,
                Err(StoreError::Conflict(_)) => {
                    sqlx::query("DELETE FROM contact_identities WHERE kind = $1 AND value = $2").bind(kind).bind(value).execute(p).await?;
                    false
                }
                Err(e) => return Err(e),
            }
        });
        Ok(done)
    }
}

/// What an erasure took away: the conversations to index again and the files no row refers
/// to any more (their bytes are deleted next).
#[derive(Debug, Default)]
pub struct Erased {
    pub conversation_ids: Vec<String>,
    pub unreferenced_blobs: Vec<String>,
}

/// The name an erased contact keeps.
pub const ERASED_NAME: &str = "Erased customer";
/// What an erased text reads.
pub const ERASED_TEXT: &str = "[erased]";

/// Within the open transaction `$tx`, takes out of conversation `$id` every message's text, its
/// subject, custom fields, rating comment and files (their blob keys are added to `$blobs`),
/// the bot's dialogue state, the notifications' excerpts and its portal links; what metrics
/// need stays.
macro_rules! erase_conversation_tx {
    ($tx:expr, $id:expr, $blobs:expr) => {{
        let files: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT blob_key, thumbnail_key FROM attachments WHERE conversation_id = $1")
                .bind($id)
                .fetch_all(&mut *$tx)
                .await?;
        for (key, thumb) in files {
            $blobs.push(key);
            $blobs.extend(thumb);
        }
        // (Statement, whether it takes the erased text as $2.)
        let statements = [
            ("DELETE FROM attachments WHERE conversation_id = $1", false),
            ("UPDATE messages SET body = $2, html = NULL, shield = NULL, mentions = '[]', actions = NULL WHERE conversation_id = $1", true),
            // A new version: open consoles reload it instead of showing what is gone.
            (
                "UPDATE conversations SET subject = $2, custom_fields = '{}', rating_comment = NULL, identity_check = NULL, \
                 version = version + 1 WHERE id = $1",
                true,
            ),
            ("UPDATE identity_checks SET destination = NULL, secret_hash = NULL WHERE conversation_id = $1", false),
            ("UPDATE activities SET data = '{}' WHERE conversation_id = $1 AND kind = 'subject_changed'", false),
            ("UPDATE notifications SET excerpt = $2 WHERE conversation_id = $1", true),
            ("DELETE FROM bot_sessions WHERE conversation_id = $1", false),
            ("DELETE FROM portal_access WHERE conversation_id = $1", false),
        ];
        for (sql, with_text) in statements {
            let q = sqlx::query(sql).bind($id);
            let q = if with_text { q.bind(ERASED_TEXT) } else { q };
            q.execute(&mut *$tx).await?;
        }
    }};
}

/// Within `$tx`, the blob keys of `$blobs` that no attachment refers to any more.
macro_rules! unreferenced_tx {
    ($tx:expr, $blobs:expr) => {{
        let mut blobs: Vec<String> = $blobs;
        blobs.sort();
        blobs.dedup();
        let mut unreferenced = Vec::new();
        for key in blobs {
            let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE blob_key = $1 OR thumbnail_key = $1")
                .bind(&key)
                .fetch_one(&mut *$tx)
                .await?;
            if used == 0 {
                unreferenced.push(key);
            }
        }
        unreferenced
    }};
}

impl Store {
    /// Erases a person (and the contacts merged into them) in one transaction: their
    /// identities, portal and chat keys and profile, and each of their conversations (see
    /// `erase_conversation_tx`). `None` when the contact does not exist or was merged away.
    pub async fn erase_contact(&self, contact_id: &str, now: i64) -> Result<Option<Erased>> {
        let erased = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let found: Option<(Option<String>,)> =
                sqlx::query_as("SELECT merged_into FROM contacts WHERE id = $1").bind(contact_id).fetch_optional(&mut *tx).await?;
            if !matches!(found, Some((None,))) {
                return Ok(None);
            }
            let conversation_ids: Vec<(String,)> =
                sqlx::query_as("SELECT id FROM conversations WHERE contact_id = $1").bind(contact_id).fetch_all(&mut *tx).await?;
            let conversation_ids: Vec<String> = conversation_ids.into_iter().map(|(id,)| id).collect();
            let mut blobs: Vec<String> = Vec::new();
            for id in &conversation_ids {
                erase_conversation_tx!(tx, id, blobs);
            }
            for sql in [
                "DELETE FROM contact_identities WHERE contact_id = $1 OR contact_id IN (SELECT id FROM contacts WHERE merged_into = $1)",
                "DELETE FROM chat_visitors WHERE contact_id = $1 OR contact_id IN (SELECT id FROM contacts WHERE merged_into = $1)",
                "DELETE FROM portal_access WHERE contact_id = $1 OR contact_id IN (SELECT id FROM contacts WHERE merged_into = $1)",
            ] {
                sqlx::query(sql).bind(contact_id).execute(&mut *tx).await?;
            }
            sqlx::query(
                "UPDATE contacts SET name = $2, name_key = $3, name_rest_key = '', language = NULL, tags = '[]', attributes = '{}', \
                 notes = '', unverified_email = NULL, updated_at = $4 WHERE id = $1 OR merged_into = $1",
            )
            .bind(contact_id)
            .bind(ERASED_NAME)
            .bind(name_key(ERASED_NAME))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let unreferenced_blobs = unreferenced_tx!(tx, blobs);
            tx.commit().await?;
            Some(Erased { conversation_ids, unreferenced_blobs })
        });
        Ok(erased)
    }
}

/// What the retention policy does to a closed conversation once its time is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// Its text and files go (as in an erasure); its shape stays for the metrics.
    Anonymise,
    /// It goes entirely, with its messages, changes and files.
    Delete,
}

impl Store {
    /// Applies `purge` to at most `limit` conversations closed before `closed_before` and not
    /// purged yet, each in its own transaction; what was purged, and the files nothing refers
    /// to any more.
    pub async fn purge_closed(&self, closed_before: i64, purge: Purge, now: i64, limit: i64) -> Result<Erased> {
        let due: Vec<(String,)> = read_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id FROM conversations WHERE status = 'closed' AND closed_at < $1 AND purged_at IS NULL ORDER BY closed_at LIMIT CAST($2 AS BIGINT)"
        )
        .bind(closed_before)
        .bind(limit)
        .fetch_all(p)
        .await?
        });
        let mut out = Erased::default();
        for (id,) in due {
            let unreferenced = write_pool!(self, |p| {
                let mut tx = p.begin().await?;
                let mut blobs: Vec<String> = Vec::new();
                match purge {
                    Purge::Anonymise => {
                        erase_conversation_tx!(tx, &id, blobs);
                        sqlx::query("UPDATE conversations SET purged_at = $2 WHERE id = $1").bind(&id).bind(now).execute(&mut *tx).await?;
                    }
                    Purge::Delete => {
                        let files: Vec<(String, Option<String>)> =
                            sqlx::query_as("SELECT blob_key, thumbnail_key FROM attachments WHERE conversation_id = $1")
                                .bind(&id)
                                .fetch_all(&mut *tx)
                                .await?;
                        for (key, thumb) in files {
                            blobs.push(key);
                            blobs.extend(thumb);
                        }
                        for sql in [
                            "UPDATE conversations SET merged_into = NULL WHERE merged_into = $1",
                            "DELETE FROM conversation_tags WHERE conversation_id = $1",
                            "DELETE FROM attachments WHERE conversation_id = $1",
                            "DELETE FROM bot_turns WHERE conversation_id = $1",
                            "DELETE FROM bot_sessions WHERE conversation_id = $1",
                            "DELETE FROM notifications WHERE conversation_id = $1",
                            "DELETE FROM identity_checks WHERE conversation_id = $1",
                            "DELETE FROM portal_access WHERE conversation_id = $1",
                            "DELETE FROM activities WHERE conversation_id = $1",
                            "DELETE FROM messages WHERE conversation_id = $1",
                            "DELETE FROM conversations WHERE id = $1",
                        ] {
                            sqlx::query(sql).bind(&id).execute(&mut *tx).await?;
                        }
                    }
                }
                let unreferenced = unreferenced_tx!(tx, blobs);
                tx.commit().await?;
                unreferenced
            });
            out.unreferenced_blobs.extend(unreferenced);
            out.conversation_ids.push(id);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_keys_find_given_and_family_names() {
        assert_eq!(name_key("Sofia Rossi"), "sofia rossi");
        assert_eq!(name_rest_key("Sofia  Rossi"), "rossi");
        assert_eq!(name_rest_key("María de la Cruz"), "de la cruz");
        assert_eq!(name_rest_key("王小明"), "小明");
        assert_eq!(name_rest_key("Alice"), "");
        assert_eq!(name_rest_key(""), "");
    }

    #[test]
    fn prefix_ranges_hold_exactly_the_prefixed() {
        let (lo, hi) = prefix_range("ros");
        for yes in ["ros", "rossi", "ros\u{10FFFE}"] {
            assert!(yes >= lo.as_str() && yes < hi.as_str(), "{yes}");
        }
        for no in ["roq", "rot", "ro"] {
            assert!(!(no >= lo.as_str() && no < hi.as_str()), "{no}");
        }
    }
}
