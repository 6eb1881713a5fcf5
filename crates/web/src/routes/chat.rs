//! Live chat over WebSocket (`docs/chat-protocol.md`): the widget's visitor connects, says who
//! they are, sends messages that are acknowledged only once stored, and follows their chats
//! live, resuming after a reconnect from the last `seq` they saw. One hub task reads the event
//! bus and hands each socket only the events of the conversations it joined.

use crate::WebState;
use crate::extract::ApiJson;
use crate::extract::Auth;
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use kefu_app::chat::{ChatConversation, ChatMessage, ChatSettings, ChatVisitor, PreChat, Queue, SignedIdentity, WidgetConfig};
use kefu_app::demo::DemoIdentity;
use kefu_app::{App, AppError};
use kefu_domain::DomainEvent;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Largest frame a client may send; a larger one closes the connection (code 1009).
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
const READ_BUFFER_BYTES: usize = 4096;
/// How long a new connection may take to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// The server pings this often; a connection silent for `IDLE_LIMIT` is closed.
const PING_EVERY: Duration = Duration::from_secs(25);
const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// Messages a visitor may send: a burst, then this many a second.
const SEND_BURST: f64 = 10.0;
const SENDS_PER_SECOND: f64 = 2.0;
/// Frames of any kind: a burst, then this many a second.
const FRAME_BURST: f64 = 60.0;
const FRAMES_PER_SECOND: f64 = 20.0;
/// Events waiting for one socket; past this the socket catches up from the database instead.
const SOCKET_QUEUE: usize = 256;
/// Conversations one connection may follow at once.
const MAX_JOINED: usize = 50;
/// How often a waiting chat's place in the queue is checked.
const QUEUE_EVERY: Duration = Duration::from_secs(10);

/// Codes of error frames that are not also HTTP problem codes.
pub const FRAME_CODES: &[&str] = &["invalid_frame", "hello_required", "rate_limited", "not_joined"];

// --- Frames -------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Hello(Hello),
    Send {
        client_id: String,
        #[serde(default)]
        conversation_id: Option<String>,
        #[serde(default)]
        body: String,
        #[serde(default)]
        attachment_ids: Vec<String>,
        #[serde(default)]
        prechat: Option<PreChat>,
    },
    Rate {
        conversation_id: String,
        score: i64,
        #[serde(default)]
        comment: Option<String>,
    },
    Resume {
        conversation_id: String,
        #[serde(default)]
        after_seq: i64,
    },
    Typing {
        conversation_id: String,
        typing: bool,
    },
    Read {
        conversation_id: String,
        seq: i64,
    },
    /// The answer to an identity check an agent asked for.
    Verify {
        conversation_id: String,
        check_id: String,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        identity: Option<SignedIdentity>,
    },
    Ping,
}

/// Who a visitor is: the `hello` frame, and the `hello` field of an upload.
#[derive(Debug, Deserialize)]
struct Hello {
    widget_id: String,
    #[serde(default)]
    visitor_key: Option<String>,
    #[serde(default)]
    identity: Option<SignedIdentity>,
    #[serde(default)]
    language: Option<String>,
}

