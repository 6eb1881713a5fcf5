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
