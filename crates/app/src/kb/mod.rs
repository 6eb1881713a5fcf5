//! The help center: articles and announcements in three languages, their categories, versions
//! and translations, import and export as Markdown files, reader feedback, and what readers
//! search for. Search itself is in `index`.

pub mod files;
pub(crate) mod index;
pub mod markdown;
pub(crate) mod pages;

pub use index::{KbIndexer, KbSearchLog, KbSearchRequest, SearchSource};
pub use kefu_store::KbArticleFilter as ArticleFilter;
pub use pages::{ArticleCard, ArticlePage, CategoryPage, HomePage};

use crate::error::{collect, invalid};
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use files::{ArticleFile, Bundle, CategoryFile, FrontMatter, SectionFile};
use kefu_domain::inbox::{parse_locale, parse_text};
use kefu_domain::kb::{
    Article, ArticleFeedbackStat, ArticleKind, ArticleStatus, ArticleVersion, Category, FeedbackComment, KbAnalytics, QueryStat,
    Translation, parse_slug,
};
use kefu_domain::{FieldError, Id, Role};
use kefu_store::{KbArticleFilter, KbArticleRow, KbCategoryRow, StoreError, from_micros, micros};
use std::collections::{BTreeMap, HashMap};

/// Longest article body, in characters.
const MAX_BODY_CHARS: usize = 100_000;

/// A comment may be added to feedback for this long after the vote.
const COMMENT_WINDOW_MICROS: i64 = 3_600 * 1_000_000;

/// Articles written in one transaction during an import.
const IMPORT_BATCH: usize = 500;

/// What an editor or an import sends for one article.
#[derive(Debug, Clone, Default)]
pub struct ArticleInput {
    pub slug: String,
    pub kind: Option<String>,
    pub locale: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    /// Category and section slugs.
    pub category: Option<String>,
    pub section: Option<String>,
    pub tags: Vec<String>,
    pub related: Vec<String>,
    /// `draft` (the default for editors) or `published`.
    pub status: Option<String>,
    /// Slug of the article this one translates.
    pub translation_of: Option<String>,
}

/// A category or section as an admin sends it.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub slug: String,
    /// The parent category's slug: makes this a section.
    pub parent: Option<String>,
    pub position: i64,
    pub icon: String,
    pub names: BTreeMap<String, String>,
    pub descriptions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub categories: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// An article checked and resolved, ready to become a row.
struct Valid {
    slug: String,
    kind: ArticleKind,
    locale: String,
    title: String,
    summary: String,
    body: String,
    category_id: Option<String>,
    section_id: Option<String>,
    tags: Vec<String>,
    related: Vec<String>,
    status: ArticleStatus,
}

