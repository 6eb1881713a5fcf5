//! The customer ticket portal's API: opening a ticket (multipart form), signing in with a magic
//! link or the exchange's signed identity, and reading and answering one's own tickets.
//! Portal visitors hold a `kefu_portal` cookie; writes also need `X-Kefu-Portal: 1`, a header
//! other sites cannot send, as the CSRF guard.

use crate::WebState;
use crate::extract::ApiJson;
use crate::middleware::cookie;
use crate::problem::{ApiResult, Problem};
use crate::routes::files::{multipart_problem, read_file_field};
use crate::routes::me::Items;
use axum::Json;
use axum::extract::{FromRequestParts, Multipart, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_app::AppError;
use kefu_app::portal::{NewTicket, PortalMessage, PortalPrincipal, PortalSession, PortalTicket, PortalTicketDetail};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PORTAL_COOKIE: &str = "kefu_portal";
pub const PORTAL_HEADER: &str = "x-kefu-portal";

/// A signed-in portal visitor.
pub struct PortalAuth(pub PortalPrincipal);

fn csrf_ok(parts: &Parts) -> bool {
    parts.method.is_safe() || parts.headers.get(PORTAL_HEADER).is_some_and(|v| v.as_bytes() == b"1")
}

fn csrf_problem() -> Problem {
    Problem::new(StatusCode::FORBIDDEN, "csrf_failed", "portal writes must send the header X-Kefu-Portal: 1")
}

impl FromRequestParts<WebState> for PortalAuth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &WebState) -> Result<Self, Problem> {
        let Some(token) = cookie(&parts.headers, PORTAL_COOKIE) else { return Err(AppError::Unauthenticated.into()) };
        let pp = s.app.portal_principal(token).await?.ok_or(AppError::Unauthenticated)?;
        if !csrf_ok(parts) {
            return Err(csrf_problem());
        }
        Ok(PortalAuth(pp))
    }
}

/// The visitor if signed in; writes still need the portal header.
pub struct MaybePortal(pub Option<PortalPrincipal>);

impl FromRequestParts<WebState> for MaybePortal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &WebState) -> Result<Self, Problem> {
        if !csrf_ok(parts) {
            return Err(csrf_problem());
        }
        Ok(MaybePortal(match cookie(&parts.headers, PORTAL_COOKIE) {
            Some(token) => s.app.portal_principal(token).await?,
            None => None,
        }))
    }
}

/// Lax, not Strict: a customer arrives at the portal from the exchange's site or an e-mail link.
fn portal_cookie(s: &WebState, headers: &HeaderMap, value: &str, max_age: u64) -> HeaderValue {
    crate::middleware::cookie_header(s, headers, PORTAL_COOKIE, value, max_age, "Lax")
}

