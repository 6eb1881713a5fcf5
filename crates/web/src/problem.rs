//! The one place that renders errors: RFC 9457 `application/problem+json` with a stable `code`.
//! Internal details are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_app::AppError;
use kefu_domain::FieldError;
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:kefu:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable; clients switch on this.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// When to try again, for lockouts and limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<chrono::DateTime<chrono::Utc>>,
    /// For `identity_check_failed`: wrong answers still allowed before the check fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<i64>,
}

/// Codes produced by the web layer itself (the app layer's are in `AppError::CODES`).
pub const WEB_CODES: &[&str] = &[
    "malformed_json",
    "invalid_body",
    "unsupported_media_type",
    "payload_too_large",
    "invalid_query",
    "route_not_found",
    "method_not_allowed",
    "csrf_failed",
    "invalid_token",
    "invalid_idempotency_key",
    "idempotency_key_reused",
    "idempotency_key_in_flight",
    "invalid_request",
    "invalid_multipart",
    "not_ready",
];

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:kefu:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_string(),
            errors: Vec::new(),
            retry_after: None,
            attempts_left: None,
        }
    }

    /// A problem for a bare status that carried no body of its own.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Problem::new(status, "route_not_found", "there is nothing at this address"),
            StatusCode::METHOD_NOT_ALLOWED => Problem::new(status, "method_not_allowed", "this address does not accept this method"),
            StatusCode::PAYLOAD_TOO_LARGE => Problem::new(status, "payload_too_large", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(status, "unsupported_media_type", "send the body as application/json"),
            s if s.is_server_error() => Problem::new(s, "internal", "something went wrong on our side; it has been logged"),
            s => Problem::new(s, "invalid_request", s.canonical_reason().unwrap_or("invalid request")),
        }
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let AppError::Internal(detail) = &e {
            tracing::error!(error = %detail, "internal error");
            return Problem::new(status, e.code(), "something went wrong on our side; it has been logged");
        }
        let mut p = Problem::new(status, e.code(), e.to_string());
        match e {
            AppError::Validation(errors) => p.errors = errors,
            AppError::AccountLocked(t) | AppError::TooManyAttempts(t) | AppError::IdentityCheckLimited(t) => p.retry_after = Some(t),
            AppError::IdentityCheckFailed(left) => p.attempts_left = Some(left),
            _ => {}
        }
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(t) = self.retry_after {
            let secs = (t - chrono::Utc::now()).num_seconds().max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

pub type ApiResult<T> = Result<T, Problem>;
