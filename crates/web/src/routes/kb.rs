//! The help center's JSON API: articles, categories, synonyms and analytics for agents; search,
//! articles, feedback and clicks for readers (public, callable from any site, like the widget).

use crate::WebState;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use crate::routes::me::Items;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kefu_app::kb::{ArticleFilter, ArticleInput, CategoryInput, KbSearchRequest, SearchSource};
use kefu_domain::kb::{Article, ArticleSearch, ArticleVersion, Category, KbAnalytics};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    /// Lower-case letters, digits and dashes; unique across all languages.
    pub slug: String,
    /// `article` (default) or `announcement`.
    pub kind: Option<String>,
    /// zh-CN, zh-TW or en.
    pub locale: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    /// Markdown; link another article as `[text](kb:slug)`.
    #[serde(default)]
    pub body: String,
    /// Category slug.
    pub category: Option<String>,
    /// Section slug, within the category.
    pub section: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Slugs of related articles.
    #[serde(default)]
    pub related: Vec<String>,
    /// `draft` (default for new articles) or `published` (supervisors and admins).
    pub status: Option<String>,
    /// Slug of the article this one translates.
    pub translation_of: Option<String>,
    /// When saving: the version you started from; a newer one on the server gives 409.
    pub version: Option<i64>,
}

impl ArticleBody {
    fn split(self) -> (ArticleInput, Option<i64>) {
        let input = ArticleInput {
            slug: self.slug,
            kind: self.kind,
            locale: self.locale,
            title: self.title,
            summary: self.summary,
            body: self.body,
            category: self.category,
            section: self.section,
            tags: self.tags,
            related: self.related,
            status: self.status,
            translation_of: self.translation_of,
        };
        (input, self.version)
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArticleListParams {
    /// Part of the title or slug.
    pub q: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub locale: Option<String>,
    /// Category slug.
    pub category: Option<String>,
    /// Section slug.
    pub section: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ArticleList {
    pub items: Vec<Article>,
    pub total: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    pub body: String,
    /// The language the article is in (links to other articles use it).
    pub locale: String,
}

#[derive(Serialize, ToSchema)]
pub struct Preview {
    pub html: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    pub slug: String,
    /// The parent category's slug: makes this a section of it.
    pub parent: Option<String>,
    #[serde(default)]
    pub position: i64,
    #[serde(default)]
    pub icon: String,
    /// Name per locale (zh-CN, zh-TW, en); at least one.
    pub names: BTreeMap<String, String>,
    #[serde(default)]
    pub descriptions: BTreeMap<String, String>,
}

impl From<CategoryBody> for CategoryInput {
    fn from(b: CategoryBody) -> Self {
        CategoryInput { slug: b.slug, parent: b.parent, position: b.position, icon: b.icon, names: b.names, descriptions: b.descriptions }
    }
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Synonyms {
    /// Groups of words that mean the same (e.g. `["提币", "提现", "withdraw"]`).
    pub groups: Vec<Vec<String>>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsParams {
    /// The last this many days (1 to 365, default 30).
    pub days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Rebuild {
    /// The rebuild counter; every node rebuilds its index when it changes.
    pub rebuild: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AgentSearchParams {
    pub q: String,
    /// Preferred language; others follow.
    pub locale: Option<String>,
    /// 1 to 50 (default 10).
    pub limit: Option<usize>,
    /// Include drafts.
    #[serde(default)]
    pub drafts: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PublicSearchParams {
    pub q: String,
    /// The reader's language: its articles first, then the other Chinese script, then the rest.
    pub locale: Option<String>,
    /// 1 to 50 (default 10).
    pub limit: Option<usize>,
    /// `article` or `announcement`.
    pub kind: Option<String>,
    /// `help_center`, `widget`, `bot` or `api` (default): for analytics.
    pub source: Option<String>,
    /// Record this search for analytics (default true; suggestions while typing send false).
    pub track: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    pub helpful: bool,
    pub comment: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackCreated {
    /// Send a comment for this vote within the hour with `…/feedback/{id}/comment`.
    pub id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub comment: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClickBody {
    /// `search_id` from the search's answer.
    pub search_id: String,
    pub article_id: String,
}

fn source(raw: Option<&str>) -> Result<SearchSource, Problem> {
    match raw.unwrap_or("api") {
        "help_center" => Ok(SearchSource::HelpCenter),
        "widget" => Ok(SearchSource::Widget),
        "bot" => Ok(SearchSource::Bot),
        "api" => Ok(SearchSource::Api),
        _ => {
            Err(kefu_app::AppError::Validation(vec![kefu_domain::FieldError::new("source", "must be help_center, widget, bot or api")])
                .into())
        }
    }
}

/// Articles in every language and state, newest change first.
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "help center", params(ArticleListParams), responses((status = 200, body = ArticleList), (status = 422, body = Problem)))]
pub async fn list_articles(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ArticleListParams>,
) -> ApiResult<Json<ArticleList>> {
    let f = ArticleFilter {
        q: q.q,
        status: q.status,
        kind: q.kind,
        locale: q.locale,
        category_id: q.category,
        section_id: q.section,
        group_id: None,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    let (items, total) = s.app.list_kb_articles(&p, f).await?;
    Ok(Json(ArticleList { items, total }))
}

/// Write an article or a translation (drafts by any agent; publishing by supervisors and admins).
#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "help center", request_body = ArticleBody,
    responses((status = 201, body = Article), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_article(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<ArticleBody>,
) -> ApiResult<(StatusCode, Json<Article>)> {
    let (input, _) = b.split();
    Ok((StatusCode::CREATED, Json(s.app.create_kb_article(&p, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "help center", params(("id" = String, Path)), responses((status = 200, body = Article), (status = 404, body = Problem)))]
pub async fn get_article(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Article>> {
    Ok(Json(s.app.kb_article(&p, &id).await?))
}

/// Save a new version of an article.
#[utoipa::path(put, path = "/api/v1/kb/articles/{id}", tag = "help center", params(("id" = String, Path)), request_body = ArticleBody,
    responses((status = 200, body = Article), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_article(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ArticleBody>,
) -> ApiResult<Json<Article>> {
    let (input, version) = b.split();
    Ok(Json(s.app.update_kb_article(&p, &id, input, version).await?))
}

/// Delete an article (supervisors and admins); its translations stay.
#[utoipa::path(delete, path = "/api/v1/kb/articles/{id}", tag = "help center", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_article(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.delete_kb_article(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every saved version, newest first.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "help center", params(("id" = String, Path)), responses((status = 200, body = Items<ArticleVersion>), (status = 404, body = Problem)))]
pub async fn versions(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Items<ArticleVersion>>> {
    Ok(Json(Items { items: s.app.kb_versions(&p, &id).await? }))
}

/// Markdown rendered as the help center shows it.
#[utoipa::path(post, path = "/api/v1/kb/preview", tag = "help center", request_body = PreviewBody, responses((status = 200, body = Preview), (status = 422, body = Problem)))]
pub async fn preview(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<PreviewBody>) -> ApiResult<Json<Preview>> {
    Ok(Json(Preview { html: s.app.kb_preview(&p, &b.body, &b.locale)? }))
}

/// Search articles as an agent (to answer with one), drafts optionally included; not recorded.
#[utoipa::path(get, path = "/api/v1/kb/search", tag = "help center", params(AgentSearchParams), responses((status = 200, body = ArticleSearch), (status = 422, body = Problem)))]
pub async fn agent_search(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<AgentSearchParams>,
) -> ApiResult<Json<ArticleSearch>> {
    let req = KbSearchRequest {
        q: q.q,
        locale: q.locale,
        limit: q.limit.unwrap_or(10),
        source: SearchSource::Console,
        track: false,
        include_drafts: q.drafts,
        kind: None,
    };
    Ok(Json(s.app.kb_search(Some(&p), req).await?))
}

#[utoipa::path(get, path = "/api/v1/kb/categories", tag = "help center", responses((status = 200, body = Items<Category>)))]
pub async fn list_categories(State(s): State<WebState>, Auth(_agent): Auth) -> ApiResult<Json<Items<Category>>> {
    Ok(Json(Items { items: s.app.kb_categories().await? }))
}

/// Add a category, or a section with `parent` (supervisors and admins).
#[utoipa::path(post, path = "/api/v1/kb/categories", tag = "help center", request_body = CategoryBody,
    responses((status = 201, body = Category), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_category(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<CategoryBody>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_kb_category(&p, b.into()).await?)))
}

#[utoipa::path(put, path = "/api/v1/kb/categories/{id}", tag = "help center", params(("id" = String, Path)), request_body = CategoryBody,
    responses((status = 200, body = Category), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_category(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CategoryBody>,
) -> ApiResult<Json<Category>> {
    Ok(Json(s.app.update_kb_category(&p, &id, b.into()).await?))
}

/// Delete a category and its sections; their articles stay, uncategorised.
#[utoipa::path(delete, path = "/api/v1/kb/categories/{id}", tag = "help center", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_category(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.delete_kb_category(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/kb/synonyms", tag = "help center", responses((status = 200, body = Synonyms)))]
pub async fn get_synonyms(State(s): State<WebState>, Auth(_agent): Auth) -> ApiResult<Json<Synonyms>> {
    Ok(Json(Synonyms { groups: s.app.kb_synonyms().await? }))
}

/// Replace the synonym groups (supervisors and admins); searches use them within a second.
#[utoipa::path(put, path = "/api/v1/kb/synonyms", tag = "help center", request_body = Synonyms, responses((status = 200, body = Synonyms), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_synonyms(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<Synonyms>) -> ApiResult<Json<Synonyms>> {
    Ok(Json(Synonyms { groups: s.app.set_kb_synonyms(&p, b.groups).await? }))
}

/// What readers search for, what finds nothing, and which articles they rate poorly.
#[utoipa::path(get, path = "/api/v1/kb/analytics", tag = "help center", params(AnalyticsParams), responses((status = 200, body = KbAnalytics), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn analytics(State(s): State<WebState>, Auth(p): Auth, ApiQuery(q): ApiQuery<AnalyticsParams>) -> ApiResult<Json<KbAnalytics>> {
    Ok(Json(s.app.kb_analytics(&p, q.days.unwrap_or(30)).await?))
}

/// Rebuild the search index on every node (admins).
#[utoipa::path(post, path = "/api/v1/kb/reindex", tag = "help center", responses((status = 202, body = Rebuild), (status = 403, body = Problem)))]
pub async fn reindex(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<(StatusCode, Json<Rebuild>)> {
    p.require_admin()?;
    Ok((StatusCode::ACCEPTED, Json(Rebuild { rebuild: s.app.request_kb_rebuild().await? })))
}

// ---- public ----

/// Search published articles: the help center, the widget and integrations use this.
#[utoipa::path(get, path = "/api/v1/help/search", tag = "help center (public)", params(PublicSearchParams), responses((status = 200, body = ArticleSearch), (status = 422, body = Problem)))]
pub async fn public_search(State(s): State<WebState>, ApiQuery(q): ApiQuery<PublicSearchParams>) -> ApiResult<Json<ArticleSearch>> {
    let req = KbSearchRequest {
        source: source(q.source.as_deref())?,
        q: q.q,
        locale: q.locale,
        limit: q.limit.unwrap_or(10),
        track: q.track.unwrap_or(true),
        include_drafts: false,
        kind: q.kind,
    };
    Ok(Json(s.app.kb_search(None, req).await?))
}

/// A published article.
#[utoipa::path(get, path = "/api/v1/help/articles/{slug}", tag = "help center (public)", params(("slug" = String, Path)), responses((status = 200, body = Article), (status = 404, body = Problem)))]
pub async fn public_article(State(s): State<WebState>, Path(slug): Path<String>) -> ApiResult<Json<Article>> {
    Ok(Json(s.app.kb_article_page(&slug).await?.article))
}

/// The help center's categories and sections.
#[utoipa::path(get, path = "/api/v1/help/categories", tag = "help center (public)", responses((status = 200, body = Items<Category>)))]
pub async fn public_categories(State(s): State<WebState>) -> ApiResult<Json<Items<Category>>> {
    Ok(Json(Items { items: s.app.kb_categories().await? }))
}

/// "Was this helpful?" for a published article.
#[utoipa::path(post, path = "/api/v1/help/articles/{id}/feedback", tag = "help center (public)", params(("id" = String, Path)), request_body = FeedbackBody,
    responses((status = 201, body = FeedbackCreated), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn feedback(
    State(s): State<WebState>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<FeedbackBody>,
) -> ApiResult<(StatusCode, Json<FeedbackCreated>)> {
    let id = s.app.kb_feedback(&id, b.helpful, b.comment.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(FeedbackCreated { id })))
}

/// Add a comment to one's vote, within the hour.
#[utoipa::path(post, path = "/api/v1/help/articles/{id}/feedback/{feedback_id}/comment", tag = "help center (public)",
    params(("id" = String, Path), ("feedback_id" = String, Path)), request_body = CommentBody,
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn feedback_comment(
    State(s): State<WebState>,
    Path((id, feedback_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<CommentBody>,
) -> ApiResult<StatusCode> {
    s.app.kb_feedback_comment(&id, &feedback_id, &b.comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Report which result of a search was opened (links from a search record it by themselves).
#[utoipa::path(post, path = "/api/v1/help/clicks", tag = "help center (public)", request_body = ClickBody, responses((status = 204), (status = 422, body = Problem)))]
pub async fn click(State(s): State<WebState>, ApiJson(b): ApiJson<ClickBody>) -> ApiResult<StatusCode> {
    s.app.kb_record_click(&b.search_id, &b.article_id)?;
    Ok(StatusCode::NO_CONTENT)
}
