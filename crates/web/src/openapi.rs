//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::routes::{admin, agents, auth, me};
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Kefu API", description = "Customer support for cryptocurrency exchanges. Errors are RFC 9457 problem+json with a stable `code`. \
        Authenticate with the session cookie (writes then need `X-CSRF-Token`) or `Authorization: Bearer kefu_…`. \
        Creates accept an `Idempotency-Key` header."),
    paths(
        auth::login, auth::login_totp, auth::session, auth::logout,
        me::change_password, me::enrol_2fa, me::confirm_2fa, me::disable_2fa, me::regenerate_recovery,
        me::list_sessions, me::revoke_session, me::list_tokens, me::create_token, me::revoke_token,
        agents::list, agents::create, agents::get, agents::update, agents::reset_2fa, agents::unlock, agents::revoke_sessions,
        admin::audit, admin::get_security, admin::put_security, admin::ip_lockouts, admin::lift_ip_lockout,
    ),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "me", description = "The signed-in agent's own account"),
        (name = "agents", description = "The support team"),
        (name = "admin", description = "Audit log and security settings"),
    )
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
