//! Teams, canned responses, macros, saved views and notifications.

use crate::WebState;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use crate::routes::me::Items;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kefu_app::library::CannedInput;
use kefu_domain::{CannedResponse, Conversation, ConversationFilter, Macro, MacroAction, Message, Notification, SavedView, Team};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub name: String,
    /// Agents outside a private team cannot see its conversations.
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub member_ids: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub private: Option<bool>,
    /// Replaces the members.
    pub member_ids: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedBody {
    /// Typed after `/` in the reply box.
    pub shortcut: String,
    pub title: String,
    /// zh-CN, zh-TW or en.
    pub locale: String,
    /// May use `{{contact.name}}`, `{{conversation.number}}`, `{{agent.name}}`.
    pub body: String,
    /// Shared with everyone (supervisors and admins), else personal.
    #[serde(default)]
    pub shared: bool,
}

impl From<CannedBody> for CannedInput {
    fn from(b: CannedBody) -> Self {
        CannedInput { shortcut: b.shortcut, title: b.title, locale: b.locale, body: b.body, shared: b.shared }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CannedParams {
    /// Part of the shortcut, title or text.
    pub q: Option<String>,
    pub locale: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RenderParams {
    pub conversation_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Rendered {
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MacroBody {
    pub name: String,
    pub actions: Vec<MacroAction>,
    #[serde(default)]
    pub shared: bool,
    /// Acts on the customer's account (unlock, 2FA reset…): the macro runs only once the
    /// conversation's customer passed an identity check.
    #[serde(default)]
    pub sensitive: bool,
}

impl MacroBody {
    fn input(&self) -> kefu_app::library::MacroInput<'_> {
        kefu_app::library::MacroInput { name: &self.name, actions: &self.actions, shared: self.shared, sensitive: self.sensitive }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyMacro {
    pub macro_id: String,
    /// The conversation version you saw.
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MacroApplied {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewBody {
    pub name: String,
    /// Listed for every agent (supervisors and admins).
    #[serde(default)]
    pub shared: bool,
    pub filters: ConversationFilter,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationParams {
    #[serde(default)]
    pub unread: bool,
}

/// Teams and their members.
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", responses((status = 200, body = Items<Team>)))]
pub async fn list_teams(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<Items<Team>>> {
    Ok(Json(Items { items: s.app.list_teams(&p).await? }))
}

/// Create a team (admins).
#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = TeamBody, responses((status = 201, body = Team), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_team(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<TeamBody>) -> ApiResult<(StatusCode, Json<Team>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_team(&p, &b.name, b.private, &b.member_ids).await?)))
}

/// Rename a team, make it private or public, or replace its members (admins).
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path)), request_body = TeamPatch,
    responses((status = 200, body = Team), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_team(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TeamPatch>,
) -> ApiResult<Json<Team>> {
    Ok(Json(s.app.update_team(&p, &id, b.name.as_deref(), b.private, b.member_ids.as_deref()).await?))
}

/// Delete a team; its conversations become team-less (admins).
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_team(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.delete_team(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Canned responses I can use: shared ones and my own.
#[utoipa::path(get, path = "/api/v1/canned-responses", tag = "canned", params(CannedParams), responses((status = 200, body = Items<CannedResponse>)))]
pub async fn list_canned(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<CannedParams>,
) -> ApiResult<Json<Items<CannedResponse>>> {
    Ok(Json(Items { items: s.app.list_canned(&p, q.q.as_deref(), q.locale.as_deref()).await? }))
}

/// Create a canned response.
#[utoipa::path(post, path = "/api/v1/canned-responses", tag = "canned", request_body = CannedBody,
    responses((status = 201, body = CannedResponse), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_canned(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<CannedBody>,
) -> ApiResult<(StatusCode, Json<CannedResponse>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_canned(&p, b.into()).await?)))
}

/// Replace a canned response.
#[utoipa::path(put, path = "/api/v1/canned-responses/{id}", tag = "canned", params(("id" = String, Path)), request_body = CannedBody,
    responses((status = 200, body = CannedResponse), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_canned(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CannedBody>,
) -> ApiResult<Json<CannedResponse>> {
    Ok(Json(s.app.update_canned(&p, &id, b.into()).await?))
}

/// Delete a canned response.
#[utoipa::path(delete, path = "/api/v1/canned-responses/{id}", tag = "canned", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_canned(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.delete_canned(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A canned response with its variables filled in for a conversation.
#[utoipa::path(get, path = "/api/v1/canned-responses/{id}/render", tag = "canned", params(("id" = String, Path), RenderParams), responses((status = 200, body = Rendered), (status = 404, body = Problem)))]
pub async fn render_canned(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RenderParams>,
) -> ApiResult<Json<Rendered>> {
    Ok(Json(Rendered { body: s.app.render_canned(&p, &id, &q.conversation_id).await? }))
}

/// Macros I can run: shared ones and my own.
#[utoipa::path(get, path = "/api/v1/macros", tag = "macros", responses((status = 200, body = Items<Macro>)))]
pub async fn list_macros(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<Items<Macro>>> {
    Ok(Json(Items { items: s.app.list_macros(&p).await? }))
}

/// Create a macro.
#[utoipa::path(post, path = "/api/v1/macros", tag = "macros", request_body = MacroBody,
    responses((status = 201, body = Macro), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_macro(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<MacroBody>,
) -> ApiResult<(StatusCode, Json<Macro>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_macro(&p, &b.input()).await?)))
}

/// Replace a macro.
#[utoipa::path(put, path = "/api/v1/macros/{id}", tag = "macros", params(("id" = String, Path)), request_body = MacroBody,
    responses((status = 200, body = Macro), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_macro(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MacroBody>,
) -> ApiResult<Json<Macro>> {
    Ok(Json(s.app.update_macro(&p, &id, &b.input()).await?))
}

/// Delete a macro.
#[utoipa::path(delete, path = "/api/v1/macros/{id}", tag = "macros", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_macro(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.delete_macro(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Run a macro on a conversation.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/apply-macro", tag = "macros", params(("id" = String, Path)), request_body = ApplyMacro,
    responses((status = 200, body = MacroApplied), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn apply_macro(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ApplyMacro>,
) -> ApiResult<Json<MacroApplied>> {
    let (conversation, messages) = s.app.apply_macro(&p, &id, &b.macro_id, b.version).await?;
    Ok(Json(MacroApplied { conversation, messages }))
}

/// My saved views and the shared ones.
#[utoipa::path(get, path = "/api/v1/views", tag = "inbox", responses((status = 200, body = Items<SavedView>)))]
pub async fn list_views(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<Items<SavedView>>> {
    Ok(Json(Items { items: s.app.list_views(&p).await? }))
}

/// Save a custom filter as a view.
#[utoipa::path(post, path = "/api/v1/views", tag = "inbox", request_body = ViewBody, responses((status = 201, body = SavedView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_view(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<ViewBody>,
) -> ApiResult<(StatusCode, Json<SavedView>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_view(&p, &b.name, b.shared, b.filters).await?)))
}

/// Delete one of my views.
#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "inbox", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_view(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.delete_view(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// My notifications (mentions), newest first.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "me", params(NotificationParams), responses((status = 200, body = Items<Notification>)))]
pub async fn notifications(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<NotificationParams>,
) -> ApiResult<Json<Items<Notification>>> {
    Ok(Json(Items { items: s.app.list_notifications(&p, q.unread).await? }))
}

/// Mark one notification read.
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "me", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn read_notification(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.mark_notifications_read(&p, Some(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark all my notifications read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read-all", tag = "me", responses((status = 204)))]
pub async fn read_all_notifications(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<StatusCode> {
    s.app.mark_notifications_read(&p, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
