//! Kefu's HTTP face: the REST API under `/api/v1`, its OpenAPI document, the console shell and
//! operator endpoints. Handlers extract, call one `app` function, and map the result.

// Handlers answer `Result<_, Problem>`; the error path is cold and the problem is what we send.
#![allow(clippy::result_large_err)]

pub mod extract;
mod metrics;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod routes;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use kefu_app::App;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use metrics::Metrics;

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where people reach Kefu; `https://…` marks cookies `Secure`.
    pub public_url: Option<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy: bool,
    pub max_body_bytes: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self { public_url: None, trust_proxy: false, max_body_bytes: 1024 * 1024 }
    }
}

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
}

pub fn router(app: App, config: WebConfig) -> Router {
    use routes::*;
    let state = WebState { app, config: Arc::new(config), metrics: Arc::new(Metrics::new()) };
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/login/totp", post(auth::login_totp))
        .route("/auth/session", get(auth::session))
        .route("/auth/logout", post(auth::logout))
        .route("/me/password", post(me::change_password))
        .route("/me/2fa", delete(me::disable_2fa))
        .route("/me/2fa/enrol", post(me::enrol_2fa))
        .route("/me/2fa/confirm", post(me::confirm_2fa))
        .route("/me/2fa/recovery-codes", post(me::regenerate_recovery))
        .route("/me/sessions", get(me::list_sessions))
        .route("/me/sessions/{id}", delete(me::revoke_session))
        .route("/me/tokens", get(me::list_tokens).post(me::create_token))
        .route("/me/tokens/{id}", delete(me::revoke_token))
        .route("/agents", get(agents::list).post(agents::create))
        .route("/agents/{id}", get(agents::get).patch(agents::update))
        .route("/agents/{id}/reset-2fa", post(agents::reset_2fa))
        .route("/agents/{id}/unlock", post(agents::unlock))
        .route("/agents/{id}/sessions", delete(agents::revoke_sessions))
        .route("/audit", get(admin::audit))
        .route("/settings/security", get(admin::get_security).put(admin::put_security))
        .route("/admin/ip-lockouts", get(admin::ip_lockouts))
        .route("/admin/ip-lockouts/{ip}", delete(admin::lift_ip_lockout))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::idempotency))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::authenticate));
    Router::new()
        .nest("/api/v1", api)
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/docs", get(assets::api_docs))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/", get(assets::root))
        .route("/console", get(assets::console))
        .route("/console/", get(assets::console))
        .route("/console/{*rest}", get(assets::console))
        .route("/assets/{*path}", get(assets::asset))
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::track_metrics))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn(middleware::problem_for_bare_errors))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    config: WebConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router(app, config);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}
