//! Probes and metrics for operators.

use crate::WebState;
use crate::problem::Problem;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers.
pub async fn readyz(State(s): State<WebState>) -> Response {
    match s.app.ready().await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "the database does not answer").into_response()
        }
    }
}

pub async fn metrics(State(s): State<WebState>) -> Response {
    let mut res = s.metrics.render().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    res
}
