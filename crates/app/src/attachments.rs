//! Attachments: uploads are inspected (type from content, never from the name), stored in the
//! blob store by hash, thumbnailed when they are safe images, and served only to those who
//! may see the conversation that carries them.

use crate::conversations::attachment_info;
use crate::portal::PortalPrincipal;
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::{AttachmentInfo, BlobKey, Id};
use kefu_store::{AttachmentRow, micros};

/// Who uploads or downloads.
pub enum Viewer<'a> {
    Agent(&'a Principal),
    Customer(&'a PortalPrincipal),
    /// A live-chat visitor, by their contact's id (uploads only; they download through signed
    /// URLs).
    ChatVisitor(&'a str),
    /// Whoever holds a URL that Kefu signed for this attachment (downloads only).
    Signed,
}

/// An attachment's bytes with what to tell the browser about them.
pub struct Download {
    pub bytes: Vec<u8>,
    pub content_type: String,
    /// A complete `Content-Disposition` value.
    pub disposition: String,
}

/// Longest edge of a thumbnail, in pixels.
const THUMBNAIL_EDGE: u32 = 320;

impl App {
    pub fn max_attachment_bytes(&self) -> usize {
        self.config().max_attachment_bytes
    }

    /// Stores an upload, not yet on any message; the uploader attaches it when sending.
    pub async fn upload_attachment(&self, who: Viewer<'_>, declared_name: &str, bytes: Vec<u8>) -> AppResult<AttachmentInfo> {
        let (kind, uploader, url_base) = match &who {
            Viewer::Agent(p) => {
                p.require_enrolled()?;
                p.require_scope(Scope::Write)?;
                ("agent", p.agent.id.to_string(), "/api/v1/attachments")
            }
            Viewer::Customer(c) => ("customer", c.uploader_key(), "/api/v1/portal/attachments"),
            Viewer::ChatVisitor(contact) => ("customer", contact.to_string(), "/api/v1/chat/attachments"),
            Viewer::Signed => return Err(AppError::Forbidden),
        };
        if bytes.is_empty() {
            return Err(AppError::Validation(vec![kefu_domain::FieldError::new("file", "is empty")]));
        }
        if bytes.len() > self.max_attachment_bytes() {
            return Err(AppError::AttachmentTooLarge(self.max_attachment_bytes()));
        }
        // A file name is text a customer typed: the shield sees it first.
        let declared_name = self.shield().await?.redact(declared_name).text;
        let inspected = kefu_blob::inspect(&bytes, &declared_name);
        let key = self.blobs()?.put(&bytes).await.map_err(AppError::internal)?;
        let thumbnail_key = if inspected.inline_safe {
            let data = bytes.clone();
            match tokio::task::spawn_blocking(move || kefu_blob::thumbnail(&data, THUMBNAIL_EDGE)).await {
                Ok(Ok(Some(t))) => Some(self.blobs()?.put(&t.bytes).await.map_err(AppError::internal)?),
                // An image we cannot decode (or a decompression bomb) is kept, without a thumbnail.
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => None,
            }
        } else {
            None
        };
        let row = AttachmentRow {
            id: Id::new().to_string(),
            blob_key: key.as_str().to_string(),
            thumbnail_key: thumbnail_key.map(|k| k.as_str().to_string()),
            filename: inspected.file_name.clone(),
            content_type: inspected.mime.clone(),
            size: bytes.len() as i64,
            inline_safe: inspected.inline_safe,
            uploader_kind: kind.into(),
            uploader_id: uploader,
            conversation_id: None,
            message_id: None,
            created_at: micros(self.now()),
        };
        self.store().insert_attachment(&row).await?;
        Ok(attachment_info(&row, url_base))
    }

    /// The bytes of an attachment (or its thumbnail) for someone allowed to see it.
    pub async fn download_attachment(&self, who: Viewer<'_>, id: &str, thumbnail: bool) -> AppResult<Download> {
        let id = Id::parse(id).ok_or(AppError::NotFound("attachment"))?;
        let row = self.store().attachment_by_id(id.as_str()).await?.ok_or(AppError::NotFound("attachment"))?;
        let allowed = match &who {
            Viewer::Agent(p) => {
                p.require_enrolled()?;
                p.require_scope(Scope::Read)?;
                (row.uploader_kind == "agent" && row.uploader_id == p.agent.id.as_str())
                    || match &row.conversation_id {
                        Some(c) => self.visible_conversation(p, c).await.is_ok(),
                        None => false,
                    }
            }
            Viewer::Customer(c) => {
                (row.uploader_kind == "customer" && row.uploader_id == c.uploader_key())
                    || match (&row.conversation_id, &row.message_id) {
                        (Some(conv), Some(msg)) => {
                            c.may_open(self, conv).await? && self.store().message_by_id(msg).await?.is_some_and(|m| !m.private)
                        }
                        _ => false,
                    }
            }
            Viewer::ChatVisitor(_) => false,
            Viewer::Signed => true,
        };
        if !allowed {
            return Err(AppError::NotFound("attachment"));
        }
        let key = if thumbnail { row.thumbnail_key.as_deref().ok_or(AppError::NotFound("thumbnail"))? } else { row.blob_key.as_str() };
        let key = BlobKey::parse(key).ok_or_else(|| AppError::internal("stored blob key is malformed"))?;
        let bytes =
            self.blobs()?.get(&key).await.map_err(AppError::internal)?.ok_or_else(|| AppError::internal("attachment bytes are missing"))?;
        // Thumbnails are PNG or JPEG, whatever the original was: their type comes from their bytes.
        let (content_type, inline) =
            if thumbnail { (kefu_blob::inspect(&bytes, "thumbnail").mime, true) } else { (row.content_type.clone(), row.inline_safe) };
        let content_type = if content_type == "text/plain" { "text/plain; charset=utf-8".to_string() } else { content_type };
        Ok(Download { bytes, content_type, disposition: kefu_blob::content_disposition(&row.filename, inline) })
    }
}
