//! Test harness: a fresh database per test on SQLite or PostgreSQL, the real server on a random
//! port, a controllable clock, and a typed HTTP client that behaves like the console.

use kefu_app::agents::NewAgentRequest;
use kefu_app::jobs::JobRegistry;
use kefu_app::{App, AppConfig};
use kefu_domain::{Clock, SystemClock};
use kefu_store::Store;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use reqwest::StatusCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on, if any.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("KEFU_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("KEFU_TEST_REQUIRE_POSTGRES").is_err(),
                "KEFU_TEST_REQUIRE_POSTGRES is set but KEFU_TEST_DATABASE_URL is not"
            );
            None
        }
    }
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub backend: Backend,
    pub data_dir: PathBuf,
    /// `None` for SQLite in `data_dir`.
    pub url: Option<String>,
    pg_name: Option<(String, String)>,
}

impl TestDb {
    /// `None` when the backend is PostgreSQL and no test server is configured.
    pub async fn new(backend: Backend) -> Option<Self> {
        let data_dir = std::env::temp_dir().join(format!("kefu-test-{}", ulid::Ulid::new().to_string().to_lowercase()));
        std::fs::create_dir_all(&data_dir).ok()?;
        match backend {
            Backend::Sqlite => Some(Self { backend, data_dir, url: None, pg_name: None }),
            Backend::Postgres => {
                let admin = postgres_admin_url()?;
                let name = format!("kefu_t_{}", ulid::Ulid::new().to_string().to_lowercase());
                let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin}: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("create database: {e}"));
                pool.close().await;
                let mut url = url::Url::parse(&admin).unwrap_or_else(|e| panic!("KEFU_TEST_DATABASE_URL: {e}"));
                url.set_path(&format!("/{name}"));
                Some(Self { backend, data_dir, url: Some(url.to_string()), pg_name: Some((admin, name)) })
            }
        }
    }

    pub async fn store(&self) -> Store {
        let store = Store::connect(self.url.as_deref(), &self.data_dir).await.unwrap_or_else(|e| panic!("connect: {e}"));
        store.migrate().await.unwrap_or_else(|e| panic!("migrate: {e}"));
        store
    }

    /// Runs raw SQL against this database, for tests that play the attacker (tampering).
    pub async fn execute(&self, sql: &str) {
        let store = self.store().await;
        match &store {
            Store::Sqlite(_) => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", self.data_dir.join("kefu.db").display()))
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
            }
            Store::Postgres(pg) => {
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(pg).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
        store.close().await;
    }

    /// Flags that point the `kefu` binary at this database.
    pub fn cli_args(&self) -> Vec<String> {
        let mut v = vec!["--data-dir".to_string(), self.data_dir.display().to_string()];
        if let Some(u) = &self.url {
            v.push("--database-url".into());
            v.push(u.clone());
        }
        v
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((admin, name)) = self.pg_name.take() {
            // Drop runs outside any runtime we may block; use a thread with its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                        let _ =
                            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&pool).await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A clock tests move by hand.
pub struct FakeClock(Mutex<chrono::DateTime<chrono::Utc>>);

impl FakeClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(SystemClock.now())))
    }

    pub fn now_micros(&self) -> i64 {
        self.now().timestamp_micros()
    }

    pub fn advance(&self, d: std::time::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += chrono::Duration::from_std(d).unwrap_or_default();
        }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.lock().map(|t| *t).unwrap_or_else(|_| SystemClock.now())
    }
}

/// Builds an `App` over `store` the way the binary does.
pub fn build_app(store: Store, config: AppConfig, clock: Arc<dyn Clock>, jobs: JobRegistry) -> App {
    App::new(store, Arc::new(kefu_bus::LocalBus::default()), clock, config, jobs).unwrap_or_else(|e| panic!("app: {e}"))
}

pub struct TestApp {
    pub db: TestDb,
    pub app: App,
    pub addr: SocketAddr,
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    services: Option<kefu_app::service::Services>,
}

#[derive(Default)]
pub struct Options {
    pub app: AppConfig,
    pub web: kefu_web::WebConfig,
}

/// The real router on 127.0.0.1:0 over a fresh database; `None` when `backend` is unavailable.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, opts: Options) -> Option<TestApp> {
    let db = TestDb::new(backend).await?;
    let store = db.store().await;
    let mut config = opts.app;
    config.data_dir = db.data_dir.clone();
    let app = build_app(store, config, Arc::new(SystemClock), JobRegistry::standard());
    let mut services = kefu_app::service::Services::new();
    services.start_core(&app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = app.clone();
    let server = tokio::spawn(async move {
        let _ = kefu_web::serve(listener, served, opts.web, async move {
            let _ = rx.await;
        })
        .await;
    });
    Some(TestApp { db, app, addr, base: format!("http://{addr}"), stop: Some(tx), server: Some(server), services: Some(services) })
}

