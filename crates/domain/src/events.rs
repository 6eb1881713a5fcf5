//! Domain events and the bus port that carries them between the parts of one node
//! (and, with the NATS bridge, between nodes).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    AgentCreated {
        agent_id: String,
    },
    AgentUpdated {
        agent_id: String,
    },
    /// Every session of this agent was revoked: live connections must close.
    AgentSessionsRevoked {
        agent_id: String,
    },
    SessionRevoked {
        session_id: String,
    },
    /// The team is carried so that live listeners can drop what a viewer may not see
    /// without asking the database.
    /// The channel lets listeners that serve one channel (the bot answers chats) pass over
    /// the rest without a read.
    ConversationCreated {
        conversation_id: String,
        number: i64,
        team_id: Option<String>,
        #[serde(default)]
        channel: String,
    },
    /// Status, assignee, priority, tags, team or another field changed.
    ConversationUpdated {
        conversation_id: String,
        team_id: Option<String>,
        version: i64,
        changes: Vec<String>,
    },
    MessageCreated {
        conversation_id: String,
        team_id: Option<String>,
        message_id: String,
        seq: i64,
        author_kind: String,
        private: bool,
        #[serde(default)]
        channel: String,
    },
    /// An agent views, types in, or left a conversation (collision detection).
    Presence {
        conversation_id: String,
        agent_id: String,
        agent_name: String,
        /// `viewing`, `typing` or `left`.
        state: String,
    },
    /// A live-chat customer started or stopped typing.
    CustomerTyping {
        conversation_id: String,
        team_id: Option<String>,
        typing: bool,
    },
    /// The customer or an agent has seen the conversation up to `seq`.
    MessagesRead {
        conversation_id: String,
        team_id: Option<String>,
        /// `customer` or `agent`.
        reader: String,
        seq: i64,
    },
    NotificationCreated {
        agent_id: String,
        notification_id: String,
    },
    /// The agents whose console is open on one node (sent when it changes and every few
    /// seconds): whether anyone is there to answer a live chat.
    AgentsOnline {
        node: String,
        agent_ids: Vec<String>,
    },
}

/// A stream of events a subscriber receives; `None` when the bus shuts down.
#[async_trait::async_trait]
pub trait EventStream: Send {
    async fn next(&mut self) -> Option<DomainEvent>;
}

#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Delivers to every current subscriber; never blocks on a slow one.
    async fn publish(&self, event: DomainEvent);
    fn subscribe(&self) -> Box<dyn EventStream>;
}
