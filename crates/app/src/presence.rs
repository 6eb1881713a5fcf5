//! Who is looking at or typing in which conversation right now (collision detection). Agents'
//! consoles report their state every few seconds; an entry not renewed in time expires.

use crate::service::{Service, Shutdown};
use crate::tokens::Scope;
use crate::{App, AppError, AppResult, Principal};
use kefu_domain::DomainEvent;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A console that stops reporting is gone after this long.
pub const PRESENCE_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Viewer {
    pub agent_id: String,
    pub agent_name: String,
    /// `viewing` or `typing`.
    pub state: String,
}

/// Per agent: name, state, and when the entry expires.
type Entry = (String, String, Instant);

#[derive(Default)]
pub(crate) struct PresenceMap(Mutex<HashMap<String, HashMap<String, Entry>>>);

impl PresenceMap {
    fn apply(&self, conversation_id: &str, agent_id: &str, agent_name: &str, state: &str) {
        let Ok(mut map) = self.0.lock() else { return };
        let entry = map.entry(conversation_id.to_string()).or_default();
        if state == "left" {
            entry.remove(agent_id);
        } else {
            entry.insert(agent_id.to_string(), (agent_name.to_string(), state.to_string(), Instant::now() + PRESENCE_TTL));
        }
        if entry.is_empty() {
            map.remove(conversation_id);
        }
    }

    fn viewers(&self, conversation_id: &str) -> Vec<Viewer> {
        let Ok(map) = self.0.lock() else { return Vec::new() };
        let now = Instant::now();
        let mut v: Vec<Viewer> = map
            .get(conversation_id)
            .map(|m| {
                m.iter()
                    .filter(|(_, (_, _, until))| *until > now)
                    .map(|(id, (name, state, _))| Viewer { agent_id: id.clone(), agent_name: name.clone(), state: state.clone() })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| a.agent_name.cmp(&b.agent_name));
        v
    }
}

impl App {
    /// Reports that `p` views, types in, or left a conversation; answers who is there now.
    pub async fn report_presence(&self, p: &Principal, conversation_id: &str, state: &str) -> AppResult<Vec<Viewer>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        if !matches!(state, "viewing" | "typing" | "left") {
            return Err(AppError::Validation(vec![kefu_domain::FieldError::new("state", "must be viewing, typing or left")]));
        }
        let row = self.visible_conversation(p, conversation_id).await?;
        // Applied here at once (the answer must include it) and by every node from the bus.
        self.0.presence.apply(&row.id, p.agent.id.as_str(), p.agent.name.as_str(), state);
        self.bus()
            .publish(DomainEvent::Presence {
                conversation_id: row.id.clone(),
                agent_id: p.agent.id.to_string(),
                agent_name: p.agent.name.as_str().to_string(),
                state: state.to_string(),
            })
            .await;
        Ok(self.0.presence.viewers(&row.id))
    }

    /// Private teams this agent is not in: what a live feed must not show them.
    pub async fn teams_hidden_from(&self, agent_id: &str) -> AppResult<std::collections::HashSet<String>> {
        Ok(self.store().teams_hidden_from(agent_id).await?.into_iter().collect())
    }

    pub async fn viewers(&self, p: &Principal, conversation_id: &str) -> AppResult<Vec<Viewer>> {
        p.require_enrolled()?;
        p.require_scope(Scope::Read)?;
        let row = self.visible_conversation(p, conversation_id).await?;
        Ok(self.0.presence.viewers(&row.id))
    }
}

/// How often a node tells the others which agents have its console open, and how long such a
/// report holds.
const ONLINE_EVERY: Duration = Duration::from_secs(15);
const ONLINE_TTL: Duration = Duration::from_secs(45);

/// Which agents have a console open (its live event feed connected), here and on other nodes.
pub(crate) struct Availability {
    /// This node's name in its reports.
    node: String,
    local: Mutex<HashMap<String, usize>>,
    remote: Mutex<HashMap<String, (Vec<String>, Instant)>>,
}

impl Default for Availability {
    fn default() -> Self {
        Availability { node: kefu_domain::Id::new().to_string(), local: Default::default(), remote: Default::default() }
    }
}

impl Availability {
    fn local_ids(&self) -> Vec<String> {
        self.local.lock().map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }

    fn online(&self) -> usize {
        let mut all: std::collections::HashSet<String> = self.local_ids().into_iter().collect();
        let now = Instant::now();
        if let Ok(mut remote) = self.remote.lock() {
            remote.retain(|_, (_, until)| *until > now);
            all.extend(remote.values().flat_map(|(ids, _)| ids.iter().cloned()));
        }
        all.len()
    }
}

/// Held while an agent's console is connected; dropping it marks them gone (when it was their
/// last console).
pub struct ConsoleOpen {
    app: App,
    agent_id: String,
}

impl Drop for ConsoleOpen {
    fn drop(&mut self) {
        let last = match self.app.0.availability.local.lock() {
            Ok(mut m) => match m.get_mut(&self.agent_id) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                _ => m.remove(&self.agent_id).is_some(),
            },
            Err(_) => false,
        };
        if last && let Ok(rt) = tokio::runtime::Handle::try_current() {
            let app = self.app.clone();
            rt.spawn(async move { app.announce_online().await });
        }
    }
}

impl App {
    /// An agent's console connected; keep the guard for as long as it stays.
    pub fn console_opened(&self, agent_id: &str) -> ConsoleOpen {
        let first = match self.0.availability.local.lock() {
            Ok(mut m) => {
                let n = m.entry(agent_id.to_string()).or_insert(0);
                *n += 1;
                *n == 1
            }
            Err(_) => false,
        };
        if first {
            let app = self.clone();
            tokio::spawn(async move { app.announce_online().await });
        }
        ConsoleOpen { app: self.clone(), agent_id: agent_id.to_string() }
    }

    /// How many agents have a console open, on any node.
    pub fn agents_online(&self) -> usize {
        self.0.availability.online()
    }

    async fn announce_online(&self) {
        let a = &self.0.availability;
        self.bus().publish(DomainEvent::AgentsOnline { node: a.node.clone(), agent_ids: a.local_ids() }).await;
    }
}

/// Applies presence reports from the bus, so that with several nodes each knows every viewer,
/// and tells the other nodes which agents are online here.
pub struct PresenceTracker(App);

impl PresenceTracker {
    pub fn new(app: &App) -> Arc<Self> {
        Arc::new(Self(app.clone()))
    }
}

#[async_trait::async_trait]
impl Service for PresenceTracker {
    fn name(&self) -> &'static str {
        "presence"
    }

    async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        let mut events = self.0.bus().subscribe();
        let mut announce = tokio::time::interval(ONLINE_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = announce.tick() => self.0.announce_online().await,
                e = events.next() => match e {
                    Some(DomainEvent::Presence { conversation_id, agent_id, agent_name, state }) => {
                        self.0.0.presence.apply(&conversation_id, &agent_id, &agent_name, &state);
                    }
                    Some(DomainEvent::AgentsOnline { node, agent_ids }) => {
                        let a = &self.0.0.availability;
                        if node != a.node && let Ok(mut remote) = a.remote.lock() {
                            remote.insert(node, (agent_ids, Instant::now() + ONLINE_TTL));
                        }
                    }
                    Some(_) => {}
                    None => break,
                },
            }
        }
    }
}
