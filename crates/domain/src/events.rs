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
