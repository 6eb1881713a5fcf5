//! Uploading and downloading attachments, for agents and for portal customers. Uploads are
//! multipart (`file` field); the size limit is enforced while the body streams in.

use crate::WebState;
use crate::extract::Auth;
use crate::problem::{ApiResult, Problem};
use crate::routes::portal::PortalAuth;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_app::AppError;
use kefu_app::attachments::{Download, Viewer};
use kefu_domain::AttachmentInfo;

/// The file of a multipart upload: its declared name and bytes, at most `limit` bytes.
pub(crate) async fn read_file_field(field: axum::extract::multipart::Field<'_>, limit: usize) -> Result<(String, Vec<u8>), Problem> {
    let name = field.file_name().unwrap_or("attachment").to_string();
    let mut field = field;
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_problem)? {
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::AttachmentTooLarge(limit).into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((name, bytes))
}

pub(crate) fn multipart_problem(e: axum::extract::multipart::MultipartError) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "attachment_too_large", "the upload is larger than the limit");
    }
    Problem::new(StatusCode::BAD_REQUEST, "invalid_multipart", format!("the upload is not valid multipart/form-data: {}", e.body_text()))
}

/// The one `file` field of an upload.
async fn single_file(mut mp: Multipart, limit: usize) -> Result<(String, Vec<u8>), Problem> {
    while let Some(field) = mp.next_field().await.map_err(multipart_problem)? {
        if field.name() == Some("file") {
            return read_file_field(field, limit).await;
        }
    }
    Err(Problem::from(AppError::Validation(vec![kefu_domain::FieldError::new("file", "send the file in a `file` field")])))
}

pub(crate) fn download_response(d: Download) -> Response {
    let mut res = d.bytes.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&d.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&d.disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    // Even if a browser rendered it, a downloaded file gets no script and no same-origin powers.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"),
    );
    res
}

/// Upload an attachment; send its id in `attachment_ids` with a message.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments", request_body(content_type = "multipart/form-data", description = "A `file` field"),
    responses((status = 201, body = AttachmentInfo), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(State(s): State<WebState>, Auth(p): Auth, mp: Multipart) -> ApiResult<(StatusCode, Json<AttachmentInfo>)> {
    let (name, bytes) = single_file(mp, s.app.max_attachment_bytes()).await?;
    Ok((StatusCode::CREATED, Json(s.app.upload_attachment(Viewer::Agent(&p), &name, bytes).await?)))
}

/// Download an attachment. Only PNG, JPEG, GIF and WebP display inline; everything else downloads.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", params(("id" = String, Path)), responses((status = 200, description = "The file"), (status = 404, body = Problem)))]
pub async fn download(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(download_response(s.app.download_attachment(Viewer::Agent(&p), &id, false).await?))
}

/// An image attachment's thumbnail (at most 320 pixels on its longer edge).
#[utoipa::path(get, path = "/api/v1/attachments/{id}/thumbnail", tag = "attachments", params(("id" = String, Path)), responses((status = 200, description = "The thumbnail"), (status = 404, body = Problem)))]
pub async fn thumbnail(State(s): State<WebState>, Auth(p): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(download_response(s.app.download_attachment(Viewer::Agent(&p), &id, true).await?))
}

/// A portal customer's upload, for a reply.
#[utoipa::path(post, path = "/api/v1/portal/attachments", tag = "portal", request_body(content_type = "multipart/form-data", description = "A `file` field"),
    responses((status = 201, body = AttachmentInfo), (status = 401, body = Problem), (status = 413, body = Problem)))]
pub async fn portal_upload(
    State(s): State<WebState>,
    PortalAuth(pp): PortalAuth,
    mp: Multipart,
) -> ApiResult<(StatusCode, Json<AttachmentInfo>)> {
    let (name, bytes) = single_file(mp, s.app.max_attachment_bytes()).await?;
    Ok((StatusCode::CREATED, Json(s.app.upload_attachment(Viewer::Customer(&pp), &name, bytes).await?)))
}

/// An attachment on one of my tickets.
#[utoipa::path(get, path = "/api/v1/portal/attachments/{id}", tag = "portal", params(("id" = String, Path)), responses((status = 200, description = "The file"), (status = 404, body = Problem)))]
pub async fn portal_download(State(s): State<WebState>, PortalAuth(pp): PortalAuth, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(download_response(s.app.download_attachment(Viewer::Customer(&pp), &id, false).await?))
}

/// A thumbnail of an image on one of my tickets.
#[utoipa::path(get, path = "/api/v1/portal/attachments/{id}/thumbnail", tag = "portal", params(("id" = String, Path)), responses((status = 200, description = "The thumbnail"), (status = 404, body = Problem)))]
pub async fn portal_thumbnail(State(s): State<WebState>, PortalAuth(pp): PortalAuth, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(download_response(s.app.download_attachment(Viewer::Customer(&pp), &id, true).await?))
}