impl Hello {
    async fn visitor(&self, app: &App) -> Result<ChatVisitor, AppError> {
        app.chat_connect(&self.widget_id, self.identity.as_ref(), self.visitor_key.as_deref(), self.language.as_deref()).await
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerFrame<'a> {
    Welcome {
        verified: bool,
        name: &'a str,
        conversations: Vec<ChatConversation>,
        limits: Limits,
    },
    Ack {
        client_id: &'a str,
        conversation_id: &'a str,
        message_id: &'a str,
        seq: i64,
        replayed: bool,
        /// When the shield changed the message: the text as stored (secrets redacted).
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<&'a str>,
        /// When the shield noted something: what it took out and its verdict on each link.
        #[serde(skip_serializing_if = "Option::is_none")]
        shield: Option<&'a kefu_domain::MessageShield>,
    },
    Message(&'a ChatMessage),
    Conversation(&'a ChatConversation),
    Resumed {
        conversation_id: &'a str,
        last_seq: i64,
    },
    Rated {
        conversation_id: &'a str,
        score: i16,
        comment: Option<&'a str>,
    },
    Typing {
        conversation_id: &'a str,
        name: &'a str,
        typing: bool,
    },
    Read {
        conversation_id: &'a str,
        reader: &'a str,
        seq: i64,
    },
    Pong,
    Error(ErrorFrame),
}

#[derive(Debug, Serialize)]
struct Limits {
    max_frame_bytes: usize,
    send_burst: u32,
    sends_per_second: f64,
}

#[derive(Debug, Serialize)]
struct ErrorFrame {
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<kefu_domain::FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
    /// For `identity_check_failed`: wrong answers still allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts_left: Option<i64>,
}

impl ErrorFrame {
    fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorFrame {
            code: code.into(),
            message: message.into(),
            client_id: None,
            errors: Vec::new(),
            retry_after_ms: None,
            attempts_left: None,
        }
    }

    fn from_app(e: AppError, client_id: Option<&str>) -> Self {
        let p = Problem::from(e);
        ErrorFrame {
            code: p.code,
            message: p.detail,
            client_id: client_id.map(str::to_string),
            errors: p.errors,
            retry_after_ms: None,
            attempts_left: p.attempts_left,
        }
    }
}

fn text(frame: &ServerFrame<'_>) -> Message {
    Message::Text(Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default()))
}

// --- The hub ------------------------------------------------------------------------------

/// What the hub hands a socket.
#[derive(Debug)]
enum HubEvent {
    /// A message was stored; a note only moves `seq` on. The socket reads the message only if
    /// its client lacks it (the sender's own connection has it from the ack).
    Message {
        conversation_id: String,
        seq: i64,
        message_id: String,
        private: bool,
    },
    Conversation(Box<ChatConversation>),
    Typing {
        conversation_id: String,
        name: String,
        typing: bool,
    },
    Read {
        conversation_id: String,
        seq: i64,
    },
}

struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Arc<HubEvent>>,
    /// Set when an event could not be queued: the socket catches up from the database.
    overflowed: Arc<AtomicBool>,
}

/// Routes the bus's events to the sockets that follow each conversation.
#[derive(Default)]
pub struct ChatHub {
    subscribers: Mutex<HashMap<String, Vec<Subscriber>>>,
    next_id: AtomicU64,
    started: OnceLock<()>,
}

impl std::fmt::Debug for ChatHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatHub").finish_non_exhaustive()
    }
}

/// A socket's place in the hub for one conversation; leaving drops it.
struct Subscription {
    hub: Arc<ChatHub>,
    conversation_id: String,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut subs) = self.hub.subscribers.lock()
            && let Some(list) = subs.get_mut(&self.conversation_id)
        {
            list.retain(|s| s.id != self.id);
            if list.is_empty() {
                subs.remove(&self.conversation_id);
            }
        }
    }
}

