//! TOTP two-factor authentication (RFC 6238: SHA-1, 6 digits, 30-second steps) with
//! single-use recovery codes. A code is accepted one step early or late, and never twice.

use crate::audit::Actor;
use crate::secrets::{constant_time_eq, sha256_hex};
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::FieldError;
use kefu_store::micros;
use rand::Rng;
use serde::Serialize;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECONDS: u64 = 30;
const RECOVERY_CODES: usize = 10;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// Base32 secret, for typing into an authenticator by hand.
    pub secret: String,
    pub otpauth_url: String,
    /// The otpauth URL as a QR code, an SVG document.
    pub qr_svg: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Shown once; each works once in place of a TOTP code.
    pub recovery_codes: Vec<String>,
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> AppResult<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().map_err(|e| AppError::internal(format!("{e:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECONDS, bytes, Some(issuer.to_string()), account.to_string()).map_err(AppError::internal)
}

/// The step whose code `code` is, within one step of `now`; `None` when it matches none.
fn matching_step(t: &TOTP, code: &str, now: u64) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = now / STEP_SECONDS;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| constant_time_eq(t.generate(s * STEP_SECONDS).as_bytes(), code.as_bytes()))
}

/// `abcd-efgh-jkmn`: 60 bits from an alphabet without look-alike characters.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let chars: Vec<char> = (0..12).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    format!(
        "{}-{}-{}",
        chars[0..4].iter().collect::<String>(),
        chars[4..8].iter().collect::<String>(),
        chars[8..12].iter().collect::<String>()
    )
}

fn normalise_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

fn qr_svg(text: &str) -> AppResult<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|e| AppError::internal(format!("{e:?}")))?;
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/><path d=\"{path}\" fill=\"#000000\"/></svg>"
    ))
}

impl App {
    fn unix_now(&self) -> u64 {
        u64::try_from(self.now().timestamp()).unwrap_or(0)
    }

    /// Starts enrolment: a fresh secret, kept pending until a code from it is confirmed.
    pub async fn enrol_totp(&self, p: &Principal) -> AppResult<Enrolment> {
        if p.agent.two_factor_enabled {
            return Err(AppError::TwoFactorAlreadyEnabled);
        }
        let Secret::Encoded(secret) = Secret::generate_secret().to_encoded() else {
            return Err(AppError::internal("secret encoding"));
        };
        let t = totp(&secret, &self.config().totp_issuer, p.agent.email.as_str())?;
        let otpauth_url = t.get_url();
        self.store().set_totp_pending(p.agent.id.as_str(), &secret, micros(self.now())).await?;
        Ok(Enrolment { qr_svg: qr_svg(&otpauth_url)?, secret, otpauth_url })
    }

    /// Confirms enrolment with a code from the new secret; returns fresh recovery codes.
    #[tracing::instrument(skip_all, fields(agent = %p.agent.id))]
    pub async fn confirm_totp(&self, p: &Principal, code: &str) -> AppResult<RecoveryCodes> {
        let row = self.agent_row(p.agent.id.as_str()).await?;
        if row.totp_secret.is_some() {
            return Err(AppError::TwoFactorAlreadyEnabled);
        }
        let Some(pending) = row.totp_pending else { return Err(AppError::TwoFactorNotPending) };
        let t = totp(&pending, &self.config().totp_issuer, &row.email)?;
        let Some(step) = matching_step(&t, code, self.unix_now()) else {
            return Err(AppError::InvalidTotpCode);
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| sha256_hex(&normalise_recovery(c))).collect();
        self.store().enable_totp(&row.id, &pending, i64::try_from(step).unwrap_or(i64::MAX), &hashes, micros(self.now())).await?;
        self.audit(&Actor::agent(p), "2fa.enabled", Some(row.id.clone()), serde_json::json!({})).await?;
        Ok(RecoveryCodes { recovery_codes: codes })
    }

