//! Managing agents (admins only, but for reading the team list).

use crate::WebState;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kefu_app::agents::{AgentChanges, NewAgentRequest};
use kefu_domain::{Agent, Page, Role};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub role: Role,
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub role: Option<Role>,
    /// False deactivates the agent and signs them out everywhere.
    pub active: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

/// List agents, oldest first.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", params(ListQuery), responses((status = 200, body = Page<Agent>)))]
pub async fn list(State(s): State<WebState>, Auth(p): Auth, ApiQuery(q): ApiQuery<ListQuery>) -> ApiResult<Json<Page<Agent>>> {
    Ok(Json(s.app.list_agents(&p, q.cursor.as_deref(), q.limit.unwrap_or(50)).await?))
}

/// Create an agent.
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = CreateAgent,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation")),
    responses((status = 201, body = Agent), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(State(s): State<WebState>, Auth(p): Auth, ApiJson(r): ApiJson<CreateAgent>) -> ApiResult<(StatusCode, Json<Agent>)> {
    let agent = s
        .app
        .create_agent(&p, NewAgentRequest { email: r.email, name: r.name, role: r.role.as_str().into(), password: r.password })
        .await?;
    Ok((StatusCode::CREATED, Json(agent)))
}

/// One agent.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path)), responses((status = 200, body = Agent), (status = 404, body = Problem)))]
pub async fn get(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Agent>> {
    Ok(Json(s.app.get_agent(&p, &id).await?))
}

/// Rename, change role, deactivate or reactivate an agent.
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path)), request_body = UpdateAgent,
    responses((status = 200, body = Agent), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<UpdateAgent>,
) -> ApiResult<Json<Agent>> {
    let changes = AgentChanges { name: r.name, role: r.role.map(|x| x.as_str().to_string()), active: r.active };
    Ok(Json(s.app.update_agent(&p, &id, changes).await?))
}

/// Remove an agent's two-factor (lost phone) and sign them out; they enrol again.
#[utoipa::path(post, path = "/api/v1/agents/{id}/reset-2fa", tag = "agents", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset_2fa(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.reset_agent_2fa(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift a sign-in lockout.
#[utoipa::path(post, path = "/api/v1/agents/{id}/unlock", tag = "agents", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn unlock(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.unlock_agent(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign an agent out everywhere.
#[utoipa::path(delete, path = "/api/v1/agents/{id}/sessions", tag = "agents", params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_sessions(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.revoke_agent_sessions(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
