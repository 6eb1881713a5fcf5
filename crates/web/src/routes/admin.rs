//! Admin-only endpoints: the audit log, security settings, address lockouts.

use crate::WebState;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use crate::routes::me::Items;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_app::agents::IpLockout;
use kefu_app::audit::AuditQuery;
use kefu_app::settings::SecuritySettings;
use kefu_domain::{AuditRecord, Page};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
    /// Exact action, e.g. `auth.login_failed`.
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams), responses((status = 200, body = Page<AuditRecord>), (status = 403, body = Problem)))]
pub async fn audit(State(s): State<WebState>, Auth(p): Auth, ApiQuery(q): ApiQuery<AuditParams>) -> ApiResult<Json<Page<AuditRecord>>> {
    let query = AuditQuery {
        cursor: q.cursor,
        limit: q.limit.unwrap_or(50),
        action: q.action,
        actor_id: q.actor_id,
        since: q.since,
        until: q.until,
    };
    Ok(Json(s.app.list_audit(&p, query).await?))
}

/// Security settings.
#[utoipa::path(get, path = "/api/v1/settings/security", tag = "admin", responses((status = 200, body = SecuritySettings), (status = 403, body = Problem)))]
pub async fn get_security(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<SecuritySettings>> {
    Ok(Json(s.app.get_security_settings(&p).await?))
}

/// Change security settings.
#[utoipa::path(put, path = "/api/v1/settings/security", tag = "admin", request_body = SecuritySettings,
    responses((status = 200, body = SecuritySettings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_security(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(r): ApiJson<SecuritySettings>,
) -> ApiResult<Json<SecuritySettings>> {
    Ok(Json(s.app.update_security_settings(&p, r).await?))
}

/// Addresses locked out after too many failed sign-ins.
#[utoipa::path(get, path = "/api/v1/admin/ip-lockouts", tag = "admin", responses((status = 200, body = Items<IpLockout>), (status = 403, body = Problem)))]
pub async fn ip_lockouts(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<Items<IpLockout>>> {
    Ok(Json(Items { items: s.app.list_ip_lockouts(&p).await? }))
}

/// Lift an address lockout.
#[utoipa::path(delete, path = "/api/v1/admin/ip-lockouts/{ip}", tag = "admin", params(("ip" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn lift_ip_lockout(State(s): State<WebState>, Auth(p): Auth, Path(ip): Path<String>) -> ApiResult<StatusCode> {
    s.app.lift_ip_lockout(&p, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiChannelBody {
    /// `null` turns deliveries off.
    pub webhook_url: Option<String>,
    /// 16 to 256 characters; leave out to keep the current one.
    pub webhook_secret: Option<String>,
}

/// The API channel's webhook (where agents' replies to API conversations are delivered).
#[utoipa::path(get, path = "/api/v1/settings/api-channel", tag = "admin", responses((status = 200, body = kefu_app::webhooks::ApiChannelSettings), (status = 403, body = Problem)))]
pub async fn get_api_channel(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<kefu_app::webhooks::ApiChannelSettings>> {
    Ok(Json(s.app.get_api_channel(&p).await?))
}

/// Set the API channel's webhook URL and signing secret.
#[utoipa::path(put, path = "/api/v1/settings/api-channel", tag = "admin", request_body = ApiChannelBody,
    responses((status = 200, body = kefu_app::webhooks::ApiChannelSettings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_api_channel(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<ApiChannelBody>,
) -> ApiResult<Json<kefu_app::webhooks::ApiChannelSettings>> {
    Ok(Json(s.app.put_api_channel(&p, b.webhook_url, b.webhook_secret).await?))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalSettingsBody {
    /// The secret the exchange signs user ids with (16 to 256 characters); `null` turns
    /// signed sign-in off.
    pub identity_secret: Option<String>,
}

/// The customer portal's settings.
#[utoipa::path(get, path = "/api/v1/settings/portal", tag = "admin", responses((status = 200, body = kefu_app::portal::PortalSettings), (status = 403, body = Problem)))]
pub async fn get_portal(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<kefu_app::portal::PortalSettings>> {
    Ok(Json(s.app.get_portal_settings(&p).await?))
}

/// Set the secret for the exchange's signed customer identity.
#[utoipa::path(put, path = "/api/v1/settings/portal", tag = "admin", request_body = PortalSettingsBody,
    responses((status = 200, body = kefu_app::portal::PortalSettings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_portal(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<PortalSettingsBody>,
) -> ApiResult<Json<kefu_app::portal::PortalSettings>> {
    Ok(Json(s.app.put_portal_settings(&p, b.identity_secret).await?))
}

/// The retention policy for closed conversations (admins).
#[utoipa::path(get, path = "/api/v1/settings/retention", tag = "admin",
    responses((status = 200, body = kefu_app::retention::RetentionSettings), (status = 403, body = Problem)))]
pub async fn get_retention(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<kefu_app::retention::RetentionSettings>> {
    Ok(Json(s.app.get_retention_settings(&p).await?))
}

/// Set the retention policy: closed conversations older than `after_days` are anonymised (their
/// text and files go) or deleted, by the hourly maintenance job. Audited.
#[utoipa::path(put, path = "/api/v1/settings/retention", tag = "admin", request_body = kefu_app::retention::RetentionSettings,
    responses((status = 200, body = kefu_app::retention::RetentionSettings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_retention(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<kefu_app::retention::RetentionSettings>,
) -> ApiResult<Json<kefu_app::retention::RetentionSettings>> {
    Ok(Json(s.app.put_retention_settings(&p, b).await?))
}
