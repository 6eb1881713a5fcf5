//! The `kefu` binary itself: help, configuration, agent administration, audit verification,
//! the first-run bootstrap, demo mode and graceful shutdown.

use kefu_testkit::{Backend, Client, PASSWORD, StatusCode, TestDb};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

both_backends!(
    admin_commands_manage_agents,
    audit_verify_reports_tampering,
    serve_bootstraps_and_shuts_down_gracefully,
    demo_never_touches_real_data
);

fn kefu() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kefu"));
    // Each test is explicit about its configuration.
    for (k, _) in std::env::vars() {
        if k.starts_with("KEFU_") {
            c.env_remove(k);
        }
    }
    c.env("KEFU_LOG", "warn");
    c
}

fn run(args: &[String], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = kefu().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn args(db: &TestDb, rest: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
    v.extend(db.cli_args());
    v
}

/// A running `kefu serve`, with the base URL it printed and everything it printed before.
struct Server {
    child: Child,
    base: String,
    stdout: String,
}

/// A failed test must not leave a server running.
impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[allow(clippy::zombie_processes)] // the panic path ends the test; `Server` reaps on drop
fn serve(db: &TestDb, extra: &[&str]) -> Server {
    let mut a = args(db, &["serve", "--listen", "127.0.0.1:0"]);
    a.extend(extra.iter().map(|s| s.to_string()));
    let mut child = kefu().args(&a).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut stdout = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || Instant::now() > deadline {
            panic!("server ended before listening: {stdout}");
        }
        stdout.push_str(&line);
        if let Some(rest) = line.strip_prefix("kefu listening on ") {
            let base = rest.split_whitespace().next().unwrap().to_string();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut sink = String::new();
                let _ = reader.read_to_string(&mut sink);
            });
            return Server { child, base, stdout };
        }
    }
}

fn sigterm(child: &Child) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
}