fn parse_tags(field: &str, raw: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if raw.len() > 20 {
        errors.push(FieldError::new(field, "at most 20"));
    }
    for t in raw.iter().take(20) {
        let t = t.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > 40 || t.chars().any(char::is_control) {
            errors.push(FieldError::new(field, "each must be 1 to 40 characters"));
        } else if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn locale_names(field: &str, raw: &BTreeMap<String, String>, required: bool, errors: &mut Vec<FieldError>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (locale, name) in raw {
        match (parse_locale(field, locale), parse_text(field, name, 1, 300)) {
            (Ok(l), Ok(n)) => {
                out.insert(l, n);
            }
            _ => errors.push(FieldError::new(field, format!("{locale:?} must be zh-CN, zh-TW or en with a non-empty text"))),
        }
    }
    if required && out.is_empty() {
        errors.push(FieldError::new(field, "needs a name in at least one language"));
    }
    out
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn list(raw: &str) -> Vec<String> {
    serde_json::from_str(raw).unwrap_or_default()
}

fn to_category(r: &KbCategoryRow, by_id: &HashMap<String, String>) -> Category {
    Category {
        id: r.id.clone(),
        slug: r.slug.clone(),
        parent: r.parent_id.as_ref().and_then(|p| by_id.get(p).cloned()),
        position: r.position,
        icon: r.icon.clone(),
        names: serde_json::from_str(&r.names).unwrap_or_default(),
        descriptions: serde_json::from_str(&r.descriptions).unwrap_or_default(),
    }
}

/// The help center's categories with an id → slug map.
pub(crate) struct Categories {
    pub list: Vec<Category>,
    pub slug_of: HashMap<String, String>,
}

impl Categories {
    fn id_of(&self, slug: &str) -> Option<&str> {
        self.list.iter().find(|c| c.slug == slug).map(|c| c.id.as_str())
    }

    fn get(&self, slug: &str) -> Option<&Category> {
        self.list.iter().find(|c| c.slug == slug)
    }
}

/// An id from a path: anything that is not one names nothing (and never reaches the database).
fn known_id<'a>(id: &'a str, what: &'static str) -> AppResult<&'a str> {
    Id::parse(id).map(|_| id).ok_or(AppError::NotFound(what))
}

impl App {
    fn require_editor(p: &Principal) -> AppResult<()> {
        p.require_enrolled()?;
        p.require_scope(Scope::Write)
    }

    /// Publishing, changing what readers see, categories and synonyms: supervisors and admins.
    fn require_kb_manager(p: &Principal) -> AppResult<()> {
        Self::require_editor(p)?;
        if matches!(p.agent.role, Role::Admin | Role::Supervisor) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    pub(crate) async fn kb_category_map(&self) -> AppResult<Categories> {
        let rows = self.store().kb_categories().await?;
        let slug_of: HashMap<String, String> = rows.iter().map(|r| (r.id.clone(), r.slug.clone())).collect();
        Ok(Categories { list: rows.iter().map(|r| to_category(r, &slug_of)).collect(), slug_of })
    }

    /// The help center's categories and sections, in display order.
    pub async fn kb_categories(&self) -> AppResult<Vec<Category>> {
        Ok(self.kb_category_map().await?.list)
    }

    fn valid_category(&self, input: &CategoryInput, cats: &Categories, own_id: Option<&str>) -> AppResult<KbCategoryRow> {
        let mut errors = Vec::new();
        let slug = collect(&mut errors, parse_slug("slug", &input.slug));
        let names = locale_names("names", &input.names, true, &mut errors);
        let descriptions = locale_names("descriptions", &input.descriptions, false, &mut errors);
        let parent_id = match input.parent.as_deref().filter(|p| !p.is_empty()) {
            None => None,
            Some(parent) => match cats.list.iter().find(|c| c.slug == parent) {
                Some(c) if c.parent.is_some() => {
                    errors.push(FieldError::new("parent", "must be a category, not a section"));
                    None
                }
                Some(c) if Some(c.id.as_str()) == own_id => {
                    errors.push(FieldError::new("parent", "cannot be the category itself"));
                    None
                }
                Some(c) => Some(c.id.clone()),
                None => {
                    errors.push(FieldError::new("parent", format!("no category {parent:?}")));
                    None
                }
            },
        };
        if own_id.is_some()
            && parent_id.is_some()
            && cats.list.iter().any(|c| c.parent.is_some() && cats.id_of(c.parent.as_deref().unwrap_or_default()) == own_id)
        {
            errors.push(FieldError::new("parent", "a category with sections cannot become a section"));
        }
        if input.icon.chars().count() > 40 || input.icon.chars().any(char::is_control) {
            errors.push(FieldError::new("icon", "must be at most 40 characters"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(KbCategoryRow {
            id: own_id.map_or_else(|| Id::new().to_string(), str::to_string),
            slug: slug.unwrap_or_default(),
            parent_id,
            position: input.position,
            icon: input.icon.trim().to_string(),
            names: json(&names),
            descriptions: json(&descriptions),
            updated_at: micros(self.now()),
        })
    }

    pub async fn create_kb_category(&self, p: &Principal, input: CategoryInput) -> AppResult<Category> {
        Self::require_kb_manager(p)?;
        let cats = self.kb_category_map().await?;
        if cats.get(input.slug.trim()).is_some() {
            return Err(AppError::SlugTaken);
        }
        let row = self.valid_category(&input, &cats, None)?;
        self.store().upsert_kb_category(&row).await?;
        self.kb_categories().await?.into_iter().find(|c| c.id == row.id).ok_or(AppError::NotFound("category"))
    }

    pub async fn update_kb_category(&self, p: &Principal, id: &str, input: CategoryInput) -> AppResult<Category> {
        Self::require_kb_manager(p)?;
        let id = known_id(id, "category")?;
        let cats = self.kb_category_map().await?;
        if !cats.list.iter().any(|c| c.id == id) {
            return Err(AppError::NotFound("category"));
        }
        let row = self.valid_category(&input, &cats, Some(id))?;
        match self.store().update_kb_category(&row).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Err(AppError::SlugTaken),
            Err(e) => return Err(e.into()),
        }
        self.kb_changed().await;
        self.kb_categories().await?.into_iter().find(|c| c.id == id).ok_or(AppError::NotFound("category"))
    }

    pub async fn delete_kb_category(&self, p: &Principal, id: &str) -> AppResult<()> {
        Self::require_kb_manager(p)?;
        let id = known_id(id, "category")?;
        if !self.store().delete_kb_category(id).await? {
            return Err(AppError::NotFound("category"));
        }
        self.audit(&crate::audit::Actor::agent(p), "kb.category.deleted", Some(id.to_string()), serde_json::json!({})).await?;
        self.kb_changed().await;
        Ok(())
    }

    // ---- articles ----

    fn validate_article(&self, input: &ArticleInput, cats: &Categories, default_status: ArticleStatus) -> AppResult<Valid> {
        let mut errors = Vec::new();
        let slug = collect(&mut errors, parse_slug("slug", &input.slug));
        let locale = collect(&mut errors, parse_locale("locale", &input.locale));
        let title = collect(&mut errors, parse_text("title", &input.title, 1, 200));
        let summary = collect(&mut errors, parse_text("summary", &input.summary, 0, 500));
        let body = collect(&mut errors, parse_text("body", &input.body, 0, MAX_BODY_CHARS));
        let kind = match input.kind.as_deref() {
            None | Some("") => ArticleKind::Article,
            Some(k) => ArticleKind::parse(k).unwrap_or_else(|| {
                errors.push(FieldError::new("kind", "must be article or announcement"));
                ArticleKind::Article
            }),
        };
        let status = match input.status.as_deref() {
            None | Some("") => default_status,
            Some(s) => ArticleStatus::parse(s).unwrap_or_else(|| {
                errors.push(FieldError::new("status", "must be draft or published"));
                default_status
            }),
        };
        let category_id = match input.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match cats.get(c) {
                Some(cat) if cat.parent.is_none() => Some(cat.id.clone()),
                _ => {
                    errors.push(FieldError::new("category", format!("no category {c:?}")));
                    None
                }
            },
        };
        let section_id = match input.section.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(s) => match cats.get(s) {
                Some(sec) if sec.parent.is_some() && sec.parent.as_deref() == input.category.as_deref().map(str::trim) => {
                    Some(sec.id.clone())
                }
                _ => {
                    errors.push(FieldError::new("section", format!("no section {s:?} in this category")));
                    None
                }
            },
        };
        let tags = parse_tags("tags", &input.tags, &mut errors);
        let mut related: Vec<String> = Vec::new();
        for r in input.related.iter().take(10) {
            match parse_slug("related", r) {
                Ok(r) if !related.contains(&r) => related.push(r),
                Ok(_) => {}
                Err(_) => errors.push(FieldError::new("related", format!("{r:?} is not a slug"))),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Valid {
            slug: slug.unwrap_or_default(),
            kind,
            locale: locale.unwrap_or_default(),
            title: title.unwrap_or_default(),
            summary: summary.unwrap_or_default(),
            body: body.unwrap_or_default(),
            category_id,
            section_id,
            tags,
            related,
            status,
        })
    }

    /// The row to save for `v`: a new article, or the next version of `existing`.
    fn article_row(
        &self,
        v: Valid,
        id: &str,
        group_id: String,
        existing: Option<&KbArticleRow>,
        author: (Option<String>, String),
    ) -> KbArticleRow {
        let now = micros(self.now());
        let published_at = match (v.status, existing) {
            (ArticleStatus::Draft, _) => None,
            (ArticleStatus::Published, Some(e)) if e.status == "published" => e.published_at.or(Some(now)),
            (ArticleStatus::Published, _) => Some(now),
        };
        KbArticleRow {
            id: id.to_string(),
            slug: v.slug,
            kind: v.kind.as_str().into(),
            locale: v.locale,
            group_id,
            title: v.title,
            summary: v.summary,
            body: v.body,
            category_id: v.category_id,
            section_id: v.section_id,
            tags: json(&v.tags),
            related: json(&v.related),
            status: v.status.as_str().into(),
            version: existing.map_or(1, |e| e.version + 1),
            revision: 0,
            author_id: author.0,
            author_name: author.1,
            helpful_yes: existing.map_or(0, |e| e.helpful_yes),
            helpful_no: existing.map_or(0, |e| e.helpful_no),
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: now,
            published_at,
        }
    }

    /// The translation group an article joins: that of the article with slug `of`.
    async fn group_for(&self, of: Option<&str>, own_id: &str) -> AppResult<String> {
        match of.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(own_id.to_string()),
            Some(slug) => match self.store().kb_article_by_slug(&parse_slug("translation_of", slug)?).await? {
                Some(a) if a.id != own_id => Ok(a.group_id),
                Some(_) => Err(invalid("translation_of", "an article cannot translate itself")),
                None => Err(invalid("translation_of", format!("no article {slug:?}"))),
            },
        }
    }

    pub async fn create_kb_article(&self, p: &Principal, input: ArticleInput) -> AppResult<Article> {
        Self::require_editor(p)?;
        let cats = self.kb_category_map().await?;
        let v = self.validate_article(&input, &cats, ArticleStatus::Draft)?;
        if v.status == ArticleStatus::Published {
            Self::require_kb_manager(p)?;
        }
        let (published, slug, locale) = (v.status == ArticleStatus::Published, v.slug.clone(), v.locale.clone());
        let id = Id::new().to_string();
        let group = self.group_for(input.translation_of.as_deref(), &id).await?;
        let row = self.article_row(v, &id, group, None, (Some(p.agent.id.to_string()), p.agent.name.as_str().to_string()));
        match self.store().save_kb_articles(&mut [(row, None)]).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Err(AppError::SlugTaken),
            Err(e) => return Err(e.into()),
        }
        if published {
            let details = serde_json::json!({"slug": slug, "locale": locale, "version": 1});
            self.audit(&crate::audit::Actor::agent(p), "kb.article.published", Some(id.clone()), details).await?;
        }
        self.kb_changed().await;
        self.kb_article(p, &id).await
    }

    /// Saves a new version. `version` is the one the editor started from: if someone saved in
    /// between, nothing is written and the answer is a conflict.
    pub async fn update_kb_article(&self, p: &Principal, id: &str, input: ArticleInput, version: Option<i64>) -> AppResult<Article> {
        Self::require_editor(p)?;
        let id = known_id(id, "article")?;
        let existing = self.store().kb_article(id).await?.ok_or(AppError::NotFound("article"))?;
        let cats = self.kb_category_map().await?;
        let current = ArticleStatus::parse(&existing.status).unwrap_or(ArticleStatus::Draft);
        let v = self.validate_article(&input, &cats, current)?;
        if v.status == ArticleStatus::Published || existing.status == "published" {
            Self::require_kb_manager(p)?;
        }
        let expected = version.unwrap_or(existing.version);
        if expected != existing.version {
            return Err(AppError::VersionConflict(existing.version));
        }
        let group = match input.translation_of.as_deref() {
            Some(of) => self.group_for(Some(of), id).await?,
            None => existing.group_id.clone(),
        };
        // What readers see changes: published, changed while published, or taken down.
        let action = match (existing.status.as_str(), v.status) {
            (_, ArticleStatus::Published) => Some("kb.article.published"),
            ("published", ArticleStatus::Draft) => Some("kb.article.unpublished"),
            _ => None,
        };
        let row = self.article_row(v, id, group, Some(&existing), (Some(p.agent.id.to_string()), p.agent.name.as_str().to_string()));
        let written = match self.store().save_kb_articles(&mut [(row, Some(expected))]).await {
            Ok(w) => w,
            Err(StoreError::Conflict(_)) => return Err(AppError::SlugTaken),
            Err(e) => return Err(e.into()),
        };
        if written.first() != Some(&true) {
            let now = self.store().kb_article(id).await?.map_or(expected, |a| a.version);
            return Err(AppError::VersionConflict(now));
        }
        if let Some(action) = action {
            let details = serde_json::json!({"slug": existing.slug, "locale": existing.locale, "version": existing.version + 1});
            self.audit(&crate::audit::Actor::agent(p), action, Some(id.to_string()), details).await?;
        }
        self.kb_changed().await;
        self.kb_article(p, id).await
    }

    pub async fn delete_kb_article(&self, p: &Principal, id: &str) -> AppResult<()> {
        Self::require_kb_manager(p)?;
        let id = known_id(id, "article")?;
        let slug = self.store().kb_article(id).await?.map(|a| a.slug).ok_or(AppError::NotFound("article"))?;
        if !self.store().delete_kb_article(id).await? {
            return Err(AppError::NotFound("article"));
        }
        self.audit(&crate::audit::Actor::agent(p), "kb.article.deleted", Some(id.to_string()), serde_json::json!({"slug": slug})).await?;
        self.kb_changed().await;
        Ok(())
    }

    /// Article views for rows, with their translations and category slugs.
    pub(crate) async fn kb_views(&self, rows: Vec<KbArticleRow>, cats: &Categories) -> AppResult<Vec<Article>> {
        let mut groups: Vec<String> = rows.iter().map(|r| r.group_id.clone()).collect();
        groups.sort();
        groups.dedup();
        let mut members: HashMap<String, Vec<Translation>> = HashMap::new();
        for m in self.store().kb_articles_in_groups(&groups).await? {
            members.entry(m.group_id.clone()).or_default().push(Translation {
                id: m.id,
                slug: m.slug,
                locale: m.locale,
                title: m.title,
                status: ArticleStatus::parse(&m.status).unwrap_or(ArticleStatus::Draft),
            });
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let translations =
                    members.get(&r.group_id).map(|m| m.iter().filter(|t| t.id != r.id).cloned().collect()).unwrap_or_default();
                to_article(r, cats, translations)
            })
            .collect())
    }

    /// An article as editors see it, draft or not.
    pub async fn kb_article(&self, p: &Principal, id: &str) -> AppResult<Article> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let row = self.store().kb_article(known_id(id, "article")?).await?.ok_or(AppError::NotFound("article"))?;
        let cats = self.kb_category_map().await?;
        self.kb_views(vec![row], &cats).await?.pop().ok_or(AppError::NotFound("article"))
    }

    /// Articles for the console's list; returns them and how many match in all.
    pub async fn list_kb_articles(&self, p: &Principal, mut f: KbArticleFilter) -> AppResult<(Vec<Article>, i64)> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let cats = self.kb_category_map().await?;
        let mut errors = Vec::new();
        if let Some(s) = &f.status
            && ArticleStatus::parse(s).is_none()
        {
            errors.push(FieldError::new("status", "must be draft or published"));
        }
        if let Some(k) = &f.kind
            && ArticleKind::parse(k).is_none()
        {
            errors.push(FieldError::new("kind", "must be article or announcement"));
        }
        if let Some(l) = &f.locale {
            f.locale = collect(&mut errors, parse_locale("locale", l));
        }
        if let Some(q) = &f.q {
            f.q = collect(&mut errors, parse_text("q", q, 0, 200));
        }
        for (field, value) in [("category", &mut f.category_id), ("section", &mut f.section_id)] {
            if let Some(slug) = value.as_deref() {
                match cats.id_of(slug) {
                    Some(id) => *value = Some(id.to_string()),
                    None => errors.push(FieldError::new(field, format!("no category {slug:?}"))),
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        f.limit = f.limit.clamp(1, 200);
        let (rows, total) = self.store().kb_articles(&f).await?;
        Ok((self.kb_views(rows, &cats).await?, total))
    }

    pub async fn kb_versions(&self, p: &Principal, id: &str) -> AppResult<Vec<ArticleVersion>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let id = known_id(id, "article")?;
        if self.store().kb_article(id).await?.is_none() {
            return Err(AppError::NotFound("article"));
        }
        Ok(self
            .store()
            .kb_versions(id)
            .await?
            .into_iter()
            .map(|v| ArticleVersion {
                version: v.version,
                title: v.title,
                summary: v.summary,
                body: v.body,
                status: ArticleStatus::parse(&v.status).unwrap_or(ArticleStatus::Draft),
                author_name: v.author_name,
                created_at: from_micros(v.created_at),
            })
            .collect())
    }

    /// Markdown rendered as the help center would show it: the editor's live preview.
    pub fn kb_preview(&self, p: &Principal, body: &str, locale: &str) -> AppResult<String> {
        p.require_enrolled()?;
        let locale = parse_locale("locale", locale)?;
        let body = parse_text("body", body, 0, MAX_BODY_CHARS)?;
        Ok(markdown::to_html(&body, &locale))
    }

    // ---- feedback ----

    /// A reader's vote on a published article; returns the feedback's id (to add a comment to).
    pub async fn kb_feedback(&self, article_id: &str, helpful: bool, comment: Option<&str>) -> AppResult<String> {
        let article_id = known_id(article_id, "article")?;
        let article =
            self.store().kb_article(article_id).await?.filter(|a| a.status == "published").ok_or(AppError::NotFound("article"))?;
        let comment = match comment.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(parse_text("comment", c, 1, 2_000)?),
            None => None,
        };
        let id = Id::new().to_string();
        self.store().insert_kb_feedback(&id, &article.id, helpful, comment.as_deref(), micros(self.now())).await?;
        Ok(id)
    }

    /// Adds a comment to a vote given within the last hour that has none yet.
    pub async fn kb_feedback_comment(&self, article_id: &str, feedback_id: &str, comment: &str) -> AppResult<()> {
        let (article_id, feedback_id) = (known_id(article_id, "article")?, known_id(feedback_id, "feedback")?);
        let comment = parse_text("comment", comment, 1, 2_000)?;
        let since = micros(self.now()) - COMMENT_WINDOW_MICROS;
        if !self.store().comment_kb_feedback(feedback_id, article_id, &comment, since).await? {
            return Err(AppError::NotFound("feedback"));
        }
        Ok(())
    }

    // ---- analytics ----

    pub async fn kb_analytics(&self, p: &Principal, days: i64) -> AppResult<KbAnalytics> {
        Self::require_kb_manager(p)?;
        if !(1..=365).contains(&days) {
            return Err(invalid("days", "must be 1 to 365"));
        }
        let since = micros(self.now()) - days * 86_400 * 1_000_000;
        let stat =
            |q: kefu_store::KbQueryStat| QueryStat { query: q.query, searches: q.searches, avg_results: q.avg_results, clicks: q.clicks };
        let (searches, clicks, zero) = self.store().kb_search_totals(since).await?;
        let top_queries = self.store().kb_top_queries(since, false, 20).await?.into_iter().map(stat).collect();
        let no_result_queries = self.store().kb_top_queries(since, true, 20).await?.into_iter().map(stat).collect();
        let poor = self.store().kb_poor_feedback(3, 20).await?;
        let comments = self.store().kb_recent_comments(20).await?;
        let mut ids: Vec<String> = poor.iter().map(|p| p.article_id.clone()).chain(comments.iter().map(|c| c.article_id.clone())).collect();
        ids.sort();
        ids.dedup();
        let articles: HashMap<String, KbArticleRow> =
            self.store().kb_articles_by_ids(&ids).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
        let poor_articles = poor
            .into_iter()
            .filter_map(|s| {
                articles.get(&s.article_id).map(|a| ArticleFeedbackStat {
                    id: a.id.clone(),
                    slug: a.slug.clone(),
                    title: a.title.clone(),
                    locale: a.locale.clone(),
                    helpful_yes: s.helpful_yes,
                    helpful_no: s.helpful_no,
                })
            })
            .collect();
        let recent_comments = comments
            .into_iter()
            .filter_map(|c| {
                articles.get(&c.article_id).map(|a| FeedbackComment {
                    article_slug: a.slug.clone(),
                    article_title: a.title.clone(),
                    helpful: c.helpful,
                    comment: c.comment,
                    created_at: from_micros(c.created_at),
                })
            })
            .collect();
        Ok(KbAnalytics {
            days,
            searches,
            clicks,
            zero_result_searches: zero,
            top_queries,
            no_result_queries,
            poor_articles,
            recent_comments,
        })
    }

    // ---- import and export ----

    /// Imports categories and articles; an article whose slug exists is updated (a new version)
    /// when anything differs. Nothing is written unless every file is valid.
    pub async fn kb_import(&self, p: Option<&Principal>, bundle: Bundle) -> AppResult<ImportReport> {
        if let Some(p) = p {
            Self::require_kb_manager(p)?;
        }
        let author = p.map_or((None, "import".to_string()), |p| (Some(p.agent.id.to_string()), p.agent.name.as_str().to_string()));
        let mut report = ImportReport::default();
        if let Some(categories) = &bundle.categories {
            report.categories = self.import_categories(categories).await?;
        }
        let cats = self.kb_category_map().await?;
        // Every file is checked before anything is written; ids are fixed first so that a
        // translation can join a group whose original comes in the same import.
        let mut errors = Vec::new();
        let mut valid = Vec::new();
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut existing: HashMap<String, KbArticleRow> = HashMap::new();
        let slugs: Vec<String> = bundle.articles.iter().map(|(_, f)| f.front.slug.trim().to_string()).collect();
        for row in self.store().kb_articles_by_slugs(&slugs).await? {
            existing.insert(row.slug.clone(), row);
        }
        for (name, file) in &bundle.articles {
            let input = input_from_file(file);
            match self.validate_article(&input, &cats, ArticleStatus::Published) {
                Ok(v) => {
                    if ids.contains_key(&v.slug) {
                        errors.push(FieldError::new(name, format!("slug {:?} appears twice", v.slug)));
                        continue;
                    }
                    let id = existing.get(&v.slug).map_or_else(|| Id::new().to_string(), |e| e.id.clone());
                    ids.insert(v.slug.clone(), id);
                    valid.push((name.clone(), v, file.front.translation_of.clone()));
                }
                Err(AppError::Validation(fields)) => {
                    errors.extend(fields.into_iter().map(|f| FieldError::new(name, format!("{}: {}", f.field, f.message))))
                }
                Err(e) => return Err(e),
            }
        }
        let mut rows: Vec<(KbArticleRow, Option<i64>)> = Vec::new();
        for (name, v, translation_of) in valid {
            let id = ids.get(&v.slug).cloned().unwrap_or_default();
            let group = match translation_of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => id.clone(),
                Some(of) => {
                    // The original's group if it exists already (read above when it is in this
                    // import); else it comes new in this import and is its own group.
                    let stored = match existing.get(of) {
                        Some(a) => Some(a.group_id.clone()),
                        None if ids.contains_key(of) => None,
                        None => self
                            .store()
                            .kb_article_by_slug(&parse_slug("translation_of", of).unwrap_or_default())
                            .await?
                            .map(|a| a.group_id),
                    };
                    match (stored, ids.get(of)) {
                        (Some(group), _) => group,
                        (None, Some(original)) => original.clone(),
                        (None, None) => {
                            errors.push(FieldError::new(&name, format!("translation_of: no article {of:?}")));
                            continue;
                        }
                    }
                }
            };
            let before = existing.get(&v.slug);
            let row = self.article_row(v, &id, group, before, author.clone());
            match before {
                Some(e) if same_content(e, &row) => report.unchanged += 1,
                Some(e) => {
                    report.updated += 1;
                    rows.push((row, Some(e.version)));
                }
                None => {
                    report.created += 1;
                    rows.push((row, None));
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        // Originals first, so a translation never points at a group that does not exist yet.
        rows.sort_by_key(|(r, _)| r.group_id != r.id);
        for batch in rows.chunks_mut(IMPORT_BATCH) {
            let written = self.store().save_kb_articles(batch).await?;
            if written.iter().any(|w| !w) {
                return Err(AppError::VersionConflict(0));
            }
        }
        let actor = p.map_or_else(crate::audit::Actor::cli, crate::audit::Actor::agent);
        let details = serde_json::json!({"created": report.created, "updated": report.updated, "categories": report.categories});
        self.audit(&actor, "kb.imported", None, details).await?;
        self.kb_changed().await;
        Ok(report)
    }

    async fn import_categories(&self, categories: &[CategoryFile]) -> AppResult<usize> {
        let mut count = 0;
        for (position, c) in categories.iter().enumerate() {
            let cats = self.kb_category_map().await?;
            let input = CategoryInput {
                slug: c.slug.clone(),
                parent: None,
                position: position as i64,
                icon: c.icon.clone(),
                names: c.name.clone(),
                descriptions: c.description.clone(),
            };
            let own = cats.id_of(c.slug.trim()).map(str::to_string);
            let row = self.valid_category(&input, &cats, own.as_deref()).map_err(|e| prefix(e, &c.slug))?;
            self.store().upsert_kb_category(&row).await?;
            count += 1;
            for (position, s) in c.sections.iter().enumerate() {
                let cats = self.kb_category_map().await?;
                let input = CategoryInput {
                    slug: s.slug.clone(),
                    parent: Some(c.slug.trim().to_string()),
                    position: position as i64,
                    icon: String::new(),
                    names: s.name.clone(),
                    descriptions: s.description.clone(),
                };
                let own = cats.id_of(s.slug.trim()).map(str::to_string);
                let row = self.valid_category(&input, &cats, own.as_deref()).map_err(|e| prefix(e, &s.slug))?;
                self.store().upsert_kb_category(&row).await?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// The whole help center as files: `categories.yaml` and one file per article.
    pub async fn kb_export(&self) -> AppResult<Bundle> {
        let cats = self.kb_category_map().await?;
        let categories = cats
            .list
            .iter()
            .filter(|c| c.parent.is_none())
            .map(|c| CategoryFile {
                slug: c.slug.clone(),
                icon: c.icon.clone(),
                name: c.names.clone(),
                description: c.descriptions.clone(),
                sections: cats
                    .list
                    .iter()
                    .filter(|s| s.parent.as_deref() == Some(c.slug.as_str()))
                    .map(|s| SectionFile { slug: s.slug.clone(), name: s.names.clone(), description: s.descriptions.clone() })
                    .collect(),
            })
            .collect();
        let (rows, _) = self.store().kb_articles(&KbArticleFilter { limit: 10_000, ..Default::default() }).await?;
        let mut total = rows;
        let mut offset = total.len() as i64;
        while offset % 10_000 == 0 && offset > 0 {
            let (more, _) = self.store().kb_articles(&KbArticleFilter { limit: 10_000, offset, ..Default::default() }).await?;
            if more.is_empty() {
                break;
            }
            offset += more.len() as i64;
            total.extend(more);
        }
        let slug_by_id: HashMap<String, String> = total.iter().map(|r| (r.id.clone(), r.slug.clone())).collect();
        let mut articles: Vec<(String, ArticleFile)> = total
            .into_iter()
            .map(|r| {
                let front = FrontMatter {
                    translation_of: (r.group_id != r.id).then(|| slug_by_id.get(&r.group_id).cloned()).flatten(),
                    kind: (r.kind != "article").then(|| r.kind.clone()),
                    category: r.category_id.as_ref().and_then(|c| cats.slug_of.get(c).cloned()),
                    section: r.section_id.as_ref().and_then(|c| cats.slug_of.get(c).cloned()),
                    summary: r.summary.clone(),
                    tags: list(&r.tags),
                    related: list(&r.related),
                    status: (r.status != "published").then(|| r.status.clone()),
                    slug: r.slug.clone(),
                    title: r.title.clone(),
                    locale: r.locale.clone(),
                };
                (format!("{}.md", r.slug), ArticleFile { front, body: r.body })
            })
            .collect();
        articles.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Bundle { categories: Some(categories), articles })
    }
}

fn prefix(e: AppError, name: &str) -> AppError {
    match e {
        AppError::Validation(fields) => {
            AppError::Validation(fields.into_iter().map(|f| FieldError::new(&format!("{name}.{}", f.field), f.message)).collect())
        }
        other => other,
    }
}

fn input_from_file(file: &ArticleFile) -> ArticleInput {
    let f = &file.front;
    ArticleInput {
        slug: f.slug.clone(),
        kind: f.kind.clone(),
        locale: f.locale.clone(),
        title: f.title.clone(),
        summary: f.summary.clone(),
        body: file.body.clone(),
        category: f.category.clone(),
        section: f.section.clone(),
        tags: f.tags.clone(),
        related: f.related.clone(),
        status: f.status.clone(),
        translation_of: f.translation_of.clone(),
    }
}

/// Whether an import would change nothing a reader or editor sees.
fn same_content(a: &KbArticleRow, b: &KbArticleRow) -> bool {
    (&a.slug, &a.kind, &a.locale, &a.group_id, &a.title, &a.summary, &a.body, &a.category_id, &a.section_id, &a.tags, &a.related, &a.status)
        == (
            &b.slug,
            &b.kind,
            &b.locale,
            &b.group_id,
            &b.title,
            &b.summary,
            &b.body,
            &b.category_id,
            &b.section_id,
            &b.tags,
            &b.related,
            &b.status,
        )
}

pub(crate) fn to_article(r: KbArticleRow, cats: &Categories, translations: Vec<Translation>) -> Article {
    Article {
        html: markdown::to_html(&r.body, &r.locale),
        url: markdown::article_path(&r.locale, &r.slug),
        kind: ArticleKind::parse(&r.kind).unwrap_or(ArticleKind::Article),
        status: ArticleStatus::parse(&r.status).unwrap_or(ArticleStatus::Draft),
        category: r.category_id.as_ref().and_then(|c| cats.slug_of.get(c).cloned()),
        section: r.section_id.as_ref().and_then(|c| cats.slug_of.get(c).cloned()),
        tags: list(&r.tags),
        related: list(&r.related),
        translations,
        created_at: from_micros(r.created_at),
        updated_at: from_micros(r.updated_at),
        published_at: r.published_at.map(from_micros),
        id: r.id,
        slug: r.slug,
        locale: r.locale,
        title: r.title,
        summary: r.summary,
        body: r.body,
        version: r.version,
        author_name: r.author_name,
        helpful_yes: r.helpful_yes,
        helpful_no: r.helpful_no,
    }
}
