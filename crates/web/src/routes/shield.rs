//! The security shield's API: its settings (admins) and the public official verification
//! service.

use crate::WebState;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use kefu_app::shield::ShieldSettings;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[utoipa::path(get, path = "/api/v1/shield/settings", tag = "security",
    responses((status = 200, body = ShieldSettings), (status = 403, body = Problem)))]
pub async fn get_settings(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<ShieldSettings>> {
    Ok(Json(s.app.get_shield_settings(&p).await?))
}

/// Set the official channels, the domains agents may also link to and the API secret patterns
/// (admins). With `KEFU_OFFICIAL_DOMAINS` set, the domains given here are kept but not used.
#[utoipa::path(put, path = "/api/v1/shield/settings", tag = "security", request_body = ShieldSettings,
    responses((status = 200, body = ShieldSettings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<ShieldSettings>,
) -> ApiResult<Json<ShieldSettings>> {
    Ok(Json(s.app.put_shield_settings(&p, b).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct VerifyParams {
    /// A link or domain, e-mail address, Telegram account (`@name`, `t.me/name`), phone number
    /// or agent id.
    pub q: String,
}

/// The verification answer.
#[derive(Serialize, ToSchema)]
pub struct VerifyAnswer {
    pub query: String,
    /// `url`, `domain`, `email`, `telegram`, `phone` or `agent_id`.
    pub kind: String,
    /// `official`, `lookalike` or `unknown`.
    pub verdict: String,
    /// The official domain or account it imitates.
    pub lookalike_of: Option<String>,
    /// Why it looks like an official one: `homoglyph`, `typo`, `tld_swap`, `bitflip`,
    /// `added_words`, `subdomain`, `at_sign`; `shortener` when a link's destination is hidden.
    pub reason: Option<String>,
}

fn as_string<T: Serialize>(v: T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl From<kefu_shield::Verification> for VerifyAnswer {
    fn from(v: kefu_shield::Verification) -> Self {
        VerifyAnswer {
            query: v.query,
            kind: as_string(v.kind),
            verdict: v.verdict.as_str().into(),
            lookalike_of: v.lookalike_of,
            reason: v.reason.map(as_string),
        }
    }
}

/// Is this official? Anyone may ask, from anywhere: the exchange's own pages, a browser, a bot.
#[utoipa::path(get, path = "/api/v1/verify", tag = "security", params(VerifyParams),
    responses((status = 200, body = VerifyAnswer), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn verify(State(s): State<WebState>, ApiQuery(q): ApiQuery<VerifyParams>) -> ApiResult<Json<VerifyAnswer>> {
    Ok(Json(s.app.verify(&q.q).await?.into()))
}

// --- Step-up identity checks ---------------------------------------------------------------

/// A conversation's identity checks, newest first, with the ways one can be started now.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/identity-checks", tag = "security", params(("id" = String, Path)),
    responses((status = 200, body = kefu_app::identity_check::IdentityChecks), (status = 404, body = Problem)))]
pub async fn identity_checks(
    State(s): State<WebState>,
    Auth(p): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Json<kefu_app::identity_check::IdentityChecks>> {
    Ok(Json(s.app.identity_checks(&p, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCheck {
    /// `email_code`, `exchange_totp` or `signed_session`.
    pub method: String,
    /// `account_unlock`, `twofa_reset`, `contact_change`, `withdrawal_dispute`,
    /// `security_hacked`, `close_account` or `other`.
    pub reason: String,
}

/// Ask the customer to prove who they are before a sensitive action. They are asked in the
/// conversation (and mailed a code for `email_code`); a pending check is replaced. At most
/// three checks per customer an hour.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/identity-checks", tag = "security", params(("id" = String, Path)), request_body = StartCheck,
    responses((status = 201, body = kefu_domain::IdentityCheck), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn start_identity_check(
    State(s): State<WebState>,
    Auth(p): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
    ApiJson(b): ApiJson<StartCheck>,
) -> ApiResult<(axum::http::StatusCode, Json<kefu_domain::IdentityCheck>)> {
    Ok((axum::http::StatusCode::CREATED, Json(s.app.start_identity_check(&p, &id, &b.method, &b.reason).await?)))
}
