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
use axum::routing::{delete, get, patch, post, put};
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
    /// The exchange's branding on the public help center.
    pub help: routes::help::HelpBranding,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self { public_url: None, trust_proxy: false, max_body_bytes: 1024 * 1024, help: Default::default() }
    }
}

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
    /// Sends true when the server begins to shut down: endless responses (the event stream)
    /// subscribe and end then, so that graceful shutdown does not wait for them forever.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Live chat sockets, by the conversations they follow.
    pub chat_hub: Arc<routes::chat::ChatHub>,
}

pub fn router(app: App, config: WebConfig) -> Router {
    build_router(app, config, Arc::new(tokio::sync::watch::Sender::new(false)))
}

fn build_router(app: App, config: WebConfig, closing: Arc<tokio::sync::watch::Sender<bool>>) -> Router {
    use routes::*;
    let state = WebState { app, config: Arc::new(config), metrics: Arc::new(Metrics::new()), closing, chat_hub: Default::default() };
    // Multipart framing on top of the largest file allowed.
    let upload_limit = state.app.max_attachment_bytes() + 64 * 1024;
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
        .route("/settings/api-channel", get(admin::get_api_channel).put(admin::put_api_channel))
        .route("/settings/portal", get(admin::get_portal).put(admin::put_portal))
        .route("/settings/retention", get(admin::get_retention).put(admin::put_retention))
        .route("/settings/chat", get(chat::get_settings).put(chat::put_settings))
        .route("/conversations", get(inbox::list).post(inbox::create))
        .route("/conversations/counts", get(inbox::counts))
        .route("/conversations/bulk", post(inbox::bulk))
        .route("/conversations/{id}", get(inbox::get).patch(inbox::update))
        .route("/conversations/{id}/timeline", get(inbox::timeline))
        .route("/conversations/{id}/messages", post(inbox::post_message))
        .route("/conversations/{id}/merge", post(inbox::merge))
        .route("/conversations/{id}/read", post(chat::agent_read))
        .route("/conversations/{id}/presence", get(inbox::viewers).post(inbox::presence))
        .route("/conversations/{id}/apply-macro", post(library::apply_macro))
        .route("/conversations/{id}/identity-checks", get(shield::identity_checks).post(shield::start_identity_check))
        .route("/tags", get(inbox::tags))
        .route("/search", get(inbox::search))
        .route("/events", get(live::events))
        .route("/agent/ws", get(live::agent_ws))
        .route("/contacts", get(contacts::list).post(contacts::create))
        .route("/contacts/{id}", get(contacts::get).patch(contacts::update))
        .route("/contacts/{id}/merge", post(contacts::merge))
        .route("/contacts/{id}/reveal", post(contacts::reveal))
        .route("/contacts/{id}/export", get(contacts::export))
        .route("/contacts/{id}/erase", post(contacts::erase))
        .route("/contacts/{id}/conversations", get(contacts::conversations))
        .route("/teams", get(library::list_teams).post(library::create_team))
        .route("/teams/{id}", patch(library::update_team).delete(library::delete_team))
        .route("/canned-responses", get(library::list_canned).post(library::create_canned))
        .route("/canned-responses/{id}", put(library::update_canned).delete(library::delete_canned))
        .route("/canned-responses/{id}/render", get(library::render_canned))
        .route("/macros", get(library::list_macros).post(library::create_macro))
        .route("/macros/{id}", put(library::update_macro).delete(library::delete_macro))
        .route("/views", get(library::list_views).post(library::create_view))
        .route("/views/{id}", delete(library::delete_view))
        .route("/me/notifications", get(library::notifications))
        .route("/me/notifications/read-all", post(library::read_all_notifications))
        .route("/me/notifications/{id}/read", post(library::read_notification))
        .route("/kb/articles", get(kb::list_articles).post(kb::create_article))
        .route("/kb/articles/{id}", get(kb::get_article).put(kb::update_article).delete(kb::delete_article))
        .route("/kb/articles/{id}/versions", get(kb::versions))
        .route("/kb/preview", post(kb::preview))
        .route("/kb/search", get(kb::agent_search))
        .route("/kb/categories", get(kb::list_categories).post(kb::create_category))
        .route("/kb/categories/{id}", put(kb::update_category).delete(kb::delete_category))
        .route("/kb/synonyms", get(kb::get_synonyms).put(kb::put_synonyms))
        .route("/kb/analytics", get(kb::analytics))
        .route("/kb/reindex", post(kb::reindex))
        .route("/bot/settings", get(bot::get_settings).put(bot::put_settings))
        .route("/bot/classify", post(bot::classify))
        .route("/bot/try", post(bot::try_bot))
        .route("/bot/examples", get(bot::list_examples).post(bot::add_example))
        .route("/bot/examples/{id}", delete(bot::delete_example))
        .route("/bot/train", post(bot::train))
        .route("/bot/analytics", get(bot::analytics))
        .route("/shield/settings", get(shield::get_settings).put(shield::put_settings))
        .route("/attachments", post(files::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/attachments/{id}", get(files::download))
        .route("/attachments/{id}/thumbnail", get(files::thumbnail))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::idempotency))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::authenticate));
    // Portal visitors are not agents: their routes skip agent authentication and CSRF.
    let portal_api = Router::new()
        .route("/tickets", get(portal::tickets).post(portal::open_ticket).layer(DefaultBodyLimit::max(upload_limit * 4)))
        .route("/tickets/{id}", get(portal::ticket))
        .route("/tickets/{id}/messages", post(portal::reply))
        .route("/tickets/{id}/identity-checks/{check_id}", post(portal::answer_check))
        .route("/session", get(portal::session).post(portal::sign_in).delete(portal::sign_out))
        .route("/attachments", post(files::portal_upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/attachments/{id}", get(files::portal_download))
        .route("/attachments/{id}/thumbnail", get(files::portal_thumbnail));
    // Widget visitors: no agent authentication; they identify inside the socket.
    let chat_api = Router::new()
        .route("/ws", get(chat::ws))
        .route("/widget/{widget_id}", get(chat::widget))
        .route("/attachments", post(chat::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/attachments/{id}", get(chat::download))
        .route("/attachments/{id}/thumbnail", get(chat::thumbnail))
        .route("/demo-identity", get(chat::demo_identity))
        // The widget runs on the exchange's own pages: any origin may read these answers. They
        // carry no cookies and need no credentials (a visitor proves who they are inside).
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            axum::http::HeaderValue::from_static("*"),
        ));
    let help_api = Router::new()
        .route("/search", get(kb::public_search))
        .route("/categories", get(kb::public_categories))
        .route("/articles/{slug}", get(kb::public_article))
        .route("/articles/{id}/feedback", post(kb::feedback))
        .route("/articles/{id}/feedback/{feedback_id}/comment", post(kb::feedback_comment))
        .route("/clicks", post(kb::click))
        // Called from the exchange's own pages (the widget) with JSON bodies: answer the
        // browser's preflight. No credentials are ever involved.
        .layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([axum::http::header::CONTENT_TYPE])
                .max_age(std::time::Duration::from_secs(86_400)),
        );
    // The official verification service: anyone, from any page.
    let verify = get(shield::verify)
        .layer(tower_http::cors::CorsLayer::new().allow_origin(tower_http::cors::Any).allow_methods([axum::http::Method::GET]));
    Router::new()
        .nest("/api/v1/help", help_api)
        .route("/api/v1/verify", verify)
        .nest("/api/v1/portal", portal_api)
        .nest("/api/v1/chat", chat_api)
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
        .route("/portal", get(assets::portal))
        .route("/portal/", get(assets::portal))
        .route("/portal/{*rest}", get(assets::portal))
        .route("/help", get(help::root))
        .route("/help/", get(help::root))
        .route("/help/brand.css", get(help::brand_css))
        .route("/help/{locale}", get(help::home))
        .route("/help/{locale}/categories/{slug}", get(help::category))
        .route("/help/{locale}/articles/{slug}", get(help::article))
        .route("/help/{locale}/articles/{slug}/feedback", post(help::vote))
        .route("/help/{locale}/articles/{slug}/feedback/{feedback_id}", post(help::comment))
        .route("/help/{locale}/search", get(help::search))
        .route("/help/{locale}/verify", get(help::verify))
        .route("/help/{locale}/announcements", get(help::announcements))
        .route("/help/{locale}/announcements.atom", get(help::feed))
        .route("/sitemap.xml", get(help::sitemap))
        .route("/robots.txt", get(help::robots))
        .route("/widget.js", get(assets::widget))
        .route("/demo", get(assets::demo))
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
    let closing = Arc::new(tokio::sync::watch::Sender::new(false));
    let router = build_router(app, config, closing.clone());
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    // Small frames go out at once: without TCP_NODELAY a push that follows another (the bot's
    // answer after the `ack`, a feed event after the last) waits for the peer's delayed ACK,
    // some 40 ms on Linux.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}
