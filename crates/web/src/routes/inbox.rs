//! The unified inbox API: conversations, their messages and timeline, views and counts, bulk
//! actions, merge, collision presence, search, and the live event stream the console follows.

use crate::WebState;
use crate::extract::{ApiJson, ApiQuery, Auth, double_option};
use crate::problem::{ApiResult, Problem};
use crate::routes::me::Items;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_app::contacts::ContactInput;
use kefu_app::conversations::{
    BulkAction, BulkResult, ConversationUpdate, ListRequest, NewConversationInput, NewMessageInput, Timeline, ViewCounts,
};
use kefu_app::presence::Viewer;
use kefu_app::search::{SearchRequest, SearchResults};
use kefu_domain::{AuthorKind, Channel, Conversation, ConversationFilter, Message, Page, Priority, Status};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactRefBody {
    pub name: Option<String>,
    #[schema(format = "email")]
    pub email: Option<String>,
    pub phone: Option<String>,
    pub exchange_user_id: Option<String>,
    pub telegram_id: Option<String>,
    /// zh-CN, zh-TW or en.
    pub language: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    #[schema(min_length = 1, max_length = 50000)]
    pub body: String,
    /// HTML version (sanitized before it is stored).
    pub html: Option<String>,
    /// `agent` (default) or `customer` (logs what a customer said, e.g. through an integration).
    pub author: Option<AuthorKind>,
    /// A private note, seen by agents only. Mention a colleague as `@[Name](agent-id)`.
    #[serde(default)]
    pub private: bool,
    /// Chosen by the client per message; a retry with the same key never duplicates.
    #[schema(max_length = 100)]
    pub client_key: Option<String>,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// Also set the conversation's status (e.g. reply and mark `pending`).
    pub status: Option<Status>,
}

