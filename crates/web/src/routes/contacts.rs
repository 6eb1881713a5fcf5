//! Contacts: the customers, with every channel identity they were seen with.

use crate::WebState;
use crate::extract::{ApiJson, ApiQuery, Auth, double_option};
use crate::problem::{ApiResult, Problem};
use crate::routes::me::Items;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kefu_app::contacts::ContactInput;
use kefu_domain::{Contact, Conversation, Page};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Replaces all e-mail addresses.
    pub emails: Option<Vec<String>>,
    /// Replaces all phone numbers.
    pub phones: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub exchange_user_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub telegram_id: Option<Option<String>>,
    /// zh-CN, zh-TW or en.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    /// 0 to 10.
    pub vip_tier: Option<i64>,
    /// 0 to 10.
    pub kyc_level: Option<i64>,
    pub tags: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    pub notes: Option<String>,
}

impl From<ContactBody> for ContactInput {
    fn from(b: ContactBody) -> Self {
        ContactInput {
            name: b.name,
            emails: b.emails,
            phones: b.phones,
            exchange_user_id: b.exchange_user_id,
            telegram_id: b.telegram_id,
            language: b.language,
            vip_tier: b.vip_tier,
            kyc_level: b.kyc_level,
            tags: b.tags,
            attributes: b.attributes,
            notes: b.notes,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContactParams {
    /// The start of a name, or a whole e-mail address, phone number, exchange user id or Telegram
    /// id (they are sealed at rest and matched by a keyed hash, never by a part).
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeContact {
    /// The contact to merge into this one; it keeps existing as a pointer to this one.
    pub source_id: String,
}

/// Contacts, newest first.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactParams), responses((status = 200, body = Page<Contact>)))]
pub async fn list(State(s): State<WebState>, Auth(p): Auth, ApiQuery(q): ApiQuery<ContactParams>) -> ApiResult<Json<Page<Contact>>> {
    Ok(Json(s.app.list_contacts(&p, q.q.as_deref(), q.cursor.as_deref(), q.limit.unwrap_or(50)).await?))
}

/// Create a contact.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactBody,
    responses((status = 201, body = Contact), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<ContactBody>) -> ApiResult<(StatusCode, Json<Contact>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_contact(&p, b.into()).await?)))
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)), responses((status = 200, body = Contact), (status = 404, body = Problem)))]
pub async fn get(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Contact>> {
    Ok(Json(s.app.get_contact(&p, &id).await?))
}

/// A contact's e-mails and phones in full (every other answer masks them). Only for roles the
/// security settings grant full view (admins and supervisors by default); each reveal is audited.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/reveal", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = Contact), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reveal(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Contact>> {
    Ok(Json(s.app.reveal_contact(&p, &id).await?))
}

/// Everything held about a customer, as a JSON download (a data-access request): the contact
/// in full and each conversation's whole timeline. For roles granted full view; audited.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/export", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = kefu_app::contacts::ContactExport), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn export(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let export = s.app.export_contact(&p, &id).await?;
    let disposition = format!("attachment; filename=\"contact-{}.json\"", export.contact.id);
    let mut res = Json(export).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Erase a customer (admins; the right to be forgotten): their identities and profile, and in
/// their conversations every message's text, the subjects, custom fields and files. Statuses,
/// times and who answered stay for the metrics. Audited; cannot be undone.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/erase", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = Contact), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn erase(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Contact>> {
    Ok(Json(s.app.erase_contact(&p, &id).await?))
}

/// Edit a contact's profile and identities.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)), request_body = ContactBody,
    responses((status = 200, body = Contact), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ContactBody>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(s.app.update_contact(&p, &id, b.into()).await?))
}

/// Merge another contact (the same person on another channel) into this one.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", params(("id" = String, Path)), request_body = MergeContact,
    responses((status = 200, body = Contact), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn merge(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MergeContact>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(s.app.merge_contacts(&p, &id, &b.source_id).await?))
}

/// The contact's conversations, most recent first.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/conversations", tag = "contacts", params(("id" = String, Path)), responses((status = 200, body = Items<Conversation>), (status = 404, body = Problem)))]
pub async fn conversations(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Json<Items<Conversation>>> {
    Ok(Json(Items { items: s.app.contact_conversations(&p, &id).await? }))
}