#[derive(Serialize, ToSchema)]
pub struct TicketCreated {
    pub ticket: PortalTicket,
    /// The private link to this ticket: keep it to come back later.
    pub link: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SignIn {
    /// A magic link's token (the last part of `/portal/t/<token>`).
    Link { token: String },
    /// The exchange's signed identity: `user_hash` = hex HMAC-SHA256 of `user_id`.
    Identity { user_id: String, user_hash: String, email: Option<String>, name: Option<String> },
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalReply {
    #[schema(min_length = 1, max_length = 50000)]
    pub body: String,
    pub client_key: Option<String>,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

const SESSION_SECS: u64 = 7 * 86_400;

/// Open a ticket: multipart fields `name`, `email`, `subject`, `description`, `category`,
/// optional `language`, and any number of `files`. Signs the visitor in to it.
#[utoipa::path(post, path = "/api/v1/portal/tickets", tag = "portal", request_body(content_type = "multipart/form-data"),
    responses((status = 201, body = TicketCreated), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn open_ticket(
    State(s): State<WebState>,
    headers: HeaderMap,
    MaybePortal(who): MaybePortal,
    mut mp: Multipart,
) -> ApiResult<Response> {
    let mut t = NewTicket {
        name: String::new(),
        email: String::new(),
        subject: String::new(),
        description: String::new(),
        category: String::new(),
        files: Vec::new(),
        language: None,
    };
    let limit = s.app.max_attachment_bytes();
    while let Some(field) = mp.next_field().await.map_err(multipart_problem)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "files" || name == "file" {
            if field.file_name().is_some_and(|n| !n.is_empty()) {
                let f = read_file_field(field, limit).await?;
                if !f.1.is_empty() {
                    t.files.push(f);
                }
            }
            continue;
        }
        let text = field.text().await.map_err(multipart_problem)?;
        if text.len() > 60_000 {
            return Err(Problem::from(AppError::Validation(vec![kefu_domain::FieldError::new(&name, "is too long")])));
        }
        match name.as_str() {
            "name" => t.name = text,
            "email" => t.email = text,
            "subject" => t.subject = text,
            "description" => t.description = text,
            "category" => t.category = text,
            "language" => t.language = Some(text).filter(|l| !l.is_empty()),
            other => {
                return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", format!("unknown field `{other}`")));
            }
        }
    }
    let opened = s.app.portal_open_ticket(who.as_ref(), t).await?;
    let mut res = (StatusCode::CREATED, Json(TicketCreated { ticket: opened.ticket, link: opened.link_path })).into_response();
    if !opened.session_token.is_empty() {
        res.headers_mut().insert(header::SET_COOKIE, portal_cookie(&s, &headers, &opened.session_token, SESSION_SECS));
    }
    Ok(res)
}

/// Sign in to the portal with a magic link's token or the exchange's signed identity.
#[utoipa::path(post, path = "/api/v1/portal/session", tag = "portal", request_body = SignIn,
    responses((status = 200, body = PortalSession), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn sign_in(
    State(s): State<WebState>,
    headers: HeaderMap,
    _visitor: MaybePortal,
    ApiJson(b): ApiJson<SignIn>,
) -> ApiResult<Response> {
    let token = match b {
        SignIn::Link { token } => s.app.portal_sign_in_with_link(&token).await?,
        SignIn::Identity { user_id, user_hash, email, name } => {
            s.app.portal_sign_in_with_identity(&user_id, &user_hash, email.as_deref(), name.as_deref()).await?
        }
    };
    let pp = s.app.portal_principal(&token).await?.ok_or(AppError::Unauthenticated)?;
    let mut res = Json(s.app.portal_session_info(&pp).await?).into_response();
    res.headers_mut().insert(header::SET_COOKIE, portal_cookie(&s, &headers, &token, SESSION_SECS));
    Ok(res)
}

/// Who I am in the portal.
#[utoipa::path(get, path = "/api/v1/portal/session", tag = "portal", responses((status = 200, body = PortalSession), (status = 401, body = Problem)))]
pub async fn session(State(s): State<WebState>, PortalAuth(pp): PortalAuth) -> ApiResult<Json<PortalSession>> {
    Ok(Json(s.app.portal_session_info(&pp).await?))
}

/// Sign out of the portal.
#[utoipa::path(delete, path = "/api/v1/portal/session", tag = "portal", responses((status = 204), (status = 401, body = Problem)))]
pub async fn sign_out(State(s): State<WebState>, headers: HeaderMap, PortalAuth(pp): PortalAuth) -> ApiResult<Response> {
    s.app.portal_sign_out(&pp).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, portal_cookie(&s, &headers, "", 0));
    Ok(res)
}

/// My tickets, most recent first.
#[utoipa::path(get, path = "/api/v1/portal/tickets", tag = "portal", responses((status = 200, body = Items<PortalTicket>), (status = 401, body = Problem)))]
pub async fn tickets(State(s): State<WebState>, PortalAuth(pp): PortalAuth) -> ApiResult<Json<Items<PortalTicket>>> {
    Ok(Json(Items { items: s.app.portal_tickets(&pp).await? }))
}

/// One of my tickets with its public messages.
#[utoipa::path(get, path = "/api/v1/portal/tickets/{id}", tag = "portal", params(("id" = String, Path)), responses((status = 200, body = PortalTicketDetail), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn ticket(State(s): State<WebState>, PortalAuth(pp): PortalAuth, Path(id): Path<String>) -> ApiResult<Json<PortalTicketDetail>> {
    Ok(Json(s.app.portal_ticket(&pp, &id).await?))
}

/// Reply on one of my tickets (a resolved ticket opens again; a closed one refuses).
#[utoipa::path(post, path = "/api/v1/portal/tickets/{id}/messages", tag = "portal", params(("id" = String, Path)), request_body = PortalReply,
    responses((status = 201, body = PortalMessage), (status = 200, body = PortalMessage), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reply(
    State(s): State<WebState>,
    PortalAuth(pp): PortalAuth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PortalReply>,
) -> ApiResult<Response> {
    let (created, m) = s.app.portal_reply(&pp, &id, b.body, b.client_key, b.attachment_ids).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(m)).into_response())
}

/// Answer an identity check an agent asked for on one of my tickets: `code` for `email_code`
/// and `exchange_totp`, `identity` (a freshly signed token) for `signed_session`.
#[utoipa::path(post, path = "/api/v1/portal/tickets/{id}/identity-checks/{check_id}", tag = "portal",
    params(("id" = String, Path), ("check_id" = String, Path)), request_body = kefu_app::identity_check::CheckAnswer,
    responses((status = 200, body = kefu_domain::IdentityCheck), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn answer_check(
    State(s): State<WebState>,
    PortalAuth(pp): PortalAuth,
    Path((id, check_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<kefu_app::identity_check::CheckAnswer>,
) -> ApiResult<Json<kefu_domain::IdentityCheck>> {
    Ok(Json(s.app.portal_answer_check(&pp, &id, &check_id, &b).await?))
}