    /// Turns two-factor off, proving possession with a current code; not allowed where the
    /// role requires it.
    pub async fn disable_totp(&self, p: &Principal, code: &str) -> AppResult<()> {
        if !p.agent.two_factor_enabled {
            return Err(AppError::TwoFactorNotEnabled);
        }
        if self.security_settings().await?.two_factor_required.includes(p.agent.role) {
            return Err(AppError::TwoFactorRequiredForRole);
        }
        if self.check_second_factor(p.agent.id.as_str(), code).await?.is_none() {
            return Err(AppError::InvalidTotpCode);
        }
        self.store().disable_totp(p.agent.id.as_str(), micros(self.now())).await?;
        self.audit(&Actor::agent(p), "2fa.disabled", Some(p.agent.id.to_string()), serde_json::json!({})).await?;
        Ok(())
    }

    pub async fn regenerate_recovery_codes(&self, p: &Principal, code: &str) -> AppResult<RecoveryCodes> {
        if !p.agent.two_factor_enabled {
            return Err(AppError::TwoFactorNotEnabled);
        }
        if self.check_second_factor(p.agent.id.as_str(), code).await?.is_none() {
            return Err(AppError::InvalidTotpCode);
        }
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| sha256_hex(&normalise_recovery(c))).collect();
        self.store().replace_recovery_codes(p.agent.id.as_str(), &hashes).await?;
        self.audit(&Actor::agent(p), "2fa.recovery_codes_regenerated", Some(p.agent.id.to_string()), serde_json::json!({})).await?;
        Ok(RecoveryCodes { recovery_codes: codes })
    }

    /// Checks a TOTP code (consuming its time step) or a recovery code (consuming it).
    /// Returns how the factor was proven, or `None` when it was not.
    pub(crate) async fn check_second_factor(&self, agent_id: &str, code: &str) -> AppResult<Option<&'static str>> {
        let row = self.agent_row(agent_id).await?;
        let Some(secret) = row.totp_secret else { return Ok(None) };
        let trimmed = code.trim();
        if trimmed.len() > 64 {
            return Err(AppError::Validation(vec![FieldError::new("code", "is too long")]));
        }
        let digits_only = trimmed.chars().all(|c| c.is_ascii_digit() || c == ' ');
        if digits_only {
            let t = totp(&secret, &self.config().totp_issuer, &row.email)?;
            let Some(step) = matching_step(&t, trimmed, self.unix_now()) else { return Ok(None) };
            let fresh = self.store().consume_totp_step(agent_id, i64::try_from(step).unwrap_or(i64::MAX)).await?;
            return Ok(fresh.then_some("totp"));
        }
        let used = self.store().consume_recovery_code(agent_id, &sha256_hex(&normalise_recovery(trimmed)), micros(self.now())).await?;
        if used {
            let left = self.store().unused_recovery_codes(agent_id).await?;
            let actor = Actor::agent_at(agent_id, &row.email, None);
            self.audit(&actor, "2fa.recovery_code_used", Some(agent_id.to_string()), serde_json::json!({"remaining": left})).await?;
        }
        Ok(used.then_some("recovery_code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_within_one_step_only() {
        let Secret::Encoded(s) = Secret::generate_secret().to_encoded() else { panic!("encoding") };
        let t = totp(&s, "Kefu", "a@example.com").unwrap_or_else(|e| panic!("{e}"));
        let now = 1_800_000_000u64;
        let step = now / 30;
        assert_eq!(matching_step(&t, &t.generate(now), now), Some(step));
        assert_eq!(matching_step(&t, &t.generate(now - 30), now), Some(step - 1));
        assert_eq!(matching_step(&t, &t.generate(now + 30), now), Some(step + 1));
        assert_eq!(matching_step(&t, &t.generate(now - 90), now), None);
        assert_eq!(matching_step(&t, "12345", now), None);
        assert_eq!(matching_step(&t, "abcdef", now), None);
    }

    #[test]
    fn recovery_codes_are_normalised() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 14);
        assert_eq!(normalise_recovery(&c.to_uppercase()), normalise_recovery(&c));
        assert_eq!(normalise_recovery(" ABCD-efgh-2345 "), "abcdefgh2345");
    }

    #[test]
    fn qr_is_an_svg() {
        let svg = qr_svg("otpauth://totp/Kefu:a@example.com?secret=ABC").unwrap_or_default();
        assert!(svg.starts_with("<svg") && svg.contains("<path d=\"M"));
    }
}