impl ChatHub {
    fn join(
        self: &Arc<Self>,
        app: &App,
        conversation_id: &str,
        tx: &mpsc::Sender<Arc<HubEvent>>,
        overflowed: &Arc<AtomicBool>,
    ) -> Subscription {
        self.started.get_or_init(|| {
            tokio::spawn(run_hub(Arc::downgrade(self), app.clone()));
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.entry(conversation_id.to_string()).or_default().push(Subscriber { id, tx: tx.clone(), overflowed: overflowed.clone() });
        }
        Subscription { hub: self.clone(), conversation_id: conversation_id.to_string(), id }
    }

    fn followed(&self, conversation_id: &str) -> bool {
        self.subscribers.lock().map(|s| s.contains_key(conversation_id)).unwrap_or(false)
    }

    fn deliver(&self, conversation_id: &str, e: HubEvent) {
        let e = Arc::new(e);
        if let Ok(subs) = self.subscribers.lock()
            && let Some(list) = subs.get(conversation_id)
        {
            for s in list {
                if s.tx.try_send(e.clone()).is_err() {
                    s.overflowed.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

async fn run_hub(hub: std::sync::Weak<ChatHub>, app: App) {
    let mut bus = app.bus().subscribe();
    while let Some(e) = bus.next().await {
        let Some(hub) = hub.upgrade() else { return };
        let conversation_id = match &e {
            DomainEvent::MessageCreated { conversation_id, .. }
            | DomainEvent::ConversationUpdated { conversation_id, .. }
            | DomainEvent::Presence { conversation_id, .. }
            | DomainEvent::MessagesRead { conversation_id, .. } => conversation_id.clone(),
            _ => continue,
        };
        if !hub.followed(&conversation_id) {
            continue;
        }
        let event = match e {
            DomainEvent::MessageCreated { message_id, seq, private, .. } => {
                HubEvent::Message { conversation_id: conversation_id.clone(), seq, message_id, private }
            }
            DomainEvent::ConversationUpdated { .. } => match app.chat_conversation_by_id(&conversation_id).await {
                Ok(Some(c)) => HubEvent::Conversation(Box::new(c)),
                _ => continue,
            },
            DomainEvent::Presence { agent_name, state, .. } => {
                HubEvent::Typing { conversation_id: conversation_id.clone(), name: agent_name, typing: state == "typing" }
            }
            DomainEvent::MessagesRead { reader, seq, .. } if reader == "agent" => {
                HubEvent::Read { conversation_id: conversation_id.clone(), seq }
            }
            _ => continue,
        };
        hub.deliver(&conversation_id, event);
    }
}

// --- HTTP ---------------------------------------------------------------------------------

/// The widget's public configuration (greeting, pre-chat form, topics).
#[utoipa::path(get, path = "/api/v1/chat/widget/{widget_id}", tag = "chat", params(("widget_id" = String, Path)),
    responses((status = 200, body = WidgetConfig), (status = 404, body = Problem)))]
pub async fn widget(State(s): State<WebState>, Path(widget_id): Path<String>) -> ApiResult<Json<WidgetConfig>> {
    Ok(Json(s.app.widget_config(&widget_id).await?))
}

/// Form fields of a visitor's upload.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ChatUpload {
    /// The same JSON as the `hello` frame (`widget_id` and `visitor_key` or `identity`).
    hello: String,
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A live-chat visitor uploads a file, to send it with a message (`attachment_ids`).
#[utoipa::path(post, path = "/api/v1/chat/attachments", tag = "chat", request_body(content = ChatUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = kefu_domain::AttachmentInfo), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(
    State(s): State<WebState>,
    mut mp: axum::extract::Multipart,
) -> ApiResult<(axum::http::StatusCode, Json<kefu_domain::AttachmentInfo>)> {
    use crate::routes::files::{multipart_problem, read_file_field};
    let bad = |field: &str, msg: &str| Problem::from(AppError::Validation(vec![kefu_domain::FieldError::new(field, msg)]));
    let mut hello: Option<String> = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp.next_field().await.map_err(multipart_problem)? {
        match field.name() {
            Some("hello") => hello = Some(field.text().await.map_err(multipart_problem)?),
            Some("file") => file = Some(read_file_field(field, s.app.max_attachment_bytes()).await?),
            _ => {}
        }
    }
    let hello = hello.ok_or_else(|| bad("hello", "is required: the JSON of the hello frame"))?;
    let hello: Hello = serde_json::from_str(&hello)
        .map_err(|_| bad("hello", "must be the JSON of a hello frame: {\"widget_id\": …, \"visitor_key\": …}"))?;
    let (name, bytes) = file.ok_or_else(|| bad("file", "is required"))?;
    let mut visitor = hello.visitor(&s.app).await?;
    Ok((axum::http::StatusCode::CREATED, Json(s.app.chat_upload(&mut visitor, &name, bytes).await?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Signed {
    exp: i64,
    sig: String,
}

/// A file of a chat, through the signed URL its message carries.
#[utoipa::path(get, path = "/api/v1/chat/attachments/{id}", tag = "chat", params(("id" = String, Path), Signed),
    responses((status = 200, description = "The file"), (status = 404, body = Problem)))]
pub async fn download(
    State(s): State<WebState>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Signed>,
) -> ApiResult<Response> {
    Ok(crate::routes::files::download_response(s.app.chat_attachment(&id, false, q.exp, &q.sig).await?))
}

/// An image's thumbnail, through a signed URL.
#[utoipa::path(get, path = "/api/v1/chat/attachments/{id}/thumbnail", tag = "chat", params(("id" = String, Path), Signed),
    responses((status = 200, description = "The thumbnail"), (status = 404, body = Problem)))]
pub async fn thumbnail(
    State(s): State<WebState>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Signed>,
) -> ApiResult<Response> {
    Ok(crate::routes::files::download_response(s.app.chat_attachment(&id, true, q.exp, &q.sig).await?))
}

/// Demo mode only: a signed identity of the demo exchange's logged-in customer.
#[utoipa::path(get, path = "/api/v1/chat/demo-identity", tag = "chat", responses((status = 200, body = DemoIdentity), (status = 404, body = Problem)))]
pub async fn demo_identity(State(s): State<WebState>) -> ApiResult<Json<DemoIdentity>> {
    Ok(Json(s.app.demo_identity().await?))
}

/// The live chat WebSocket for widget visitors; the protocol is in `docs/chat-protocol.md`.
#[utoipa::path(get, path = "/api/v1/chat/ws", tag = "chat", responses((status = 101, description = "Switching to the chat protocol")))]
pub async fn ws(State(s): State<WebState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        // Chat frames are small and a node holds many thousands of sockets: a small read buffer
        // (a larger frame is read in several steps) and writes that go out at once.
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| visitor_socket(s, socket))
}

/// The live chat settings: widget id, greeting, pre-chat form, ES256 key.
#[utoipa::path(get, path = "/api/v1/settings/chat", tag = "admin", responses((status = 200, body = ChatSettings), (status = 403, body = Problem)))]
pub async fn get_settings(State(s): State<WebState>, Auth(p): Auth) -> ApiResult<Json<ChatSettings>> {
    Ok(Json(s.app.get_chat_settings(&p).await?))
}

/// Change the greeting, the pre-chat form and the ES256 public key (the widget id stays).
#[utoipa::path(put, path = "/api/v1/settings/chat", tag = "admin", request_body = ChatSettings,
    responses((status = 200, body = ChatSettings), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(State(s): State<WebState>, Auth(p): Auth, ApiJson(b): ApiJson<ChatSettings>) -> ApiResult<Json<ChatSettings>> {
    Ok(Json(s.app.put_chat_settings(&p, b).await?))
}

// --- One visitor's connection -------------------------------------------------------------

/// A token bucket: `burst` at once, refilled at `rate` a second.
struct Bucket {
    tokens: f64,
    burst: f64,
    rate: f64,
    at: Instant,
}

impl Bucket {
    fn new(burst: f64, rate: f64) -> Self {
        Bucket { tokens: burst, burst, rate, at: Instant::now() }
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

struct Joined {
    /// The highest `seq` of this conversation the client has been given or does not need.
    known: i64,
    /// The queue place the client was last told; `None` once an agent has the chat.
    queue: Option<Queue>,
    _subscription: Subscription,
}

struct Connection {
    app: App,
    hub: Arc<ChatHub>,
    visitor: ChatVisitor,
    joined: HashMap<String, Joined>,
    tx: mpsc::Sender<Arc<HubEvent>>,
    overflowed: Arc<AtomicBool>,
    sends: Bucket,
    frames: Bucket,
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(reason) }))).await;
}

async fn visitor_socket(s: WebState, mut socket: WebSocket) {
    // The first frame must be `hello`.
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<ClientFrame>(t.as_str()).ok(),
        Ok(_) => return,
        Err(_) => None,
    };
    let Some(ClientFrame::Hello(hello)) = hello else {
        let _ = socket.send(text(&ServerFrame::Error(ErrorFrame::new("hello_required", "the first frame must be hello")))).await;
        return close(socket, 1008, "hello required").await;
    };
    // The heavy work (connecting, sending, events) runs in boxed futures: an idle socket's task
    // then holds only its own small state, not room for the deepest call it may ever make
    // (10,000 idle sockets each carried it).
    let visitor = match Box::pin(hello.visitor(&s.app)).await {
        Ok(v) => v,
        Err(e) => {
            // A wrong identity is refused outright, never treated as an anonymous visitor.
            let _ = socket.send(text(&ServerFrame::Error(ErrorFrame::from_app(e, None)))).await;
            return close(socket, 1008, "identity refused").await;
        }
    };
    let conversations = match Box::pin(s.app.chat_conversations(&visitor)).await {
        Ok(c) => c,
        Err(_) => return close(socket, 1011, "try again").await,
    };
    let limits = Limits { max_frame_bytes: MAX_FRAME_BYTES, send_burst: SEND_BURST as u32, sends_per_second: SENDS_PER_SECOND };
    let welcome = ServerFrame::Welcome { verified: visitor.verified, name: &visitor.name, conversations, limits };
    if socket.send(text(&welcome)).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::channel(SOCKET_QUEUE);
    let mut c = Connection {
        app: s.app.clone(),
        hub: s.chat_hub.clone(),
        visitor,
        joined: HashMap::new(),
        tx,
        overflowed: Arc::new(AtomicBool::new(false)),
        sends: Bucket::new(SEND_BURST, SENDS_PER_SECOND),
        frames: Bucket::new(FRAME_BURST, FRAMES_PER_SECOND),
    };
    let mut closing = s.closing.subscribe();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    // Only while a followed chat waits for an agent: idle sockets carry no second timer.
    let mut queue: Option<tokio::time::Interval> = None;
    let mut heard = Instant::now();
    loop {
        let out: Vec<Message> = tokio::select! {
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) => {
                    heard = Instant::now();
                    Box::pin(c.on_frame(t.as_str())).await
                }
                Some(Ok(Message::Binary(_))) => {
                    heard = Instant::now();
                    vec![text(&ServerFrame::Error(ErrorFrame::new("invalid_frame", "frames are JSON text")))]
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {
                    heard = Instant::now();
                    Vec::new()
                }
            },
            Some(e) = rx.recv() => Box::pin(c.on_event(&e)).await,
            _ = ping.tick() => {
                if heard.elapsed() > IDLE_LIMIT {
                    return close(socket, 1001, "idle").await;
                }
                vec![Message::Ping(Default::default())]
            }
            _ = async {
                match queue.as_mut() {
                    Some(q) => q.tick().await,
                    None => std::future::pending().await,
                }
            } => Box::pin(c.queue_updates()).await,
            // (The watch's guard must not live on: it is not Send.)
            () = async { let _ = closing.wait_for(|c| *c).await; } => return close(socket, 1012, "server restarting").await,
        };
        for m in out {
            if socket.send(m).await.is_err() {
                return;
            }
        }
        match (c.joined.values().any(|j| j.queue.is_some()), queue.is_some()) {
            (true, false) => {
                let start = tokio::time::Instant::now() + QUEUE_EVERY;
                queue = Some(tokio::time::interval_at(start, QUEUE_EVERY));
            }
            (false, true) => queue = None,
            _ => {}
        }
        if c.overflowed.swap(false, Ordering::Relaxed) {
            let ids: Vec<String> = c.joined.keys().cloned().collect();
            for id in ids {
                for m in Box::pin(c.catch_up(&id)).await {
                    if socket.send(m).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

impl Connection {
    async fn on_frame(&mut self, raw: &str) -> Vec<Message> {
        if let Err(wait) = self.frames.take() {
            return vec![rate_limited(None, wait)];
        }
        let frame = match serde_json::from_str::<ClientFrame>(raw) {
            Ok(f) => f,
            Err(e) => {
                return vec![text(&ServerFrame::Error(ErrorFrame::new("invalid_frame", format!("not a frame of this protocol: {e}"))))];
            }
        };
        match frame {
            ClientFrame::Hello(_) => vec![text(&ServerFrame::Error(ErrorFrame::new("invalid_frame", "hello was already said")))],
            ClientFrame::Ping => vec![text(&ServerFrame::Pong)],
            ClientFrame::Send { client_id, conversation_id, body, attachment_ids, prechat } => {
                if let Err(wait) = self.sends.take() {
                    return vec![rate_limited(Some(&client_id), wait)];
                }
                self.send(&client_id, conversation_id.as_deref(), &body, &attachment_ids, prechat.as_ref()).await
            }
            ClientFrame::Rate { conversation_id, score, comment } => {
                match self.app.chat_rate(&self.visitor, &conversation_id, score, comment.as_deref()).await {
                    Ok(r) => {
                        vec![text(&ServerFrame::Rated { conversation_id: &conversation_id, score: r.score, comment: r.comment.as_deref() })]
                    }
                    Err(e) => vec![text(&ServerFrame::Error(ErrorFrame::from_app(e, None)))],
                }
            }
            ClientFrame::Resume { conversation_id, after_seq } => self.resume(&conversation_id, after_seq).await,
            ClientFrame::Verify { conversation_id, check_id, code, identity } => {
                let answer = kefu_app::identity_check::CheckAnswer { code, identity };
                match self.app.chat_answer_check(&self.visitor, &conversation_id, &check_id, &answer).await {
                    // The chat as it now stands (the hub brings the same to the visitor's other tabs).
                    Ok(_) => match self.app.chat_conversation(&self.visitor, &conversation_id).await {
                        Ok(c) => vec![text(&ServerFrame::Conversation(&c))],
                        Err(e) => vec![text(&ServerFrame::Error(ErrorFrame::from_app(e, None)))],
                    },
                    Err(e) => vec![text(&ServerFrame::Error(ErrorFrame::from_app(e, None)))],
                }
            }
            ClientFrame::Typing { conversation_id, typing } => {
                let r = match self.joined.contains_key(&conversation_id) {
                    true => Some(self.app.chat_typing(&self.visitor, &conversation_id, typing).await),
                    false => None,
                };
                answer(&conversation_id, r)
            }
            ClientFrame::Read { conversation_id, seq } => {
                let r = match self.joined.contains_key(&conversation_id) {
                    true => Some(self.app.chat_read(&self.visitor, &conversation_id, seq).await),
                    false => None,
                };
                answer(&conversation_id, r)
            }
        }
    }

    async fn send(
        &mut self,
        client_id: &str,
        conversation_id: Option<&str>,
        body: &str,
        attachment_ids: &[String],
        prechat: Option<&PreChat>,
    ) -> Vec<Message> {
        let sent = match self.app.chat_send(&mut self.visitor, conversation_id, client_id, body, attachment_ids, prechat).await {
            Ok(s) => s,
            Err(e) => return vec![text(&ServerFrame::Error(ErrorFrame::from_app(e, Some(client_id))))],
        };
        let conv = &sent.conversation;
        let mut out = vec![text(&ServerFrame::Ack {
            client_id,
            conversation_id: &conv.id,
            message_id: &sent.message.id,
            seq: sent.message.seq,
            replayed: sent.replayed,
            body: sent.message.shield.as_ref().map(|_| sent.message.body.as_str()),
            shield: sent.message.shield.as_ref(),
        })];
        if !self.joined.contains_key(&conv.id) {
            // A new chat, a retried first message, or a chat not followed yet: follow it from
            // what the client now has. (A message to an existing chat may have reopened it.)
            let fresh = match conversation_id {
                Some(_) => self.app.chat_conversation(&self.visitor, &conv.id).await.ok(),
                None => None,
            };
            let described = fresh.as_ref().unwrap_or(conv);
            out.push(text(&ServerFrame::Conversation(described)));
            let queue = described.queue;
            out.extend(self.resume(&conv.id, sent.message.seq).await);
            if let Some(j) = self.joined.get_mut(&conv.id) {
                j.queue = queue;
            }
        } else if let Some(j) = self.joined.get_mut(&conv.id)
            && j.known + 1 == sent.message.seq
        {
            // The sender has it from the ack; its echo through the hub is skipped.
            j.known = sent.message.seq;
        }
        out
    }

    /// Follows a conversation and sends what the client missed after `after_seq`; live events
    /// that were already covered are skipped, so nothing comes twice or goes missing.
    async fn resume(&mut self, conversation_id: &str, after_seq: i64) -> Vec<Message> {
        if !self.joined.contains_key(conversation_id) {
            if self.joined.len() >= MAX_JOINED {
                return vec![text(&ServerFrame::Error(ErrorFrame::new(
                    "invalid_frame",
                    format!("follow at most {MAX_JOINED} chats at once"),
                )))];
            }
            let queue = match self.app.chat_conversation(&self.visitor, conversation_id).await {
                Ok(c) => c.queue,
                Err(e) => return vec![text(&ServerFrame::Error(ErrorFrame::from_app(e, None)))],
            };
            // Joined before reading, so that whatever is stored meanwhile arrives as an event.
            let sub = self.hub.join(&self.app, conversation_id, &self.tx, &self.overflowed);
            self.joined.insert(conversation_id.to_string(), Joined { known: after_seq.max(0), queue, _subscription: sub });
        } else if let Some(j) = self.joined.get_mut(conversation_id) {
            j.known = after_seq.max(0);
        }
        let mut out = self.catch_up(conversation_id).await;
        let last = self.joined.get(conversation_id).map_or(0, |j| j.known);
        out.push(text(&ServerFrame::Resumed { conversation_id, last_seq: last }));
        out
    }

    /// Sends every public message after what the client has, page by page, and records how far
    /// that brought it.
    async fn catch_up(&mut self, conversation_id: &str) -> Vec<Message> {
        let mut out = Vec::new();
        loop {
            let Some(known) = self.joined.get(conversation_id).map(|j| j.known) else { return out };
            let (conv, msgs) = match self.app.chat_messages_after(&self.visitor, conversation_id, known).await {
                Ok(r) => r,
                Err(e) => {
                    out.push(text(&ServerFrame::Error(ErrorFrame::from_app(e, None))));
                    return out;
                }
            };
            let full = msgs.len() as i64 >= kefu_app::chat::HISTORY_PAGE;
            let mut top = known;
            for m in &msgs {
                out.push(text(&ServerFrame::Message(m)));
                top = top.max(m.seq);
            }
            if !full {
                // Everything up to the conversation's last seq (notes included) is covered: it
                // was read before the messages, and any event's seq is at most it.
                top = top.max(conv.last_seq);
            }
            if let Some(j) = self.joined.get_mut(conversation_id) {
                j.known = j.known.max(top);
            }
            if !full {
                return out;
            }
        }
    }

    async fn on_event(&mut self, e: &HubEvent) -> Vec<Message> {
        match e {
            HubEvent::Message { conversation_id, seq, message_id, private } => {
                let Some(known) = self.joined.get(conversation_id).map(|j| j.known) else { return Vec::new() };
                if *seq <= known {
                    return Vec::new();
                }
                if *seq == known + 1 {
                    let message = match private {
                        true => None,
                        false => match self.app.chat_message_by_id(message_id).await {
                            Ok(m) => m,
                            // Not readable now: the next event or a resume brings it.
                            Err(_) => return Vec::new(),
                        },
                    };
                    if let Some(j) = self.joined.get_mut(conversation_id) {
                        j.known = *seq;
                    }
                    return message.iter().map(|m| text(&ServerFrame::Message(m))).collect();
                }
                // Something between was missed (events can arrive out of order): read it all.
                self.catch_up(conversation_id).await
            }
            HubEvent::Conversation(c) => {
                if let Some(j) = self.joined.get_mut(&c.id) {
                    j.queue = c.queue;
                }
                vec![text(&ServerFrame::Conversation(c))]
            }
            HubEvent::Typing { conversation_id, name, typing } => {
                vec![text(&ServerFrame::Typing { conversation_id, name, typing: *typing })]
            }
            HubEvent::Read { conversation_id, seq } => vec![text(&ServerFrame::Read { conversation_id, reader: "agent", seq: *seq })],
        }
    }
}

impl Connection {
    /// Tells the client of each waiting chat where it now stands, when that changed.
    async fn queue_updates(&mut self) -> Vec<Message> {
        let waiting: Vec<String> = self.joined.iter().filter(|(_, j)| j.queue.is_some()).map(|(id, _)| id.clone()).collect();
        let mut out = Vec::new();
        for id in waiting {
            let Ok(c) = self.app.chat_conversation(&self.visitor, &id).await else { continue };
            if let Some(j) = self.joined.get_mut(&id)
                && j.queue != c.queue
            {
                j.queue = c.queue;
                out.push(text(&ServerFrame::Conversation(&c)));
            }
        }
        out
    }
}

fn rate_limited(client_id: Option<&str>, wait: Duration) -> Message {
    let mut e = ErrorFrame::new("rate_limited", "too many frames: slow down and send this again later");
    e.client_id = client_id.map(str::to_string);
    e.retry_after_ms = Some(wait.as_millis().max(1) as u64);
    text(&ServerFrame::Error(e))
}

/// Nothing for a frame that worked, an error frame otherwise; `None`: the chat is not followed.
fn answer(conversation_id: &str, r: Option<Result<(), AppError>>) -> Vec<Message> {
    match r {
        Some(Ok(())) => Vec::new(),
        Some(Err(e)) => vec![text(&ServerFrame::Error(ErrorFrame::from_app(e, None)))],
        None => vec![text(&ServerFrame::Error(ErrorFrame::new("not_joined", format!("resume conversation {conversation_id} first"))))],
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReadBody {
    /// The highest message `seq` the agent has seen.
    pub seq: i64,
}

/// Mark a conversation read up to `seq`; a live-chat customer sees it as read.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "inbox", params(("id" = String, Path)), request_body = ReadBody,
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn agent_read(
    State(s): State<WebState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReadBody>,
) -> ApiResult<axum::http::StatusCode> {
    s.app.agent_read(&p, &id, b.seq).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