impl From<MessageBody> for NewMessageInput {
    fn from(m: MessageBody) -> Self {
        NewMessageInput {
            body: m.body,
            html: m.html,
            author: m.author,
            private: m.private,
            client_key: m.client_key,
            attachment_ids: m.attachment_ids,
            status: m.status,
            actions: None,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    /// Default `api`.
    pub channel: Option<Channel>,
    /// Taken from the first line of the message when left out.
    #[schema(max_length = 300)]
    pub subject: Option<String>,
    /// An existing contact; or describe one in `contact` (found by identity, else created).
    pub contact_id: Option<String>,
    pub contact: Option<ContactRefBody>,
    /// The first message; `author` defaults to `customer` here.
    pub message: Option<MessageBody>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    pub language: Option<String>,
    pub intent: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub conversation: Conversation,
    pub message: Option<Message>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateConversation {
    /// The version you saw (or send `If-Match`); a stale one gets 409 `version_conflict`.
    pub version: Option<i64>,
    pub subject: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    /// `null` unassigns.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub team_id: Option<Option<String>>,
    /// Replaces all tags.
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// Merged into the current fields; a `null` value removes a field.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub intent: Option<Option<String>>,
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `mine`, `unassigned`, `open`, `all` (default) or a saved view's id.
    pub view: Option<String>,
    /// Comma-separated statuses.
    pub status: Option<String>,
    /// `me`, `none` or an agent id.
    pub assignee: Option<String>,
    /// `none` or a team id.
    pub team: Option<String>,
    pub tag: Option<String>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub contact_id: Option<String>,
    /// `last_activity` (default), `priority`, `waiting` or `created`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// Conversations to merge into this one (they close as merged).
    pub source_ids: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub ids: Vec<String>,
    pub action: BulkAction,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    /// `viewing`, `typing` or `left`.
    pub state: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    pub q: String,
    pub status: Option<Status>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    /// `me`, `none` (unassigned) or an agent id.
    pub assignee: Option<String>,
    pub tag: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

fn parse_statuses(raw: Option<&str>) -> Result<Option<Vec<Status>>, Problem> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(None) };
    raw.split(',')
        .map(|s| {
            Status::parse(s.trim()).ok_or_else(|| {
                Problem::new(StatusCode::BAD_REQUEST, "invalid_query", format!("status {s:?} is not one of {}", Status::names()))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `If-Match: "7"` (or `W/"7"`, or `7`) as a version.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let s = v.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
    s.parse::<i64>()
        .map(Some)
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "If-Match must be the conversation's version, e.g. \"3\""))
}

fn with_etag(c: Conversation) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", c.version)).ok();
    let mut res = Json(c).into_response();
    if let Some(e) = etag {
        res.headers_mut().insert(header::ETAG, e);
    }
    res
}

/// List conversations of a view, filtered and sorted.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "inbox", params(ListParams), responses((status = 200, body = Page<Conversation>), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn list(State(s): State<WebState>, Auth(p): Auth, ApiQuery(q): ApiQuery<ListParams>) -> ApiResult<Json<Page<Conversation>>> {
    let filter = ConversationFilter {
        status: parse_statuses(q.status.as_deref())?,
        assignee: q.assignee,
        team: q.team,
        tag: q.tag,
        channel: q.channel,
        priority: q.priority,
        contact_id: q.contact_id,
    };
    let req = ListRequest { view: q.view, filter, sort: q.sort, cursor: q.cursor, limit: q.limit.unwrap_or(50) };
    Ok(Json(s.app.list_conversations(&p, req).await?))
}

/// Open a conversation (ticket) on any channel.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "inbox", request_body = CreateConversation,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation")),
    responses((status = 201, body = Created), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<CreateConversation>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let c = b.contact.unwrap_or_default();
    let input = NewConversationInput {
        channel: b.channel,
        subject: b.subject,
        contact: ContactInput {
            name: c.name,
            emails: c.email.map(|e| vec![e]),
            phones: c.phone.map(|x| vec![x]),
            exchange_user_id: c.exchange_user_id.map(Some),
            telegram_id: c.telegram_id.map(Some),
            language: c.language.map(Some),
            ..Default::default()
        },
        contact_id: b.contact_id,
        message: b.message.map(|m| {
            let mut m: NewMessageInput = m.into();
            m.author = m.author.or(Some(AuthorKind::Customer));
            m
        }),
        status: b.status,
        priority: b.priority,
        assignee_id: b.assignee_id,
        team_id: b.team_id,
        tags: b.tags,
        custom_fields: b.custom_fields,
        language: b.language,
        intent: b.intent,
    };
    let (conversation, message) = s.app.create_conversation(&p, input).await?;
    Ok((StatusCode::CREATED, Json(Created { conversation, message })))
}

/// One conversation, by id or number (`10234`). The `ETag` is its version.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "inbox", params(("id" = String, Path)), responses((status = 200, body = Conversation), (status = 404, body = Problem)))]
pub async fn get(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(with_etag(s.app.get_conversation(&p, &id).await?))
}

/// Change status, priority, assignee, team, tags or fields. Send `If-Match` or `version`.
#[utoipa::path(patch, path = "/api/v1/conversations/{id}", tag = "inbox", params(("id" = String, Path), ("If-Match" = Option<String>, Header)), request_body = UpdateConversation,
    responses((status = 200, body = Conversation), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<UpdateConversation>,
) -> ApiResult<Response> {
    let version = match (if_match(&headers)?, b.version) {
        (Some(h), Some(v)) if h != v => {
            return Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "If-Match and version disagree"));
        }
        (h, v) => h.or(v),
    };
    let u = ConversationUpdate {
        version,
        subject: b.subject,
        status: b.status,
        priority: b.priority,
        assignee_id: b.assignee_id,
        team_id: b.team_id,
        tags: b.tags,
        add_tags: b.add_tags,
        remove_tags: b.remove_tags,
        custom_fields: b.custom_fields,
        language: b.language,
        intent: b.intent,
    };
    Ok(with_etag(s.app.update_conversation(&p, &id, u).await?))
}

