//! Signing in (password, then TOTP when enrolled), the current session, signing out.

use crate::WebState;
use crate::extract::{ApiJson, AuthMayEnrol, Client};
use crate::middleware::SESSION_COOKIE;
use crate::problem::{ApiResult, Problem};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_app::auth::{LoginOutcome, NewSessionGrant, SessionInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(min_length = 1)]
    pub email: String,
    #[schema(min_length = 1)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpLoginRequest {
    /// From the `totp_required` answer to the password step.
    pub challenge: String,
    /// Six digits from the authenticator app, or one recovery code.
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
}

#[derive(Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginResponse {
    /// Signed in; the session cookie is set.
    Ok { session: SessionInfo },
    /// Password accepted; now send a TOTP or recovery code with this challenge.
    TotpRequired { challenge: String },
}

fn session_cookie(state: &WebState, headers: &HeaderMap, value: &str, max_age: u64) -> HeaderValue {
    crate::middleware::cookie_header(state, headers, SESSION_COOKIE, value, max_age, "Strict")
}

fn signed_in(state: &WebState, headers: &HeaderMap, grant: NewSessionGrant) -> Response {
    let cookie = session_cookie(state, headers, &grant.token, state.app.config().session_idle.as_secs());
    let mut res = axum::Json(LoginResponse::Ok { session: grant.info }).into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    res
}

/// Sign in with e-mail and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem), (status = 423, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(state): State<WebState>,
    headers: HeaderMap,
    Client(client): Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    match state.app.login(&req.email, &req.password, &client).await? {
        LoginOutcome::SignedIn(grant) => Ok(signed_in(&state, &headers, grant)),
        LoginOutcome::TotpRequired { challenge } => Ok(axum::Json(LoginResponse::TotpRequired { challenge }).into_response()),
    }
}

/// Second sign-in step: a TOTP code or a recovery code.
#[utoipa::path(post, path = "/api/v1/auth/login/totp", tag = "auth", request_body = TotpLoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem)))]
pub async fn login_totp(
    State(state): State<WebState>,
    headers: HeaderMap,
    Client(client): Client,
    ApiJson(req): ApiJson<TotpLoginRequest>,
) -> ApiResult<Response> {
    let grant = state.app.login_totp(&req.challenge, &req.code, &client).await?;
    Ok(signed_in(&state, &headers, grant))
}

/// The signed-in agent and the CSRF token for cookie-authenticated writes.
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "auth", responses((status = 200, body = SessionInfo), (status = 401, body = Problem)))]
pub async fn session(State(state): State<WebState>, AuthMayEnrol(p): AuthMayEnrol) -> ApiResult<axum::Json<SessionInfo>> {
    Ok(axum::Json(state.app.session_info(&p).await?))
}

/// Sign out: the session is revoked and the cookie cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(State(state): State<WebState>, headers: HeaderMap, AuthMayEnrol(p): AuthMayEnrol) -> ApiResult<Response> {
    state.app.logout(&p).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(&state, &headers, "", 0));
    Ok(res)
}