impl TestApp {
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// An agent created straight through the app, as the CLI would.
    pub async fn create_agent(&self, email: &str, role: &str, password: &str) -> Value {
        let a = self
            .app
            .create_agent_as_operator(NewAgentRequest {
                email: email.into(),
                name: format!("Test {role}"),
                role: role.into(),
                password: password.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("create agent: {e}"));
        serde_json::to_value(a).unwrap_or_default()
    }

    /// A signed-in client for a new agent of `role` (2FA policy permitting).
    pub async fn signed_in(&self, role: &str) -> (Client, Value) {
        let email = format!("{role}-{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
        let agent = self.create_agent(&email, role, PASSWORD).await;
        let c = self.client();
        let (status, body) = c.login(&email, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "login: {body}");
        (c, agent)
    }

    /// Turns off the default "two-factor required for admins" so plain admin sessions work.
    pub async fn relax_two_factor(&self) {
        self.app
            .store()
            .put_setting("security", r#"{"two_factor_required":{"admin":false,"supervisor":false,"agent":false}}"#, 0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        self.app.forget_cached_settings();
    }

    pub async fn shutdown(self) {
        drop(self.stop().await);
    }

    /// Stops the server and the services and closes the store, handing back the database and
    /// data directory for inspection (dropping it removes them).
    pub async fn stop(mut self) -> TestDb {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
        if let Some(s) = self.services.take() {
            s.stop().await;
        }
        self.app.store().close().await;
        self.db
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// An HTTP client with a cookie jar that sends the CSRF token like the console does.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    csrf: Arc<Mutex<Option<String>>>,
    bearer: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Client {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        Self { http, base: base.to_string(), csrf: Arc::new(Mutex::new(None)), bearer: None }
    }

    /// A client that authenticates with an API token and no cookies.
    pub fn with_token(base: &str, token: &str) -> Self {
        let mut c = Self::new(base);
        c.bearer = Some(token.to_string());
        c
    }

    fn remember(&self, body: &Value) {
        let token = body.pointer("/session/csrf_token").or_else(|| body.get("csrf_token")).and_then(Value::as_str);
        if let (Some(t), Ok(mut g)) = (token, self.csrf.lock()) {
            *g = Some(t.to_string());
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        let r = self.send(reqwest::Method::POST, "/api/v1/auth/login", Some(json!({"email": email, "password": password})), &[]).await;
        (r.status, r.body)
    }

    pub async fn login_totp(&self, challenge: &str, code: &str) -> (StatusCode, Value) {
        let r = self.send(reqwest::Method::POST, "/api/v1/auth/login/totp", Some(json!({"challenge": challenge, "code": code})), &[]).await;
        (r.status, r.body)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None, &[]).await
    }

    /// Any request; JSON body when given, extra headers as listed. Adds the CSRF token on writes.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        if method != reqwest::Method::GET
            && let Ok(g) = self.csrf.lock()
            && let Some(t) = g.as_ref()
        {
            req = req.header("x-csrf-token", t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        Reply::read(res, self).await
    }

    /// A multipart/form-data POST: text fields, then files as (field, file name, bytes).
    pub async fn multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: Vec<(&str, &str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (field, name, bytes) in files {
            form = form.part(field.to_string(), reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
        }
        let mut req = self.http.post(format!("{}{path}", self.base)).multipart(form);
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        if let Ok(g) = self.csrf.lock()
            && let Some(t) = g.as_ref()
        {
            req = req.header("x-csrf-token", t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        Reply::read(res, self).await
    }

    /// Sends exactly these bytes with this content type (for malformed-input tests).
    pub async fn raw(&self, method: reqwest::Method, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Ok(g) = self.csrf.lock()
            && let Some(t) = g.as_ref()
        {
            req = req.header("x-csrf-token", t);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        Reply::read(res, self).await
    }
}

impl Reply {
    async fn read(res: reqwest::Response, client: &Client) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            client.remember(&body);
        }
        Reply { status, headers, body, text }
    }

    pub fn code(&self) -> &str {
        self.body.get("code").and_then(Value::as_str).unwrap_or("")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "expected {status} {code}, got {}", self.text);
        assert_eq!(self.code(), code, "wrong code in {}", self.text);
        assert!(self.header("content-type").starts_with("application/problem+json"), "not problem+json: {:?}", self.headers);
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(status)));
    }
}

/// The current TOTP code for a base32 secret.
pub fn totp_now(secret: &str) -> String {
    totp_at(secret, 0)
}

/// The TOTP code `steps` 30-second steps from now.
pub fn totp_at(secret: &str, steps: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_string()).to_bytes().unwrap_or_else(|e| panic!("{e:?}"));
    let t = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, "t".into()).unwrap_or_else(|e| panic!("{e}"));
    let now = chrono::Utc::now().timestamp() + steps * 30;
    t.generate(u64::try_from(now).unwrap_or(0))
}
