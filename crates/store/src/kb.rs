//! The help center's tables: categories and sections, articles with their versions, the change
//! counter search indexes catch up from, reader feedback and search analytics.

use crate::{Result, Store, StoreError, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KbCategoryRow {
    pub id: String,
    pub slug: String,
    pub parent_id: Option<String>,
    pub position: i64,
    pub icon: String,
    pub names: String,
    pub descriptions: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct KbArticleRow {
    pub id: String,
    pub slug: String,
    pub kind: String,
    pub locale: String,
    pub group_id: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub category_id: Option<String>,
    pub section_id: Option<String>,
    pub tags: String,
    pub related: String,
    pub status: String,
    pub version: i64,
    pub revision: i64,
    pub author_id: Option<String>,
    pub author_name: String,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KbVersionRow {
    pub article_id: String,
    pub version: i64,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub status: String,
    pub author_id: Option<String>,
    pub author_name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct KbArticleFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub locale: Option<String>,
    pub category_id: Option<String>,
    pub section_id: Option<String>,
    pub group_id: Option<String>,
    /// Part of the title or slug.
    pub q: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One search as recorded for analytics, or a click on one of its results.
#[derive(Debug, Clone)]
pub enum KbSearchEvent {
    Search { id: String, query: String, locale: String, source: String, results: i64, created_at: i64 },
    Click { search_id: String, article_id: String },
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KbQueryStat {
    pub query: String,
    pub searches: i64,
    pub avg_results: f64,
    pub clicks: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KbFeedbackStat {
    pub article_id: String,
    pub helpful_yes: i64,
    pub helpful_no: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KbCommentRow {
    pub article_id: String,
    pub helpful: bool,
    pub comment: String,
    pub created_at: i64,
}

const ARTICLE_COLUMNS: &str = "id, slug, kind, locale, group_id, title, summary, body, category_id, section_id, tags, related, status, version, \
     revision, author_id, author_name, helpful_yes, helpful_no, created_at, updated_at, published_at";

const CATEGORY_COLUMNS: &str = "id, slug, parent_id, position, icon, names, descriptions, updated_at";

const BUMP_REVISION: &str = "UPDATE kb_state SET revision = revision + 1 WHERE id = 1 RETURNING revision";

const INSERT_VERSION: &str = "INSERT INTO kb_article_versions (article_id, version, title, summary, body, status, author_id, author_name, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

macro_rules! bind_article {
    ($query:expr, $a:expr) => {
        $query
            .bind(&$a.id)
            .bind(&$a.slug)
            .bind(&$a.kind)
            .bind(&$a.locale)
            .bind(&$a.group_id)
            .bind(&$a.title)
            .bind(&$a.summary)
            .bind(&$a.body)
            .bind(&$a.category_id)
            .bind(&$a.section_id)
            .bind(&$a.tags)
            .bind(&$a.related)
            .bind(&$a.status)
            .bind($a.version)
            .bind($a.revision)
            .bind(&$a.author_id)
            .bind(&$a.author_name)
            .bind($a.created_at)
            .bind($a.updated_at)
            .bind($a.published_at)
    };
}

macro_rules! bind_version {
    ($query:expr, $a:expr) => {
        $query
            .bind(&$a.id)
            .bind($a.version)
            .bind(&$a.title)
            .bind(&$a.summary)
            .bind(&$a.body)
            .bind(&$a.status)
            .bind(&$a.author_id)
            .bind(&$a.author_name)
            .bind($a.updated_at)
    };
}

const INSERT_ARTICLE: &str = "INSERT INTO kb_articles (id, slug, kind, locale, group_id, title, summary, body, category_id, section_id, tags, \
     related, status, version, revision, author_id, author_name, created_at, updated_at, published_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";

/// Replaces everything an editor changes; `$21` is the version the editor saw. `created_at`
/// (`$18`, bound for both statements alike) never changes once set.
const UPDATE_ARTICLE: &str = "UPDATE kb_articles SET slug = $2, kind = $3, locale = $4, group_id = $5, title = $6, summary = $7, body = $8, \
     category_id = $9, section_id = $10, tags = $11, related = $12, status = $13, version = $14, revision = $15, author_id = $16, \
     author_name = $17, created_at = COALESCE(created_at, $18), updated_at = $19, published_at = $20 WHERE id = $1 AND version = $21";

impl Store {
    // ---- categories ----

    pub async fn kb_categories(&self) -> Result<Vec<KbCategoryRow>> {
        let sql = format!("SELECT {CATEGORY_COLUMNS} FROM kb_categories ORDER BY position, slug");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
    }

    /// Inserts the category, or replaces the one with its slug; returns its id.
    pub async fn upsert_kb_category(&self, c: &KbCategoryRow) -> Result<String> {
        let id: String = write_pool!(self, |p| sqlx::query_scalar(
            "INSERT INTO kb_categories (id, slug, parent_id, position, icon, names, descriptions, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (slug) DO UPDATE SET parent_id = excluded.parent_id, \
             position = excluded.position, icon = excluded.icon, names = excluded.names, descriptions = excluded.descriptions, \
             updated_at = excluded.updated_at RETURNING id"
        )
        .bind(&c.id)
        .bind(&c.slug)
        .bind(&c.parent_id)
        .bind(c.position)
        .bind(&c.icon)
        .bind(&c.names)
        .bind(&c.descriptions)
        .bind(c.updated_at)
        .fetch_one(p)
        .await
        .map_err(StoreError::from_write)?);
        Ok(id)
    }

    /// Changes a category by id; a slug taken by another category is a conflict.
    pub async fn update_kb_category(&self, c: &KbCategoryRow) -> Result<bool> {
        let n = write_pool!(self, |p| {
            sqlx::query(
            "UPDATE kb_categories SET slug = $2, parent_id = $3, position = $4, icon = $5, names = $6, descriptions = $7, updated_at = $8 \
             WHERE id = $1"
        )
        .bind(&c.id)
        .bind(&c.slug)
        .bind(&c.parent_id)
        .bind(c.position)
        .bind(&c.icon)
        .bind(&c.names)
        .bind(&c.descriptions)
        .bind(c.updated_at)
        .execute(p)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected()
        });
        Ok(n == 1)
    }

    /// Deletes a category and its sections; their articles keep existing, uncategorised.
    pub async fn delete_kb_category(&self, id: &str) -> Result<bool> {
        let n = write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let revision: i64 = sqlx::query_scalar(BUMP_REVISION).fetch_one(&mut *tx).await?;
            sqlx::query(
                "UPDATE kb_articles SET revision = $2 WHERE category_id = $1 OR section_id = $1 \
                 OR section_id IN (SELECT id FROM kb_categories WHERE parent_id = $1)",
            )
            .bind(id)
            .bind(revision)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE kb_articles SET section_id = NULL WHERE section_id IN (SELECT id FROM kb_categories WHERE parent_id = $1)")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM kb_categories WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            n
        });
        Ok(n == 1)
    }

    // ---- articles ----

    pub async fn kb_article(&self, id: &str) -> Result<Option<KbArticleRow>> {
        let sql = format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE id = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?))
    }

    pub async fn kb_article_by_slug(&self, slug: &str) -> Result<Option<KbArticleRow>> {
        let sql = format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE slug = $1");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(slug).fetch_optional(p).await?))
    }

    /// Articles by slug, in no particular order; unknown slugs are left out.
    pub async fn kb_articles_by_slugs(&self, slugs: &[String]) -> Result<Vec<KbArticleRow>> {
        self.kb_articles_where_in("slug", slugs).await
    }

    /// Articles by id; unknown ids are left out.
    pub async fn kb_articles_by_ids(&self, ids: &[String]) -> Result<Vec<KbArticleRow>> {
        self.kb_articles_where_in("id", ids).await
    }

    /// Every article of these translation groups.
    pub async fn kb_articles_in_groups(&self, groups: &[String]) -> Result<Vec<KbArticleRow>> {
        self.kb_articles_where_in("group_id", groups).await
    }

    /// Articles whose `column` (a fixed name, never input) is one of `values`.
    async fn kb_articles_where_in(&self, column: &'static str, values: &[String]) -> Result<Vec<KbArticleRow>> {
        let mut out = Vec::new();
        for chunk in values.chunks(200) {
            let marks = crate::contacts::placeholders(1, chunk.len());
            let sql = format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE {column} IN ({marks}) ORDER BY locale");
            let rows: Vec<KbArticleRow> = read_pool!(self, |p| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for v in chunk {
                    q = q.bind(v);
                }
                q.fetch_all(p).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Articles matching `f`, newest change first; and how many match in all.
    pub async fn kb_articles(&self, f: &KbArticleFilter) -> Result<(Vec<KbArticleRow>, i64)> {
        let mut conditions = Vec::new();
        let mut args: Vec<String> = Vec::new();
        let mut add = |column: &str, value: &Option<String>| {
            if let Some(v) = value {
                args.push(v.clone());
                conditions.push(format!("{column} = ${}", args.len()));
            }
        };
        add("status", &f.status);
        add("kind", &f.kind);
        add("locale", &f.locale);
        add("category_id", &f.category_id);
        add("section_id", &f.section_id);
        add("group_id", &f.group_id);
        if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
            args.push(crate::contains_pattern(q.trim()));
            let n = args.len();
            conditions.push(format!("(LOWER(title) LIKE ${n} ESCAPE '\\' OR slug LIKE ${n} ESCAPE '\\')"));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let list = format!(
            "SELECT {ARTICLE_COLUMNS} FROM kb_articles {filter} ORDER BY updated_at DESC, id LIMIT {} OFFSET {}",
            f.limit.clamp(1, 10_000),
            f.offset.max(0)
        );
        let count = format!("SELECT COUNT(*) FROM kb_articles {filter}");
        read_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(list.as_str()));
            let mut c = sqlx::query_scalar(sqlx::AssertSqlSafe(count.as_str()));
            for a in &args {
                q = q.bind(a);
                c = c.bind(a);
            }
            Ok((q.fetch_all(p).await?, c.fetch_one(p).await?))
        })
    }

    /// Published articles of one kind in one locale, newest publication first.
    pub async fn kb_latest(&self, kind: &str, locale: &str, limit: i64) -> Result<Vec<KbArticleRow>> {
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE status = 'published' AND kind = $1 AND locale = $2 \
             ORDER BY published_at DESC, id LIMIT CAST($3 AS BIGINT)"
        );
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(kind).bind(locale).bind(limit).fetch_all(p).await?))
    }

    /// Every published article, for the help center's lists and the sitemap.
    /// Lists need no article text: `body` comes back empty.
    pub async fn kb_published(&self) -> Result<Vec<KbArticleRow>> {
        let columns = ARTICLE_COLUMNS.replace(" body,", " '' AS body,");
        let sql = format!("SELECT {columns} FROM kb_articles WHERE status = 'published' ORDER BY slug");
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
    }

    /// The current change counter and rebuild counter.
    pub async fn kb_state(&self) -> Result<(i64, i64)> {
        Ok(read_pool!(self, |p| sqlx::query_as("SELECT revision, rebuild FROM kb_state WHERE id = 1").fetch_one(p).await?))
    }

    /// Asks every node to rebuild its help-center index.
    pub async fn request_kb_rebuild(&self) -> Result<i64> {
        Ok(write_pool!(self, |p| sqlx::query_scalar("UPDATE kb_state SET rebuild = rebuild + 1 WHERE id = 1 RETURNING rebuild")
            .fetch_one(p)
            .await?))
    }

    /// Articles changed and ids deleted after `revision`, up to `limit` of each, oldest change first.
    pub async fn kb_changes_since(&self, revision: i64, limit: i64) -> Result<(Vec<KbArticleRow>, Vec<(String, i64)>)> {
        let sql = format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE revision > $1 ORDER BY revision LIMIT CAST($2 AS BIGINT)");
        read_pool!(self, |p| {
            let changed = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(revision).bind(limit).fetch_all(p).await?;
            let deleted = sqlx::query_as(
                "SELECT article_id, revision FROM kb_deleted WHERE revision > $1 ORDER BY revision LIMIT CAST($2 AS BIGINT)",
            )
            .bind(revision)
            .bind(limit)
            .fetch_all(p)
            .await?;
            Ok((changed, deleted))
        })
    }

    /// Inserts new articles and replaces changed ones (where `expected_version` still holds) in
    /// one transaction, recording a version of each. Articles come with their next `version`;
    /// `revision` is filled in. Returns, per article, whether it was written (false: stale).
    pub async fn save_kb_articles(&self, articles: &mut [(KbArticleRow, Option<i64>)]) -> Result<Vec<bool>> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            let mut written = Vec::with_capacity(articles.len());
            for (a, expected) in articles.iter_mut() {
                a.revision = sqlx::query_scalar(BUMP_REVISION).fetch_one(&mut *tx).await?;
                let n = match expected {
                    None => bind_article!(sqlx::query(INSERT_ARTICLE), a).execute(&mut *tx).await.map_err(StoreError::from_write)?,
                    Some(v) => {
                        bind_article!(sqlx::query(UPDATE_ARTICLE), a).bind(*v).execute(&mut *tx).await.map_err(StoreError::from_write)?
                    }
                }
                .rows_affected();
                if n == 1 {
                    bind_version!(sqlx::query(INSERT_VERSION), a).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM kb_deleted WHERE article_id = $1").bind(&a.id).execute(&mut *tx).await?;
                }
                written.push(n == 1);
            }
            tx.commit().await?;
            Ok(written)
        })
    }

    /// Deletes an article (its versions and feedback go with it); translations of it stay and
    /// the first of them takes over the group.
    pub async fn delete_kb_article(&self, id: &str) -> Result<bool> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let revision: i64 = sqlx::query_scalar(BUMP_REVISION).fetch_one(&mut *tx).await?;
            let n = sqlx::query("DELETE FROM kb_articles WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                let heir: Option<String> =
                    sqlx::query_scalar("SELECT id FROM kb_articles WHERE group_id = $1 ORDER BY created_at, id LIMIT 1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(heir) = heir {
                    sqlx::query("UPDATE kb_articles SET group_id = $1, revision = $3 WHERE group_id = $2")
                        .bind(&heir)
                        .bind(id)
                        .bind(revision)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(
                    "INSERT INTO kb_deleted (article_id, revision) VALUES ($1, $2) ON CONFLICT (article_id) DO UPDATE SET revision = excluded.revision",
                )
                .bind(id)
                .bind(revision)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    pub async fn kb_versions(&self, article_id: &str) -> Result<Vec<KbVersionRow>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT article_id, version, title, summary, body, status, author_id, author_name, created_at FROM kb_article_versions \
             WHERE article_id = $1 ORDER BY version DESC"
        )
        .bind(article_id)
        .fetch_all(p)
        .await?))
    }

    // ---- feedback ----

    pub async fn insert_kb_feedback(&self, id: &str, article_id: &str, helpful: bool, comment: Option<&str>, now: i64) -> Result<()> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO kb_feedback (id, article_id, helpful, comment, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(article_id)
                .bind(helpful)
                .bind(comment)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let column = if helpful { "helpful_yes" } else { "helpful_no" };
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE kb_articles SET {column} = {column} + 1 WHERE id = $1")))
                .bind(article_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Adds a comment to feedback given after `since` on this article that has none yet.
    pub async fn comment_kb_feedback(&self, id: &str, article_id: &str, comment: &str, since: i64) -> Result<bool> {
        let n = write_pool!(self, |p| sqlx::query(
            "UPDATE kb_feedback SET comment = $3 WHERE id = $1 AND article_id = $2 AND comment IS NULL AND created_at >= $4"
        )
        .bind(id)
        .bind(article_id)
        .bind(comment)
        .bind(since)
        .execute(p)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    // ---- search analytics ----

    /// Records searches and clicks in one transaction, in order (a click after its search).
    pub async fn record_kb_searches(&self, events: &[KbSearchEvent]) -> Result<()> {
        write_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for e in events {
                match e {
                    KbSearchEvent::Search { id, query, locale, source, results, created_at } => {
                        sqlx::query(
                            "INSERT INTO kb_searches (id, query, locale, source, results, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                             ON CONFLICT (id) DO NOTHING",
                        )
                        .bind(id)
                        .bind(query)
                        .bind(locale)
                        .bind(source)
                        .bind(results)
                        .bind(created_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    KbSearchEvent::Click { search_id, article_id } => {
                        sqlx::query("UPDATE kb_searches SET clicked_article_id = $2 WHERE id = $1")
                            .bind(search_id)
                            .bind(article_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The most frequent queries since `since` (lower-cased), with or without results.
    pub async fn kb_top_queries(&self, since: i64, zero_results_only: bool, limit: i64) -> Result<Vec<KbQueryStat>> {
        let having = if zero_results_only { "HAVING MAX(results) = 0" } else { "" };
        let sql = format!(
            "SELECT LOWER(query) AS query, COUNT(*) AS searches, CAST(AVG(results) AS DOUBLE PRECISION) AS avg_results, \
             COUNT(clicked_article_id) AS clicks FROM kb_searches WHERE created_at >= $1 GROUP BY LOWER(query) {having} \
             ORDER BY searches DESC, query LIMIT CAST($2 AS BIGINT)"
        );
        Ok(read_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(since).bind(limit).fetch_all(p).await?))
    }

    /// Searches and clicks since `since`.
    pub async fn kb_search_totals(&self, since: i64) -> Result<(i64, i64, i64)> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*), COUNT(clicked_article_id), COALESCE(SUM(CASE WHEN results = 0 THEN 1 ELSE 0 END), 0) FROM kb_searches \
             WHERE created_at >= $1"
        )
        .bind(since)
        .fetch_one(p)
        .await?))
    }

    /// Articles with at least `min_votes` votes, the least helpful first.
    pub async fn kb_poor_feedback(&self, min_votes: i64, limit: i64) -> Result<Vec<KbFeedbackStat>> {
        Ok(read_pool!(self, |p| sqlx::query_as(
            "SELECT id AS article_id, helpful_yes, helpful_no FROM kb_articles WHERE helpful_yes + helpful_no >= $1 AND helpful_no > 0 \
             ORDER BY CAST(helpful_yes AS DOUBLE PRECISION) / (helpful_yes + helpful_no), helpful_no DESC LIMIT CAST($2 AS BIGINT)"
        )
        .bind(min_votes)
        .bind(limit)
        .fetch_all(p)
        .await?))
    }

    /// The latest comments readers left, newest first.
    pub async fn kb_recent_comments(&self, limit: i64) -> Result<Vec<KbCommentRow>> {
        Ok(read_pool!(self, |p| {
            sqlx::query_as(
            "SELECT article_id, helpful, comment, created_at FROM kb_feedback WHERE comment IS NOT NULL ORDER BY created_at DESC LIMIT CAST($1 AS BIGINT)"
        )
        .bind(limit)
        .fetch_all(p)
        .await?
        }))
    }
}
