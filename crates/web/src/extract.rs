//! Extractors that turn every way a request can be wrong into a problem with a stable code,
//! and that hand handlers the authenticated principal.

use crate::problem::Problem;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use kefu_app::auth::ClientInfo;
use kefu_app::{AppError, Principal};
use serde::de::DeserializeOwned;

/// `Json` whose rejections are problems: 400 for broken JSON, 422 for JSON of the wrong shape
/// (unknown fields, wrong types, missing fields), 415 without a JSON content type, 413 when too big.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(json_problem(r)),
        }
    }
}

fn json_problem(r: JsonRejection) -> Problem {
    match r {
        JsonRejection::JsonSyntaxError(e) => {
            Problem::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {}", source_text(&e)))
        }
        JsonRejection::JsonDataError(e) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", source_text(&e)),
        JsonRejection::MissingJsonContentType(_) => Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE)
        }
        other => Problem::new(StatusCode::BAD_REQUEST, "malformed_json", other.body_text()),
    }
}

/// serde's own message ("unknown field `x`, expected one of …"), without axum's prefix.
fn source_text(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        msg = s.to_string();
        cur = s.source();
    }
    msg
}

/// `Query` whose rejections are 400 `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_query", source_text(&e)))
            }
            Err(other) => Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_query", other.body_text())),
        }
    }
}

/// The signed-in agent, fully authenticated: two-factor is set up where the role needs it.
pub struct Auth(pub Principal);

/// The signed-in agent, who may still owe two-factor enrolment: only for the session,
/// enrolment and sign-out endpoints.
pub struct AuthMayEnrol(pub Principal);

fn principal(parts: &Parts) -> Result<Principal, Problem> {
    parts.extensions.get::<Principal>().cloned().ok_or_else(|| Problem::from(AppError::Unauthenticated))
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let p = principal(parts)?;
        p.require_enrolled()?;
        // A token reads with `read` and changes things with `write`.
        let scope = if parts.method.is_safe() { kefu_app::tokens::Scope::Read } else { kefu_app::tokens::Scope::Write };
        p.require_scope(scope)?;
        Ok(Auth(p))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthMayEnrol {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(AuthMayEnrol(principal(parts)?))
    }
}

/// The client's address (as resolved by the principal middleware) and user agent.
pub struct Client(pub ClientInfo);

#[derive(Clone, Debug)]
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let ip = parts.extensions.get::<ClientIp>().and_then(|c| c.0.clone());
        let user_agent =
            parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(300).collect());
        Ok(Client(ClientInfo { ip, user_agent }))
    }
}

/// For `Option<Option<T>>` fields: absent stays `None`, `null` becomes `Some(None)` (clear it).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
