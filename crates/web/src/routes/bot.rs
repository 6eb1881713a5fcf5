//! The support bot's API for the console: settings, "try the bot", classification, training
//! examples and retraining, and the bot's analytics.

use crate::WebState;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use crate::routes::kb::AnalyticsParams;
use crate::routes::me::Items;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kefu_app::bot::{BotAnalytics, BotExample, BotSettings, Classification, TrainingReport, TryReply};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyBody {
    /// A customer message, 1 to 2000 characters.
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TryBody {
    /// What the customer says.
    pub text: String,
    /// The `state` of the previous reply, to go on with the same conversation; omit to start one.
    #[schema(value_type = Option<Object>)]
    pub state: Option<serde_json::Value>,
    /// Answer as to a VIP customer.
    #[serde(default)]
    pub vip: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleBody {
    pub text: String,
    /// An intent id, e.g. `deposit_missing`.
    pub intent: String,
    /// `zh-CN`, `zh-TW` or `en`.
    pub lang: String,
}

#[utoipa::path(get, path = "/api/v1/bot/settings", tag = "bot", responses((status = 200, body = BotSettings), (status = 403, body = Problem)))]
pub async fn get_settings(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<BotSettings>> {
    Ok(Json(s.app.get_bot_settings(&p).await?))
}

/// Turn the bot on or off, name it, set its confidence threshold and the official channels (admins).
#[utoipa::path(put, path = "/api/v1/bot/settings", tag = "bot", request_body = BotSettings,
    responses((status = 200, body = BotSettings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<BotSettings>) -> ApiResult<Json<BotSettings>> {
    Ok(Json(s.app.put_bot_settings(&p, b).await?))
}

/// The intent, calibrated confidence and language of a message.
#[utoipa::path(post, path = "/api/v1/bot/classify", tag = "bot", request_body = ClassifyBody,
    responses((status = 200, body = Classification), (status = 422, body = Problem)))]
pub async fn classify(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<ClassifyBody>) -> ApiResult<Json<Classification>> {
    Ok(Json(s.app.bot_classify(Some(&p), &b.text).await?))
}

/// One turn with the bot as a customer would have it, help-center search included; nothing is
/// stored or sent.
#[utoipa::path(post, path = "/api/v1/bot/try", tag = "bot", request_body = TryBody, responses((status = 200, body = TryReply), (status = 422, body = Problem)))]
pub async fn try_bot(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<TryBody>) -> ApiResult<Json<TryReply>> {
    Ok(Json(s.app.bot_try(&p, &b.text, b.state, b.vip).await?))
}

/// The examples admins added to the shipped training set.
#[utoipa::path(get, path = "/api/v1/bot/examples", tag = "bot", responses((status = 200, body = Items<BotExample>), (status = 403, body = Problem)))]
pub async fn list_examples(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<Items<BotExample>>> {
    Ok(Json(Items { items: s.app.bot_examples(&p).await? }))
}

/// Add a training example (admins); it counts from the next training.
#[utoipa::path(post, path = "/api/v1/bot/examples", tag = "bot", request_body = ExampleBody,
    responses((status = 201, body = BotExample), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_example(
    State(s): State<WebState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<ExampleBody>,
) -> ApiResult<(StatusCode, Json<BotExample>)> {
    Ok((StatusCode::CREATED, Json(s.app.add_bot_example(&p, &b.text, &b.intent, &b.lang).await?)))
}

#[utoipa::path(delete, path = "/api/v1/bot/examples/{id}", tag = "bot", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_example(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.delete_bot_example(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Retrain now, with the examples added so far (admins); every node follows within seconds.
#[utoipa::path(post, path = "/api/v1/bot/train", tag = "bot", responses((status = 200, body = TrainingReport), (status = 403, body = Problem)))]
pub async fn train(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<TrainingReport>> {
    Ok(Json(s.app.bot_train(Some(&p)).await?))
}

/// Containment, handoffs and their reasons, top intents and unanswered messages (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/bot/analytics", tag = "bot", params(AnalyticsParams),
    responses((status = 200, body = BotAnalytics), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn analytics(State(s): State<WebState>, Auth(p): Auth, ApiQuery(q): ApiQuery<AnalyticsParams>) -> ApiResult<Json<BotAnalytics>> {
    Ok(Json(s.app.bot_analytics(&p, q.days.unwrap_or(30)).await?))
}