fn wait_exit(child: &mut Child, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kefu did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn help_describes_every_command() {
    let (code, out, _) = run(&["--help".into()], None);
    assert_eq!(code, 0);
    for word in ["serve", "migrate", "admin", "audit", "config", "--data-dir", "--database-url", "KEFU_DATA_DIR", "KEFU_DATABASE_URL"] {
        assert!(out.contains(word), "{word} missing from --help:\n{out}");
    }
    let (_, serve_help, _) = run(&["serve".into(), "--help".into()], None);
    assert!(serve_help.contains("--listen") && serve_help.contains("KEFU_LISTEN") && serve_help.contains("--demo"), "{serve_help}");
    let (_, admin_help, _) = run(&["admin".into(), "--help".into()], None);
    assert!(admin_help.contains("create-agent") && admin_help.contains("reset-2fa"), "{admin_help}");
    let (_, create_help, _) = run(&["admin".into(), "create-agent".into(), "--help".into()], None);
    assert!(create_help.contains("--password-stdin") && create_help.contains("supervisor"), "{create_help}");
    let (code, _, err) = run(&["frobnicate".into()], None);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn config_check_layers_and_masks() {
    let dir = std::env::temp_dir().join(format!("kefu-cfg-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kefu.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nlockout_after = 7\ndatabase_url = \"postgres://kefu:hunter2@db.internal/kefu\"\n")
        .unwrap();
    let cfg = file.display().to_string();
    // The file sets values…
    let out = kefu().args(["config", "check", "--config", &cfg]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("listen = \"127.0.0.1:9000\"") && text.contains("lockout_after = \"7\""), "{text}");
    assert!(!text.contains("hunter2") && text.contains("********"), "secret shown: {text}");
    // …the environment overrides the file, and flags override the environment.
    let out = kefu()
        .args(["config", "check", "--config", &cfg, "--lockout-after", "9"])
        .env("KEFU_LOCKOUT_AFTER", "8")
        .env("KEFU_DATA_DIR", "/srv/kefu")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("lockout_after = \"9\"") && text.contains("data_dir = \"/srv/kefu\""), "{text}");
    let out = kefu().args(["config", "check", "--config", &cfg]).env("KEFU_LOCKOUT_AFTER", "8").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("lockout_after = \"8\""));
    // Invalid values fail with a clear message.
    for (k, v, needle) in [
        ("KEFU_LOCKOUT_AFTER", "0", "lockout_after"),
        ("KEFU_PUBLIC_URL", "ftp://x", "public_url"),
        ("KEFU_DATABASE_URL", "mysql://x", "database_url"),
    ] {
        let out = kefu().args(["config", "check", "--config", &cfg]).env(k, v).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{k}={v}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = kefu().args(["config", "check", "--config", &cfg, "--lockout-after", "many"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(&file, "lisen = \"typo\"\n").unwrap();
    let out = kefu().args(["config", "check", "--config", &cfg]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lisen"));
    let _ = std::fs::remove_dir_all(dir);
}

async fn admin_commands_manage_agents(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    let (code, out, err) = run(&args(&db, &["migrate"]), None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("up to date"));
    let create =
        args(&db, &["admin", "create-agent", "--email", "Root@Example.com", "--name", "Root", "--role", "admin", "--password-stdin"]);
    let (code, out, err) = run(&create, Some(&format!("{PASSWORD}\n")));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("root@example.com"));
    let (code, _, err) = run(&create, Some(&format!("{PASSWORD}\n")));
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    let weak = args(&db, &["admin", "create-agent", "--email", "w@example.com", "--name", "W", "--role", "agent", "--password-stdin"]);
    let (code, _, err) = run(&weak, Some("short\n"));
    assert_eq!(code, 2);
    assert!(err.contains("password"), "{err}");
    let (code, _, err) = run(&args(&db, &["admin", "reset-2fa", "nobody@example.com"]), None);
    assert_eq!(code, 2, "{err}");

    // The created admin can sign in to a server over the same database.
    let mut server = serve(&db, &[]);
    assert!(!server.stdout.contains("No admin exists"), "{}", server.stdout);
    let c = Client::new(&server.base);
    let (s, b) = c.login("root@example.com", PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // Admins must enrol in two-factor by default.
    assert_eq!(b["session"]["two_factor_enrolment_required"], true);
    let e = c.post("/api/v1/me/2fa/enrol", serde_json::json!({})).await;
    let secret = e.body["secret"].as_str().unwrap().to_string();
    assert_eq!(c.post("/api/v1/me/2fa/confirm", serde_json::json!({"code": kefu_testkit::totp_now(&secret)})).await.status, StatusCode::OK);
    let (code, out, err) = run(&args(&db, &["admin", "reset-2fa", "root@example.com"]), None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("root@example.com"));
    // Reset signs them out; the password alone works again.
    c.get("/api/v1/auth/session").await.assert_problem(401, "unauthenticated");
    let (_, b) = Client::new(&server.base).login("root@example.com", PASSWORD).await;
    assert_eq!(b["status"], "ok");
    sigterm(&server.child);
    assert_eq!(wait_exit(&mut server.child, Duration::from_secs(15)), 0);
}

async fn audit_verify_reports_tampering(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    for i in 0..3 {
        let (code, _, err) = run(
            &args(
                &db,
                &["admin", "create-agent", "--email", &format!("a{i}@example.com"), "--name", "A", "--role", "agent", "--password-stdin"],
            ),
            Some(PASSWORD),
        );
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, _) = run(&args(&db, &["audit", "verify"]), None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 3 records"), "{out}");
    db.execute("UPDATE audit_log SET actor_label = 'nobody' WHERE seq = 2").await;
    let (code, out, _) = run(&args(&db, &["audit", "verify"]), None);
    assert_eq!(code, 1);
    assert!(out.contains("record 2"), "{out}");
    let (code, out, _) = run(&args(&db, &["audit", "verify", "--json"]), None);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["first_bad"]["seq"], 2);
    // Cutting off the newest record is detected too.
    db.execute("UPDATE audit_log SET actor_label = 'kefu command line' WHERE seq = 2").await;
    assert_eq!(run(&args(&db, &["audit", "verify"]), None).0, 0);
    db.execute("DELETE FROM audit_log WHERE seq = 3").await;
    let (code, out, _) = run(&args(&db, &["audit", "verify"]), None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("record 3"), "{out}");
}

async fn serve_bootstraps_and_shuts_down_gracefully(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    // With an outbound mail server configured (its connection pool is made inside the runtime).
    let mut server = serve(&db, &["--smtp-url", "smtp://127.0.0.1:2525", "--smtp-from", "Support <support@example.com>"]);
    assert!(server.stdout.contains("No admin exists yet") && server.stdout.contains("kefu admin create-agent"), "{}", server.stdout);
    let addr = server.base.trim_start_matches("http://").to_string();
    // An upload in flight when SIGTERM arrives still gets its answer.
    let body = r#"{"email":"slow@example.com","password":"not the password"}"#;
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    write!(slow, "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
    slow.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&server.child);
    std::thread::sleep(Duration::from_millis(300));
    // Shutting down: new connections are refused.
    assert!(std::net::TcpStream::connect(&addr).is_err(), "still accepting after SIGTERM");
    slow.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "in-flight request lost: {answer:?}");
    assert!(answer.contains("invalid_credentials"));
    assert_eq!(wait_exit(&mut server.child, Duration::from_secs(15)), 0);
}

async fn demo_never_touches_real_data(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    let mut demo = serve(&db, &["--demo"]);
    for line in [
        "admin       admin@nebula-ex.com",
        "supervisor  supervisor@nebula-ex.com",
        "agent       agent@nebula-ex.com",
        "kefu-demo-pass",
        "not enforced",
    ] {
        assert!(demo.stdout.contains(line), "{line} missing:\n{}", demo.stdout);
    }
    let c = Client::new(&demo.base);
    let (s, b) = c.login("admin@nebula-ex.com", "kefu-demo-pass").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["session"]["two_factor_enrolment_required"], false);
    assert_eq!(c.get("/api/v1/agents").await.body["items"].as_array().unwrap().len(), 3);
    sigterm(&demo.child);
    assert_eq!(wait_exit(&mut demo.child, Duration::from_secs(15)), 0);
    // Restarting the demo is fine and adds nothing twice.
    let mut again = serve(&db, &["--demo"]);
    let c = Client::new(&again.base);
    c.login("admin@nebula-ex.com", "kefu-demo-pass").await;
    assert_eq!(c.get("/api/v1/agents").await.body["items"].as_array().unwrap().len(), 3);
    sigterm(&again.child);
    assert_eq!(wait_exit(&mut again.child, Duration::from_secs(15)), 0);

    // A database with real agents is refused.
    let Some(real) = TestDb::new(backend).await else { return };
    let (code, _, _) = run(
        &args(&real, &["admin", "create-agent", "--email", "real@example.com", "--name", "R", "--role", "admin", "--password-stdin"]),
        Some(PASSWORD),
    );
    assert_eq!(code, 0);
    let out = kefu().args(args(&real, &["serve", "--listen", "127.0.0.1:0", "--demo"])).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("real data"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(kefu_app::AppError::RealDataPresent.code(), "real_data_present");
    let (code, out, _) = run(&args(&real, &["audit", "verify"]), None);
    assert_eq!((code, out.contains("intact: 1 records")), (0, true), "{out}");
}

#[test]
fn logs_can_be_json() {
    let dir = std::env::temp_dir().join(format!("kefu-log-{}", ulid::Ulid::new()));
    let out = kefu().args(["migrate", "--log-format", "json", "--log", "info", "--data-dir", &dir.display().to_string()]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.contains("migrations applied")).unwrap_or_else(|| panic!("no log line in {stderr}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["fields"]["backend"], "sqlite");
    assert!(v["timestamp"].is_string());
    let _ = std::fs::remove_dir_all(dir);
}

/// `kefu shield scan` and `kefu verify` work offline, from kefu.toml's `[shield]` and
/// `KEFU_OFFICIAL_DOMAINS`, without creating a data directory.
#[test]
fn shield_scan_and_verify_work_offline() {
    let dir = std::env::temp_dir().join(format!("kefu-shield-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("kefu.toml");
    std::fs::write(
        &toml,
        "[shield]\nofficial_domains = [\"nebula.example\"]\nofficial_telegram = [\"@NebulaExchange\"]\n\n[[shield.secret_patterns]]\nname = \"api\"\npattern = \"nbx_sk_[A-Za-z0-9]{8}\"\n",
    )
    .unwrap();
    let data = dir.join("data").display().to_string();
    let base = ["--config".to_string(), toml.display().to_string(), "--data-dir".into(), data.clone()];
    let text = "my words: boost catalog maple thumb smart post hidden virus liberty thumb title trash, key nbx_sk_abcd1234, site https://nebu1a.example/x";
    let mut a = vec!["shield".to_string(), "scan".into()];
    a.extend(base.iter().cloned());
    let (code, out, err) = run(&a, Some(text));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["redacted"], "my words: [REDACTED: seed phrase], key [REDACTED: API secret], site https://nebu1a.example/x");
    assert_eq!(v["findings"][0], serde_json::json!({"kind": "seed_phrase", "start": 10, "end": 85, "wordlist": "english"}));
    assert_eq!(&text[10..85], "boost catalog maple thumb smart post hidden virus liberty thumb title trash");
    assert_eq!(v["links"][0]["verdict"], "lookalike");
    assert_eq!(v["links"][0]["lookalike_of"], "nebula.example");

    let mut a = vec!["verify".to_string(), "@Nebula_Exchange".into(), "--json".into()];
    a.extend(base.iter().cloned());
    let (code, out, _) = run(&a, None);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"query": "@Nebula_Exchange", "kind": "telegram", "verdict": "lookalike", "lookalike_of": "@NebulaExchange", "reason": "typo"})
    );
    // The environment overrides the file's domains.
    let env_verdict = |q: &str| {
        let out = kefu().args(["verify", q, "--json"]).args(&base).env("KEFU_OFFICIAL_DOMAINS", "nebula-ex.com, nbx.io").output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["verdict"].as_str().unwrap().to_string()
    };
    assert_eq!(env_verdict("https://nebula-ex.com/login"), "official");
    assert_eq!(env_verdict("nbx.io"), "official");
    assert_eq!(env_verdict("https://nebula.example"), "unknown");
    let (code, out, _) = run(
        &["verify".into(), "nebula.example".into(), "--config".into(), toml.display().to_string(), "--data-dir".into(), data.clone()],
        None,
    );
    assert_eq!((code, out.trim()), (0, "official: domain nebula.example"));
    let (code, _, err) = run(&["verify".into(), "what is this".into(), "--data-dir".into(), data.clone()], None);
    assert_eq!(code, 2);
    assert!(err.contains("not a link"), "{err}");
    let out = kefu().args(["verify", "x.io", "--data-dir", &data]).env("KEFU_OFFICIAL_DOMAINS", "not a domain").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEFU_OFFICIAL_DOMAINS"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.join("data").exists(), "offline commands create no data directory");
    let _ = std::fs::remove_dir_all(&dir);
}