/// Everything that happened: messages, notes and changes, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/timeline", tag = "inbox", params(("id" = String, Path)), responses((status = 200, body = Timeline), (status = 404, body = Problem)))]
pub async fn timeline(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Timeline>> {
    Ok(Json(s.app.timeline(&p, &id).await?))
}

/// Reply, write a private note, or log a customer message. A repeated `client_key` returns
/// the stored message with 200 instead of 201.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "inbox", params(("id" = String, Path)), request_body = MessageBody,
    responses((status = 201, body = Message), (status = 200, body = Message), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn post_message(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MessageBody>,
) -> ApiResult<Response> {
    let (posted, _) = s.app.post_message(&p, &id, b.into()).await?;
    let status = if matches!(posted, kefu_app::conversations::Posted::Created(_)) { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(posted.message().clone())).into_response())
}

/// Merge other conversations into this one.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/merge", tag = "inbox", params(("id" = String, Path)), request_body = MergeBody,
    responses((status = 200, body = Conversation), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn merge(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MergeBody>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(s.app.merge_conversations(&p, &id, &b.source_ids).await?))
}

/// Assign, tag, change status or priority, move team, or merge many conversations at once.
#[utoipa::path(post, path = "/api/v1/conversations/bulk", tag = "inbox", request_body = BulkBody,
    responses((status = 200, body = Items<BulkResult>), (status = 422, body = Problem)))]
pub async fn bulk(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<BulkBody>) -> ApiResult<Json<Items<BulkResult>>> {
    Ok(Json(Items { items: s.app.bulk_update(&p, &b.ids, b.action).await? }))
}

/// Counts for the inbox sidebar.
#[utoipa::path(get, path = "/api/v1/conversations/counts", tag = "inbox", responses((status = 200, body = ViewCounts)))]
pub async fn counts(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<ViewCounts>> {
    Ok(Json(s.app.view_counts(&p).await?))
}

/// Tags in use, most used first.
#[utoipa::path(get, path = "/api/v1/tags", tag = "inbox", responses((status = 200, body = Items<TagCount>)))]
pub async fn tags(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<Items<TagCount>>> {
    Ok(Json(Items { items: s.app.list_tags(&p).await?.into_iter().map(|(tag, count)| TagCount { tag, count }).collect() }))
}

/// Say that I view, type in, or left a conversation; answers who else is there.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/presence", tag = "inbox", params(("id" = String, Path)), request_body = PresenceBody,
    responses((status = 200, body = Items<Viewer>), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn presence(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PresenceBody>,
) -> ApiResult<Json<Items<Viewer>>> {
    Ok(Json(Items { items: s.app.report_presence(&p, &id, &b.state).await? }))
}

/// Who is viewing or typing in a conversation now.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/presence", tag = "inbox", params(("id" = String, Path)), responses((status = 200, body = Items<Viewer>), (status = 404, body = Problem)))]
pub async fn viewers(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Items<Viewer>>> {
    Ok(Json(Items { items: s.app.viewers(&p, &id).await? }))
}

/// Full-text search over conversations (subjects, messages, contacts) and contacts, in Chinese
/// (Simplified and Traditional) and English.
#[utoipa::path(get, path = "/api/v1/search", tag = "inbox", params(SearchParams), responses((status = 200, body = SearchResults), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn search(State(s): State<WebState>, Auth(p): Auth, ApiQuery(q): ApiQuery<SearchParams>) -> ApiResult<Json<SearchResults>> {
    let req = SearchRequest {
        q: q.q,
        status: q.status,
        channel: q.channel.map(|c| c.as_str().to_string()),
        priority: q.priority,
        assignee_id: q.assignee,
        tag: q.tag,
        limit: q.limit.unwrap_or(20),
    };
    Ok(Json(s.app.search(&p, req).await?))
}
