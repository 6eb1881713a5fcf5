//! Outbound e-mail through the operator's SMTP server (`[smtp]` in kefu.toml).

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// `[smtp]`: where to hand mail over, and who it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// `smtp://host:25` (plain), `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465`,
    /// with `user:password@` when the server wants a login.
    pub url: String,
    /// The sender, e.g. `Nebula Support <support@nebula-ex.com>`.
    pub from: String,
}

impl SmtpConfig {
    /// Checks the settings, naming the key at fault.
    /// Runs outside the async runtime (the transport's pool is made only by `Mailer::new`).
    pub fn validate(&self) -> Result<(), String> {
        self.parts().map(|_| ())
    }

    fn parts(&self) -> Result<(lettre::transport::smtp::AsyncSmtpTransportBuilder, Mailbox), String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&self.url)
            .map_err(|e| format!("smtp.url: {e} (expected smtp://host:port, smtp://host:587?tls=required or smtps://host:465)"))?
            .timeout(Some(Duration::from_secs(20)));
        let from = self
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("smtp.from: {:?} is not a sender like Support <help@example.com> ({e})", self.from))?;
        Ok((transport, from))
    }
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `c`; within the async runtime (its connection pool lives there).
    pub fn new(c: &SmtpConfig) -> Result<Self, String> {
        let (transport, from) = c.parts()?;
        Ok(Self { transport: transport.build(), from })
    }

    /// Sends a plain-text message; an `Err` says why the server did not take it.
    pub async fn send(&self, to: &str, subject: &str, text: String) -> Result<(), String> {
        let to = to.parse::<Mailbox>().map_err(|e| format!("cannot mail {to:?}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| format!("the SMTP server did not take the message: {e}"))
    }
}
