//! The signed-in agent's own account: password, two-factor, sessions, API tokens.

use crate::WebState;
use crate::extract::{ApiJson, Auth, AuthMayEnrol};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kefu_app::auth::SessionView;
use kefu_app::tokens::{ApiToken, CreatedToken, NewTokenRequest, Scope};
use kefu_app::twofactor::{Enrolment, RecoveryCodes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(min_length = 1)]
    pub current_password: String,
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// A current TOTP code (or, where allowed, a recovery code).
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `admin` only for admins.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    /// Days until the token stops working; none for no expiry.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// Change my password.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn change_password(State(s): State<WebState>, Auth(p): Auth, ApiJson(r): ApiJson<PasswordChange>) -> ApiResult<StatusCode> {
    s.app.change_own_password(&p, &r.current_password, &r.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start two-factor enrolment: a new secret and its QR code.
#[utoipa::path(post, path = "/api/v1/me/2fa/enrol", tag = "me", responses((status = 200, body = Enrolment), (status = 409, body = Problem)))]
pub async fn enrol_2fa(State(s): State<WebState>, AuthMayEnrol(p): AuthMayEnrol) -> ApiResult<Json<Enrolment>> {
    Ok(Json(s.app.enrol_totp(&p).await?))
}

/// Finish enrolment with a code from the new secret; returns recovery codes, once.
#[utoipa::path(post, path = "/api/v1/me/2fa/confirm", tag = "me", request_body = CodeRequest,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = Problem), (status = 409, body = Problem)))]
pub async fn confirm_2fa(
    State(s): State<WebState>,
    AuthMayEnrol(p): AuthMayEnrol,
    ApiJson(r): ApiJson<CodeRequest>,
) -> ApiResult<Json<RecoveryCodes>> {
    Ok(Json(s.app.confirm_totp(&p, &r.code).await?))
}

/// Turn two-factor off (not where the role requires it).
#[utoipa::path(delete, path = "/api/v1/me/2fa", tag = "me", request_body = CodeRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn disable_2fa(State(s): State<WebState>, Auth(p): Auth, ApiJson(r): ApiJson<CodeRequest>) -> ApiResult<StatusCode> {
    s.app.disable_totp(&p, &r.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace my recovery codes with new ones.
#[utoipa::path(post, path = "/api/v1/me/2fa/recovery-codes", tag = "me", request_body = CodeRequest,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = Problem), (status = 409, body = Problem)))]
pub async fn regenerate_recovery(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(r): ApiJson<CodeRequest>,
) -> ApiResult<Json<RecoveryCodes>> {
    Ok(Json(s.app.regenerate_recovery_codes(&p, &r.code).await?))
}

/// My signed-in sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "me", responses((status = 200, body = Items<SessionView>)))]
pub async fn list_sessions(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<Items<SessionView>>> {
    Ok(Json(Items { items: s.app.list_my_sessions(&p).await? }))
}

/// Sign one of my sessions out.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "me", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_session(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.revoke_my_session(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// My API tokens (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "me", responses((status = 200, body = Items<ApiToken>)))]
pub async fn list_tokens(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<Items<ApiToken>>> {
    Ok(Json(Items { items: s.app.list_tokens(&p).await? }))
}

/// Create an API token; the secret is in this response only.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "me", request_body = TokenRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation")),
    responses((status = 201, body = CreatedToken), (status = 422, body = Problem)))]
pub async fn create_token(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(r): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let created = s.app.create_token(&p, NewTokenRequest { name: r.name, scopes: r.scopes, expires_in_days: r.expires_in_days }).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke one of my API tokens.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "me", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_token(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.revoke_token(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
