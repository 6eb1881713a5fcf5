//! The API channel: an integration opens conversations and posts customer messages through the
//! REST API, and receives agents' public replies at its webhook, signed so it can trust them.

use crate::jobs::JobHandler;
use crate::{App, AppError, AppResult, Principal};
use hmac::{Hmac, Mac};
use kefu_domain::{FieldError, Message};
use kefu_store::{ConversationRow, micros};
use sha2::Sha256;
use std::time::Duration;

pub const WEBHOOK_JOB: &str = "webhook.deliver";
const SETTINGS_KEY: &str = "api_channel";

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ApiChannelSettings {
    /// Where agents' public replies on API-channel conversations are POSTed; `null` turns it off.
    pub webhook_url: Option<String>,
    /// Signs each delivery: `X-Kefu-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
    /// Write-only: reads show whether one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    #[serde(default)]
    pub has_secret: bool,
}

/// The HMAC a receiver recomputes to check a delivery.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl App {
    pub(crate) async fn api_channel_settings(&self) -> AppResult<ApiChannelSettings> {
        Ok(match self.store().setting(SETTINGS_KEY).await? {
            Some(v) => serde_json::from_str(&v).unwrap_or_default(),
            None => ApiChannelSettings::default(),
        })
    }

    pub async fn get_api_channel(&self, p: &Principal) -> AppResult<ApiChannelSettings> {
        p.require_admin()?;
        let mut s = self.api_channel_settings().await?;
        s.has_secret = s.webhook_secret.is_some();
        s.webhook_secret = None;
        Ok(s)
    }

    pub async fn put_api_channel(
        &self,
        p: &Principal,
        webhook_url: Option<String>,
        webhook_secret: Option<String>,
    ) -> AppResult<ApiChannelSettings> {
        p.require_admin()?;
        let mut errors = Vec::new();
        let url = webhook_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        if let Some(u) = &url {
            match url::Url::parse(u) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
                _ => errors.push(FieldError::new("webhook_url", "must be an http(s) URL")),
            }
        }
        let current = self.api_channel_settings().await?;
        let secret = match webhook_secret {
            Some(s) if s.len() < 16 || s.len() > 256 => {
                errors.push(FieldError::new("webhook_secret", "must be 16 to 256 characters"));
                None
            }
            Some(s) => Some(s),
            None => current.webhook_secret,
        };
        if url.is_some() && secret.is_none() {
            errors.push(FieldError::new("webhook_secret", "a webhook needs a secret to sign its deliveries"));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let s = ApiChannelSettings { webhook_url: url.clone(), webhook_secret: secret, has_secret: false };
        self.store().put_setting(SETTINGS_KEY, &serde_json::to_string(&s).map_err(AppError::internal)?, micros(self.now())).await?;
        self.audit(&crate::audit::Actor::agent(p), "settings.api_channel", None, serde_json::json!({"webhook_url": url})).await?;
        self.get_api_channel(p).await
    }

    pub(crate) async fn enqueue_webhook(&self, _row: &ConversationRow, msg: &Message) -> AppResult<()> {
        if self.api_channel_settings().await?.webhook_url.is_none() {
            return Ok(());
        }
        self.enqueue_job(WEBHOOK_JOB, serde_json::json!({"message_id": msg.id}), Duration::ZERO).await?;
        Ok(())
    }
}

/// Delivers one reply to the integration's webhook; a non-2xx answer is retried with backoff.
pub struct WebhookDelivery {
    http: reqwest::Client,
}

impl WebhookDelivery {
    pub fn new() -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self { http }
    }
}

impl Default for WebhookDelivery {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl JobHandler for WebhookDelivery {
    async fn run(&self, app: &App, payload: serde_json::Value) -> Result<(), String> {
        let id = payload.get("message_id").and_then(|v| v.as_str()).ok_or("payload lacks message_id")?;
        let s = app.api_channel_settings().await.map_err(|e| e.to_string())?;
        let (Some(url), Some(secret)) = (s.webhook_url, s.webhook_secret) else { return Ok(()) };
        let Some(row) = app.store().message_by_id(id).await.map_err(|e| e.to_string())? else { return Ok(()) };
        let conv = app.store().conversation_by_id(&row.conversation_id).await.map_err(|e| e.to_string())?.ok_or("conversation is gone")?;
        let msg = app.message_view(row.clone()).await.map_err(|e| e.to_string())?;
        let body = serde_json::json!({
            "event": "message.created",
            "conversation": {"id": conv.id, "number": conv.number, "subject": conv.subject, "status": conv.status, "contact_id": conv.contact_id},
            "message": msg,
        })
        .to_string();
        let ts = app.now().timestamp();
        let sent = self
            .http
            .post(&url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "Kefu-Webhook/1")
            .header("X-Kefu-Event", "message.created")
            .header("X-Kefu-Delivery", id)
            .header("X-Kefu-Timestamp", ts.to_string())
            .header("X-Kefu-Signature", webhook_signature(&secret, ts, body.as_bytes()))
            .body(body)
            .send()
            .await;
        let result = match sent {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("webhook answered {}", r.status())),
            Err(e) => Err(format!("webhook unreachable: {e}")),
        };
        app.mark_delivery(&row, "webhook", if result.is_ok() { "delivered" } else { "retrying" }).await.map_err(|e| e.to_string())?;
        result
    }
}
