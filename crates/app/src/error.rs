//! The errors a use case reports. Each user-facing variant has a stable `code` that clients
//! may rely on; internal failures are logged and shown only as `internal`.

use chrono::{DateTime, Utc};
use kefu_domain::{DomainError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("e-mail or password is wrong")]
    InvalidCredentials,
    #[error("this account is deactivated")]
    AccountDeactivated,
    #[error("too many failed sign-ins: this account is locked until {0}")]
    AccountLocked(DateTime<Utc>),
    #[error("too many failed sign-ins from this address: try again after {0}")]
    TooManyAttempts(DateTime<Utc>),
    #[error("the two-factor code is wrong or was already used")]
    InvalidTotpCode,
    #[error("the sign-in took too long: start again with your password")]
    LoginChallengeExpired,
    #[error("sign in first")]
    Unauthenticated,
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("this API token lacks the `{0}` scope")]
    InsufficientScope(&'static str),
    #[error("set up two-factor authentication before doing anything else")]
    TwoFactorEnrolmentRequired,
    #[error("two-factor authentication is mandatory for your role")]
    TwoFactorRequiredForRole,
    #[error("two-factor authentication is not enabled")]
    TwoFactorNotEnabled,
    #[error("two-factor authentication is already enabled")]
    TwoFactorAlreadyEnabled,
    #[error("start two-factor enrolment first")]
    TwoFactorNotPending,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("an agent with this e-mail already exists")]
    EmailTaken,
    #[error("this change would leave no active admin")]
    LastAdmin,
    #[error("this database already holds real data; demo data goes only into a new or a demo data directory")]
    RealDataPresent,
    #[error("someone changed this first: reload it (current version {0})")]
    VersionConflict(i64),
    #[error("this conversation is closed: open a new one instead")]
    ConversationClosed,
    #[error("this conversation is not resolved yet: it can be rated once it is")]
    NotResolved,
    #[error("this conversation was merged into {0}")]
    ConversationMerged(String),
    #[error("this contact was merged into {0}")]
    ContactMerged(String),
    #[error("this e-mail, phone or user id already belongs to another contact")]
    IdentityTaken,
    #[error("this name is already taken")]
    NameTaken,
    #[error("another article already has this slug")]
    SlugTaken,
    #[error("this example is already in the bot's training set")]
    ExampleTaken,
    #[error("the file is larger than the limit of {0} bytes")]
    AttachmentTooLarge(usize),
    #[error("this portal link is unknown or has expired")]
    PortalLinkInvalid,
    #[error("the identity signature is not valid")]
    InvalidSignature,
    #[error("the identity token has expired: sign a new one")]
    IdentityExpired,
    #[error("links to {0} may not be sent to customers: only the official domains and those an admin allowed")]
    LinkNotAllowed(String),
    #[error("this action needs the customer's identity checked first: start an identity check and wait until they pass it")]
    IdentityCheckRequired,
    #[error("the customer's identity cannot be checked this way: {0}")]
    IdentityCheckUnavailable(String),
    #[error("too many identity checks for this customer: try again after {0}")]
    IdentityCheckLimited(DateTime<Utc>),
    #[error("the answer is wrong: {0} more tries before the check fails")]
    IdentityCheckFailed(i64),
    #[error("this identity check is {0}: it can no longer be answered")]
    IdentityCheckClosed(&'static str),
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// The stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::AccountDeactivated => "account_deactivated",
            AppError::AccountLocked(_) => "account_locked",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::InvalidTotpCode => "invalid_totp_code",
            AppError::LoginChallengeExpired => "login_challenge_expired",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::InsufficientScope(_) => "insufficient_scope",
            AppError::TwoFactorEnrolmentRequired => "two_factor_enrolment_required",
            AppError::TwoFactorRequiredForRole => "two_factor_required_for_role",
            AppError::TwoFactorNotEnabled => "two_factor_not_enabled",
            AppError::TwoFactorAlreadyEnabled => "two_factor_already_enabled",
            AppError::TwoFactorNotPending => "two_factor_not_pending",
            AppError::NotFound(_) => "not_found",
            AppError::EmailTaken => "email_taken",
            AppError::LastAdmin => "last_admin",
            AppError::RealDataPresent => "real_data_present",
            AppError::VersionConflict(_) => "version_conflict",
            AppError::ConversationClosed => "conversation_closed",
            AppError::NotResolved => "not_resolved",
            AppError::ConversationMerged(_) => "conversation_merged",
            AppError::ContactMerged(_) => "contact_merged",
            AppError::IdentityTaken => "identity_taken",
            AppError::NameTaken => "name_taken",
            AppError::SlugTaken => "slug_taken",
            AppError::ExampleTaken => "example_taken",
            AppError::AttachmentTooLarge(_) => "attachment_too_large",
            AppError::PortalLinkInvalid => "portal_link_invalid",
            AppError::InvalidSignature => "invalid_signature",
            AppError::IdentityExpired => "identity_expired",
            AppError::LinkNotAllowed(_) => "link_not_allowed",
            AppError::IdentityCheckRequired => "identity_check_required",
            AppError::IdentityCheckUnavailable(_) => "identity_check_unavailable",
            AppError::IdentityCheckLimited(_) => "identity_check_limited",
            AppError::IdentityCheckFailed(_) => "identity_check_failed",
            AppError::IdentityCheckClosed(_) => "identity_check_closed",
            AppError::Internal(_) => "internal",
        }
    }

    /// The HTTP status that fits; the web layer uses it as is.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Validation(_) => 422,
            AppError::InvalidCredentials | AppError::InvalidTotpCode | AppError::LoginChallengeExpired | AppError::Unauthenticated => 401,
            AppError::AccountDeactivated
            | AppError::Forbidden
            | AppError::InsufficientScope(_)
            | AppError::TwoFactorEnrolmentRequired
            | AppError::TwoFactorRequiredForRole => 403,
            AppError::AccountLocked(_) => 423,
            AppError::TooManyAttempts(_) => 429,
            AppError::TwoFactorNotEnabled | AppError::TwoFactorAlreadyEnabled | AppError::TwoFactorNotPending => 409,
            AppError::NotFound(_) => 404,
            AppError::EmailTaken | AppError::LastAdmin | AppError::RealDataPresent => 409,
            AppError::VersionConflict(_)
            | AppError::ConversationClosed
            | AppError::NotResolved
            | AppError::ConversationMerged(_)
            | AppError::ContactMerged(_)
            | AppError::IdentityTaken
            | AppError::NameTaken
            | AppError::SlugTaken
            | AppError::ExampleTaken => 409,
            AppError::AttachmentTooLarge(_) => 413,
            AppError::PortalLinkInvalid | AppError::InvalidSignature | AppError::IdentityExpired => 401,
            AppError::LinkNotAllowed(_) => 422,
            AppError::IdentityCheckRequired => 403,
            AppError::IdentityCheckUnavailable(_) | AppError::IdentityCheckClosed(_) => 409,
            AppError::IdentityCheckLimited(_) => 429,
            AppError::IdentityCheckFailed(_) => 422,
            AppError::Internal(_) => 500,
        }
    }

    /// Every code this layer can produce, for the test that each is reachable.
    pub const CODES: &'static [&'static str] = &[
        "validation_failed",
        "invalid_credentials",
        "account_deactivated",
        "account_locked",
        "too_many_attempts",
        "invalid_totp_code",
        "login_challenge_expired",
        "unauthenticated",
        "forbidden",
        "insufficient_scope",
        "two_factor_enrolment_required",
        "two_factor_required_for_role",
        "two_factor_not_enabled",
        "two_factor_already_enabled",
        "two_factor_not_pending",
        "not_found",
        "email_taken",
        "last_admin",
        "real_data_present",
        "version_conflict",
        "conversation_closed",
        "not_resolved",
        "conversation_merged",
        "contact_merged",
        "identity_taken",
        "name_taken",
        "slug_taken",
        "attachment_too_large",
        "portal_link_invalid",
        "invalid_signature",
        "identity_expired",
        "link_not_allowed",
        "identity_check_required",
        "identity_check_unavailable",
        "identity_check_limited",
        "identity_check_failed",
        "identity_check_closed",
        "internal",
    ];

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(f) => AppError::Validation(f),
        }
    }
}

impl From<kefu_store::StoreError> for AppError {
    fn from(e: kefu_store::StoreError) -> Self {
        AppError::Internal(e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// The value when valid; otherwise its field errors join `errors`, so that a request's mistakes
/// are all reported at once.
pub(crate) fn collect<T>(errors: &mut Vec<FieldError>, r: Result<T, DomainError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(DomainError::Validation(f)) => {
            errors.extend(f);
            None
        }
    }
}

/// A validation error on one field.
pub(crate) fn invalid(field: &str, msg: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldError::new(field, msg)])
}
