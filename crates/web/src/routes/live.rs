//! The agents' live feed: the events of the conversations an agent may see, over Server-Sent
//! Events (`GET /api/v1/events`) or over the agents' WebSocket (`GET /api/v1/agent/ws`), which
//! also carries the agent's replies (acknowledged once stored), typing and read marks
//! (`docs/chat-protocol.md`, *Agents*).

use crate::WebState;
use crate::extract::Auth;
use crate::problem::{ApiResult, Problem};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use kefu_app::conversations::NewMessageInput;
use kefu_app::tokens::Scope;
use kefu_app::{App, AppError, Principal};
use kefu_domain::{DomainEvent, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::convert::Infallible;
use std::time::{Duration, Instant};

/// The events one agent may see, from the bus. While it exists the agent counts as online
/// (live chat's availability).
struct AgentFeed {
    app: App,
    bus: Box<dyn kefu_domain::events::EventStream>,
    me: String,
    restricted: bool,
    hidden: HashSet<String>,
    refreshed: Instant,
    closing: tokio::sync::watch::Receiver<bool>,
    _online: kefu_app::presence::ConsoleOpen,
}

impl AgentFeed {
    async fn open(s: &WebState, p: &Principal) -> Result<AgentFeed, AppError> {
        let app = s.app.clone();
        let me = p.agent.id.to_string();
        let restricted = p.agent.role == Role::Agent;
        let hidden = if restricted { app.teams_hidden_from(&me).await? } else { HashSet::new() };
        let bus = app.bus().subscribe();
        let _online = app.console_opened(&me);
        Ok(AgentFeed { app, bus, me, restricted, hidden, refreshed: Instant::now(), closing: s.closing.subscribe(), _online })
    }

    /// The next event for this agent; `None` when the feed ends (the server stops, or the
    /// agent was signed out everywhere).
    async fn next(&mut self) -> Option<DomainEvent> {
        loop {
            let e = tokio::select! {
                e = self.bus.next() => e?,
                _ = self.closing.wait_for(|c| *c) => return None,
            };
            // Team membership changes rarely; refresh what is hidden every half minute.
            if self.restricted && self.refreshed.elapsed() > Duration::from_secs(30) {
                if let Ok(h) = self.app.teams_hidden_from(&self.me).await {
                    self.hidden = h;
                }
                self.refreshed = Instant::now();
            }
            let show = match &e {
                DomainEvent::ConversationCreated { team_id, .. }
                | DomainEvent::ConversationUpdated { team_id, .. }
                | DomainEvent::MessageCreated { team_id, .. }
                | DomainEvent::CustomerTyping { team_id, .. }
                | DomainEvent::MessagesRead { team_id, .. } => team_id.as_ref().is_none_or(|t| !self.hidden.contains(t)),
                DomainEvent::Presence { agent_id, .. } => *agent_id != self.me,
                DomainEvent::NotificationCreated { agent_id, .. } => *agent_id == self.me,
                DomainEvent::AgentSessionsRevoked { agent_id } if *agent_id == self.me => return None,
                _ => false,
            };
            if show {
                return Some(e);
            }
        }
    }
}

/// The live feed (Server-Sent Events): `conversation_created`, `conversation_updated`,
/// `message_created`, `presence`, `customer_typing`, `messages_read`, and
/// `notification_created` for me. Each event's data is
/// JSON with a `type` field; what a viewer may not see is never sent.
#[utoipa::path(get, path = "/api/v1/events", tag = "inbox", responses((status = 200, content_type = "text/event-stream", description = "An endless event stream")))]
pub async fn events(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Response> {
    let feed = AgentFeed::open(&s, &p).await?;
    let stream = futures_util::stream::unfold(feed, |mut f| async move {
        loop {
            let e = f.next().await?;
            if let Ok(ev) = Event::default().json_data(&e) {
                return Some((Ok::<Event, Infallible>(ev), f));
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AgentFrame {
    /// A reply (or, with `private`, a note); acknowledged once stored.
    Send {
        client_id: String,
        conversation_id: String,
        body: String,
        #[serde(default)]
        private: bool,
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    Typing {
        conversation_id: String,
        typing: bool,
    },
    Read {
        conversation_id: String,
        seq: i64,
    },
    Ping,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AgentReply<'a> {
    Ack {
        client_id: &'a str,
        conversation_id: &'a str,
        message_id: &'a str,
        seq: i64,
        replayed: bool,
    },
    Pong,
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        errors: Vec<kefu_domain::FieldError>,
    },
}

fn frame<T: Serialize>(v: &T) -> Message {
    Message::Text(Utf8Bytes::from(serde_json::to_string(v).unwrap_or_default()))
}

fn error_frame(e: AppError, client_id: Option<&str>) -> Message {
    let p = Problem::from(e);
    frame(&AgentReply::Error { code: p.code, message: p.detail, client_id, errors: p.errors })
}

/// A page of another site may not open an agent's socket with the agent's cookies.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}

/// The agents' WebSocket: the live feed's events as JSON text frames (as in `GET
/// /api/v1/events`), and frames from the agent: `send` (acknowledged with the stored
/// message's id and seq), `typing`, `read`, `ping`.
#[utoipa::path(get, path = "/api/v1/agent/ws", tag = "inbox",
    responses((status = 101, description = "Switching to the agents' live protocol"), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn agent_ws(State(s): State<WebState>, Auth(p): Auth, headers: HeaderMap, upgrade: WebSocketUpgrade) -> ApiResult<Response> {
    if !same_origin(&headers) {
        return Err(Problem::new(StatusCode::FORBIDDEN, "forbidden", "the agents' socket opens only from Kefu's own pages"));
    }
    let feed = AgentFeed::open(&s, &p).await?;
    Ok(upgrade
        .max_message_size(crate::routes::chat::MAX_FRAME_BYTES)
        .on_upgrade(move |socket| agent_socket(s.app.clone(), p, feed, socket)))
}

async fn agent_socket(app: App, p: Principal, mut feed: AgentFeed, mut socket: WebSocket) {
    let mut ping = tokio::time::interval(Duration::from_secs(25));
    ping.tick().await;
    loop {
        let out: Vec<Message> = tokio::select! {
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) => on_frame(&app, &p, t.as_str()).await,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => Vec::new(),
            },
            e = feed.next() => match e {
                Some(e) => vec![frame(&e)],
                None => {
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1012, reason: Utf8Bytes::from("feed ended") }))).await;
                    return;
                }
            },
            _ = ping.tick() => vec![Message::Ping(Default::default())],
        };
        for m in out {
            if socket.send(m).await.is_err() {
                return;
            }
        }
    }
}

async fn on_frame(app: &App, p: &Principal, raw: &str) -> Vec<Message> {
    let f = match serde_json::from_str::<AgentFrame>(raw) {
        Ok(f) => f,
        Err(e) => {
            return vec![frame(&AgentReply::Error {
                code: "invalid_frame".into(),
                message: format!("not a frame of this protocol: {e}"),
                client_id: None,
                errors: Vec::new(),
            })];
        }
    };
    if !matches!(f, AgentFrame::Ping)
        && let Err(e) = p.require_scope(Scope::Write)
    {
        return vec![error_frame(e, None)];
    }
    match f {
        AgentFrame::Ping => vec![frame(&AgentReply::Pong)],
        AgentFrame::Send { client_id, conversation_id, body, private, attachment_ids } => {
            let input = NewMessageInput { body, private, client_key: Some(client_id.clone()), attachment_ids, ..Default::default() };
            match app.post_message(p, &conversation_id, input).await {
                Ok((posted, _)) => {
                    let replayed = !matches!(posted, kefu_app::conversations::Posted::Created(_));
                    let m = posted.message();
                    vec![frame(&AgentReply::Ack {
                        client_id: &client_id,
                        conversation_id: &m.conversation_id,
                        message_id: &m.id,
                        seq: m.seq,
                        replayed,
                    })]
                }
                Err(e) => vec![error_frame(e, Some(&client_id))],
            }
        }
        AgentFrame::Typing { conversation_id, typing } => {
            match app.report_presence(p, &conversation_id, if typing { "typing" } else { "viewing" }).await {
                Ok(_) => Vec::new(),
                Err(e) => vec![error_frame(e, None)],
            }
        }
        AgentFrame::Read { conversation_id, seq } => match app.agent_read(p, &conversation_id, seq).await {
            Ok(()) => Vec::new(),
            Err(e) => vec![error_frame(e, None)],
        },
    }
}
