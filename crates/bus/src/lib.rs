//! The in-process event bus: a tokio broadcast channel behind the domain's `EventBus` port.
//! A subscriber that falls behind skips what it missed rather than slowing publishers.

use kefu_domain::events::EventStream;
use kefu_domain::{DomainEvent, EventBus};
use tokio::sync::broadcast;

pub struct LocalBus {
    tx: broadcast::Sender<DomainEvent>,
}

impl LocalBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(16));
        Self { tx }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

struct LocalStream(broadcast::Receiver<DomainEvent>);

#[async_trait::async_trait]
impl EventStream for LocalStream {
    async fn next(&mut self) -> Option<DomainEvent> {
        loop {
            match self.0.recv().await {
                Ok(e) => return Some(e),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[async_trait::async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, event: DomainEvent) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.tx.send(event);
    }

    fn subscribe(&self) -> Box<dyn EventStream> {
        Box::new(LocalStream(self.tx.subscribe()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_gets_every_event_in_order() {
        let bus = LocalBus::default();
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        for i in 0..3 {
            bus.publish(DomainEvent::AgentCreated { agent_id: i.to_string() }).await;
        }
        for s in [&mut a, &mut b] {
            for i in 0..3 {
                assert_eq!(s.next().await, Some(DomainEvent::AgentCreated { agent_id: i.to_string() }));
            }
        }
    }

    #[tokio::test]
    async fn a_lagging_subscriber_skips_ahead_instead_of_blocking() {
        let bus = LocalBus::new(16);
        let mut slow = bus.subscribe();
        for i in 0..40 {
            bus.publish(DomainEvent::AgentUpdated { agent_id: i.to_string() }).await;
        }
        let first = slow.next().await;
        assert!(matches!(first, Some(DomainEvent::AgentUpdated { ref agent_id }) if agent_id != "0"));
    }
}
