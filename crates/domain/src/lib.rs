//! Kefu's domain: the types every other crate speaks (ids, agents, audit records, events),
//! their validation, and the ports (event bus, clock) that outer crates implement.

pub mod agent;
pub mod audit;
pub mod blob;
pub mod clock;
pub mod error;
pub mod events;
pub mod id;
pub mod inbox;
pub mod kb;
pub mod page;

pub use agent::{Agent, AgentName, Email, Password, Role};
pub use audit::{AuditEntry, AuditRecord};
pub use blob::{BlobError, BlobKey, BlobStore};
pub use clock::{Clock, SystemClock};
pub use error::{DomainError, FieldError};
pub use events::{DomainEvent, EventBus};
pub use id::Id;
pub use inbox::{
    Activity, Actor, ArticleLink, AttachmentInfo, AuthorKind, CannedResponse, Channel, CheckMethod, CheckReason, CheckStatus, Contact,
    Conversation, ConversationFilter, IdentityCheck, IdentityKind, LinkFlag, Macro, MacroAction, Message, MessageActions, MessageShield,
    Notification, Priority, Rating, SENSITIVE_INTENTS, SavedView, Status, Team, TimelineItem,
};
pub use page::Page;
