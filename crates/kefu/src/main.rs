//! `kefu`: the one binary. Parses the command line, loads configuration, picks the storage
//! backend, and wires the crates together.

mod config;

use clap::{Parser, Subcommand};
use config::{Config, ConfigArgs, LogFormat};
use kefu_app::agents::NewAgentRequest;
use kefu_app::demo::{DEMO_AGENTS, DEMO_PASSWORD, DemoOutcome};
use kefu_app::jobs::{JobRegistry, JobWorker};
use kefu_app::service::Services;
use kefu_app::{App, AppError};
use kefu_domain::SystemClock;
use kefu_store::Store;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

/// Search, snippets and JSON make many short-lived allocations per request; mimalloc serves them
/// with less time in the allocator than the system's (see BENCHMARKS.md, help-center search).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Kefu (客服): customer support for cryptocurrency exchanges, in one binary.
#[derive(Parser)]
#[command(name = "kefu", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: API, agent console and background workers
    Serve {
        /// Address to listen on [env: KEFU_LISTEN] [default: 127.0.0.1:8080]
        #[arg(long, env = "KEFU_LISTEN", value_name = "ADDR")]
        listen: Option<String>,
        /// Seed demo data (agents with printed passwords) into a new or demo data directory;
        /// two-factor is not enforced in demo mode
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit (serve also applies them at start)
    Migrate,
    /// Administer agents from the server's shell
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Inspect the audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Inspect the configuration
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The help center's knowledge base: import, export, search, reindex
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
    /// The support bot: train, classify a message, evaluate on a labelled file
    Bot {
        #[command(subcommand)]
        command: BotCommand,
    },
    /// The master keys that seal attachments at rest
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The security shield: find secrets and judge links in a text
    Shield {
        #[command(subcommand)]
        command: ShieldCommand,
    },
    /// Is this link, e-mail address, Telegram account (@name), phone number or agent id official?
    Verify {
        query: String,
        /// Print JSON: {"query", "kind", "verdict", "lookalike_of", "reason"}
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ShieldCommand {
    /// Read text from standard input and print JSON: the text with its secrets redacted, each
    /// secret found (kind, byte offsets into the input) and each link with its verdict
    Scan,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new random master key (base64), for KEFU_MASTER_KEY
    Generate,
    /// Re-seal every attachment under a new master key. With the key file (the default): a new
    /// key is made, everything re-sealed, the old key dropped. With KEFU_MASTER_KEY: give the
    /// new key first and the old ones after it (NEW,OLD); then keep only NEW. Stop Kefu first
    Rotate,
}

#[derive(Subcommand)]
enum BotCommand {
    /// Train on the shipped set and the examples admins added; running servers retrain within seconds
    Train,
    /// Print the intent, calibrated confidence and language of a message
    Classify {
        text: String,
        /// Print JSON: {"intent", "confidence", "language"}
        #[arg(long)]
        json: bool,
    },
    /// Accuracy, per-intent precision, recall and F1 and the commonest confusions on a CSV file
    /// with the columns text,intent,lang
    Eval {
        file: std::path::PathBuf,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KbCommand {
    /// Import Markdown files with YAML front matter (a folder, searched recursively, or one file);
    /// a `categories.yaml` in the folder defines categories; existing slugs are updated
    Import { path: std::path::PathBuf },
    /// Write every article (and `categories.yaml`) to a folder, in the format import reads
    Export { path: std::path::PathBuf },
    /// Rebuild the search index (running servers rebuild theirs within a second)
    Reindex,
    /// Search published articles and print the ranked results
    Search {
        query: String,
        /// Preferred language: zh-CN, zh-TW or en
        #[arg(long)]
        locale: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print JSON (slug, title, locale, score, snippet per result)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an agent; the password is read from standard input
    CreateAgent {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "supervisor", "agent"])]
        role: String,
        /// Read the password from the first line of standard input (required)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Remove an agent's two-factor authentication (lost phone) and sign them out everywhere
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The agent's e-mail address
        email: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exits 1 and names the first bad record if any was edited or removed
    Verify {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (secrets masked); exits 2 on invalid values
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen, .. } => listen.clone(),
        _ => None,
    };
    let config = match Config::load(&cli.config, listen.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kefu: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kefu: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kefu: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if config.database_url().is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", config.data_dir.display()))?;
    }
    let store = Store::connect(config.database_url(), &config.data_dir).await?;
    let applied = store.migrate().await?;
    if applied > 0 {
        tracing::info!(applied, backend = store.backend(), "migrations applied");
    }
    Ok(store)
}

/// The shield as the server would run it, without one: the settings an admin saved when there
/// is a database already, else the configuration (`[shield]`, `KEFU_OFFICIAL_DOMAINS`).
async fn offline_shield(config: &Config) -> anyhow::Result<Arc<kefu_shield::Shield>> {
    if config.database_url().is_some() || config.data_dir.join("kefu.db").exists() {
        let store = open_store(config).await?;
        let app = build_app(store.clone(), config.app_config(false))?;
        let shield = app.shield().await;
        store.close().await;
        return Ok(shield?);
    }
    let mut settings = config.shield.settings.clone();
    settings.official_domains = config.official_domains();
    let shield = settings
        .compile()
        .map_err(|e| anyhow::anyhow!("{}", e.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")))?;
    Ok(Arc::new(shield))
}

/// Re-seals every attachment and contact identity, and the identity index key, under the
/// keyring's first key; prints what was done.
async fn reseal_everything(config: &Config, ring: &Arc<kefu_blob::Keyring>) -> anyhow::Result<()> {
    let (files, files_current) = kefu_blob::FsBlobStore::sealed(config.data_dir.join("blobs"), ring.clone()).reseal_all()?;
    let store = open_store(config).await?;
    let now = kefu_store::micros(kefu_domain::Clock::now(&SystemClock));
    let sealed = async {
        let vault = kefu_app::pii::PiiVault::open_or_create(&store, ring.clone(), now).await?;
        vault.reseal_all(&store, true, now).await
    }
    .await;
    store.close().await;
    let (ids, ids_current) = sealed.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "re-sealed {files} files ({files_current} already were) and {ids} contact identities ({ids_current} already were) under key {}",
        ring.current_id()
    );
    Ok(())
}

/// `kefu keys rotate`: every attachment and contact identity re-sealed under the new key. Run
/// it with the server stopped: a server still running would go on sealing under the old key.
async fn rotate_keys(config: &Config) -> anyhow::Result<ExitCode> {
    if let Some(ring) = &config.keyring {
        if ring.len() < 2 {
            anyhow::bail!(
                "KEFU_MASTER_KEY holds one key: give the new key first and the old ones after it (NEW,OLD), run this, then keep only NEW"
            );
        }
        reseal_everything(config, ring).await?;
        println!("now set KEFU_MASTER_KEY to the new key alone");
        return Ok(ExitCode::SUCCESS);
    }
    let path = kefu_app::key_file(&config.data_dir);
    let old = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let old_keys: Vec<&str> = old.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let new = kefu_blob::Keyring::generate_key();
    // The new key first, the old ones kept until every file is re-sealed: a crash in between
    // leaves a file that still opens everything.
    let both: Vec<&str> = std::iter::once(new.as_str()).chain(old_keys.iter().copied()).collect();
    kefu_blob::write_key_file(&path, &both).map_err(anyhow::Error::msg)?;
    let ring = Arc::new(kefu_blob::Keyring::parse(&both.join("\n")).map_err(anyhow::Error::msg)?);
    reseal_everything(config, &ring).await?;
    kefu_blob::write_key_file(&path, &[new.as_str()]).map_err(anyhow::Error::msg)?;
    println!("{} holds only the new key now", path.display());
    Ok(ExitCode::SUCCESS)
}

fn build_app(store: Store, config: kefu_app::AppConfig) -> anyhow::Result<App> {
    let bus = Arc::new(kefu_bus::LocalBus::default());
    Ok(App::new(store, bus, Arc::new(SystemClock), config, JobRegistry::standard())?)
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { demo, .. } => serve(config, demo).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            println!("database is up to date ({})", store.backend());
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin { command } => {
            let store = open_store(&config).await?;
            let app = build_app(store.clone(), config.app_config(false))?;
            let code = admin(&app, command).await;
            store.close().await;
            code
        }
        Command::Audit { command: AuditCommand::Verify { json } } => {
            let store = open_store(&config).await?;
            let app = build_app(store.clone(), config.app_config(false))?;
            let verdict = app.verify_audit().await?;
            store.close().await;
            if json {
                println!("{}", serde_json::to_string(&verdict)?);
            } else if let Some(bad) = &verdict.first_bad {
                println!("audit log BROKEN at record {}: {} ({} records before it are intact)", bad.seq, bad.reason, verdict.checked);
            } else {
                println!("audit log intact: {} records verified", verdict.checked);
            }
            Ok(if verdict.first_bad.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Command::Kb { command } => {
            let store = open_store(&config).await?;
            let app = build_app(store.clone(), config.app_config(false))?;
            let code = kb(&app, command).await;
            store.close().await;
            code
        }
        Command::Bot { command } => {
            let store = open_store(&config).await?;
            let app = build_app(store.clone(), config.app_config(false))?;
            let code = bot(&app, command).await;
            store.close().await;
            code
        }
        Command::Shield { command: ShieldCommand::Scan } => {
            let mut text = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text) {
                eprintln!("kefu: standard input is not UTF-8 text: {e}");
                return Ok(ExitCode::from(2));
            }
            let shield = offline_shield(&config).await?;
            println!("{}", serde_json::to_string(&shield.scan(&text))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys { command: KeysCommand::Generate } => {
            println!("{}", kefu_blob::Keyring::generate_key());
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys { command: KeysCommand::Rotate } => rotate_keys(&config).await,
        Command::Verify { query, json } => {
            let shield = offline_shield(&config).await?;
            match shield.verify(&query) {
                Ok(v) if json => println!("{}", serde_json::to_string(&v)?),
                Ok(v) => {
                    let kind = serde_json::to_value(v.kind)?.as_str().unwrap_or_default().replace('_', " ");
                    match (&v.lookalike_of, v.reason) {
                        (Some(of), Some(r)) => {
                            println!(
                                "{}: {kind} {} imitates {of} ({})",
                                v.verdict.as_str(),
                                v.query,
                                serde_json::to_value(r)?.as_str().unwrap_or_default()
                            )
                        }
                        _ => println!("{}: {kind} {}", v.verdict.as_str(), v.query),
                    }
                }
                Err(e) => {
                    eprintln!("kefu: {e}");
                    return Ok(ExitCode::from(2));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { command: ConfigCommand::Check } => {
            print!("{}", config.render_masked());
            println!("# configuration is valid");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn admin(app: &App, command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::CreateAgent { email, name, role, password_stdin: _ } => {
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            match app.create_agent_as_operator(NewAgentRequest { email, name, role, password }).await {
                Ok(a) => {
                    println!("created {} {} <{}> ({})", a.role, a.name.as_str(), a.email.as_str(), a.id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(user_error(e)),
            }
        }
        AdminCommand::Reset2fa { email } => match app.reset_2fa_as_operator(&email).await {
            Ok(a) => {
                println!("two-factor removed for {}; they will set it up again at next sign-in", a.email.as_str());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(user_error(e)),
        },
    }
}

/// Reads a folder of article files (recursively) or one file into an import bundle.
fn read_kb_files(path: &std::path::Path) -> anyhow::Result<kefu_app::kb::files::Bundle> {
    use kefu_app::kb::files;
    let mut bundle = files::Bundle::default();
    let mut errors = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    let single = path.is_file();
    while let Some(p) = pending.pop() {
        if p.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(&p)?.filter_map(Result::ok).map(|e| e.path()).collect();
            entries.sort();
            pending.extend(entries.into_iter().rev());
            continue;
        }
        let name = p.strip_prefix(path).ok().filter(|n| !n.as_os_str().is_empty()).unwrap_or(&p).display().to_string();
        let file_name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if !single && file_name == "categories.yaml" {
            bundle.categories = Some(files::parse_categories(&std::fs::read_to_string(&p)?).map_err(|e| anyhow::anyhow!("{name}: {e}"))?);
        } else if single || file_name.ends_with(".md") {
            match files::parse_article(&std::fs::read_to_string(&p)?) {
                Ok(a) => bundle.articles.push((name, a)),
                Err(e) => errors.push(format!("{name}: {e}")),
            }
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    Ok(bundle)
}

async fn kb(app: &App, command: KbCommand) -> anyhow::Result<ExitCode> {
    match command {
        KbCommand::Import { path } => {
            let bundle = match read_kb_files(&path) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("kefu: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            match app.kb_import(None, bundle).await {
                Ok(r) => {
                    println!(
                        "imported: {} created, {} updated, {} unchanged; {} categories",
                        r.created, r.updated, r.unchanged, r.categories
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(user_error(e)),
            }
        }
        KbCommand::Export { path } => {
            let bundle = app.kb_export().await?;
            std::fs::create_dir_all(&path)?;
            if let Some(c) = &bundle.categories {
                std::fs::write(path.join("categories.yaml"), kefu_app::kb::files::write_categories(c).map_err(anyhow::Error::msg)?)?;
            }
            for (name, file) in &bundle.articles {
                std::fs::write(path.join(name), kefu_app::kb::files::write_article(file).map_err(anyhow::Error::msg)?)?;
            }
            println!("exported {} articles to {}", bundle.articles.len(), path.display());
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Reindex => {
            app.request_kb_rebuild().await?;
            let started = std::time::Instant::now();
            let n = app.kb_sync().await?;
            println!(
                "search index rebuilt: {n} articles in {} ms; running servers rebuild theirs within a second",
                started.elapsed().as_millis()
            );
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Search { query, locale, limit, json } => {
            let req = kefu_app::kb::KbSearchRequest {
                q: query,
                locale,
                limit,
                source: kefu_app::kb::SearchSource::Api,
                track: false,
                include_drafts: false,
                kind: None,
            };
            let found = match app.kb_search(None, req).await {
                Ok(f) => f,
                Err(e) => return Ok(user_error(e)),
            };
            if json {
                let hits: Vec<serde_json::Value> = found
                    .hits
                    .iter()
                    .map(|h| serde_json::json!({ "slug": h.slug, "title": h.title, "locale": h.locale, "score": h.score, "snippet": h.snippet }))
                    .collect();
                println!("{}", serde_json::to_string(&hits)?);
            } else {
                for (i, h) in found.hits.iter().enumerate() {
                    println!("{:>2}. {} [{}] {} ({:.2})", i + 1, h.slug, h.locale, h.title, h.score);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn bot(app: &App, command: BotCommand) -> anyhow::Result<ExitCode> {
    match command {
        BotCommand::Train => match app.bot_train(None).await {
            Ok(r) => {
                println!(
                    "trained on {} examples ({} added by admins), {} intents, in {:.0} ms; running servers retrain within seconds",
                    r.examples, r.added_examples, r.intents, r.took_ms
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(user_error(e)),
        },
        BotCommand::Classify { text, json } => match app.bot_classify(None, &text).await {
            Ok(c) => {
                if json {
                    println!("{}", serde_json::json!({"intent": c.intent, "confidence": c.confidence, "language": c.language}));
                } else {
                    println!("{} ({:.0}%), {}", c.intent, c.confidence * 100.0, c.language);
                    for r in c.ranked.iter().skip(1) {
                        println!("  then {} ({:.0}%)", r.intent, r.confidence * 100.0);
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(user_error(e)),
        },
        BotCommand::Eval { file, json } => {
            let examples = match std::fs::read_to_string(&file)
                .map_err(|e| e.to_string())
                .and_then(|t| kefu_bot::examples::parse_csv(&t).map_err(|e| e.to_string()))
            {
                Ok(x) if !x.is_empty() => x,
                Ok(_) => {
                    eprintln!("kefu: {}: no examples", file.display());
                    return Ok(ExitCode::from(2));
                }
                Err(e) => {
                    eprintln!("kefu: {}: {e}", file.display());
                    return Ok(ExitCode::from(2));
                }
            };
            let classifier = match app.bot_classifier().await {
                Ok(c) => c,
                Err(e) => return Ok(user_error(e)),
            };
            let report = kefu_bot::eval::evaluate(&classifier, &examples);
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{}", report.render());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn user_error(e: AppError) -> ExitCode {
    match &e {
        AppError::Validation(fields) => {
            for f in fields {
                eprintln!("kefu: {}: {}", f.field, f.message);
            }
        }
        AppError::Internal(d) => eprintln!("kefu: {d}"),
        other => eprintln!("kefu: {other}"),
    }
    ExitCode::from(2)
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(&config).await?;
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    let base = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let mut app_config = config.app_config(demo);
    // Links in mail point where customers reach Kefu: the listening address unless told.
    app_config.public_url = Some(base.clone());
    let app = build_app(store.clone(), app_config)?;
    // The master key is read (or made, with a warning) now rather than at the first upload,
    // and identities from before sealing are sealed before any request.
    app.blobs()?;
    app.pii().await?;

    if demo {
        match app.seed_demo().await {
            Ok(outcome) => print_demo(&base, outcome == DemoOutcome::Seeded),
            Err(e) => {
                eprintln!("kefu: --demo refused: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    } else if app.count_active_admins().await? == 0 {
        println!("No admin exists yet. Create the first one with:");
        println!("  kefu admin create-agent --email you@example.com --name \"Your Name\" --role admin --password-stdin");
        println!("(or try Kefu with demo data: kefu serve --demo --data-dir ./kefu-demo)");
    }
    app.schedule_maintenance().await?;

    let mut services = Services::new();
    services.start(Arc::new(JobWorker::new(app.clone())));
    services.start_core(&app);

    println!("kefu listening on http://{addr} (console: {base}/console, API reference: {base}/api/docs)");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, backend = store.backend(), demo, "serving");
    kefu_web::serve(listener, app, config.web_config(demo), shutdown_signal()).await?;
    tracing::info!("stopped accepting; in-flight requests finished");
    services.stop().await;
    store.close().await;
    tracing::info!("shut down cleanly");
    Ok(ExitCode::SUCCESS)
}

fn print_demo(base: &str, fresh: bool) {
    println!();
    println!("Demo mode{}: sign in at {base}/console", if fresh { " (new demo data seeded)" } else { "" });
    println!("Play the customer on the demo exchange's page with the chat widget: {base}/demo");
    println!("WARNING: two-factor authentication is not enforced in demo mode. Never use demo mode for real support.");
    println!("  {:<11} {:<26} password", "role", "e-mail");
    for a in DEMO_AGENTS {
        println!("  {:<11} {:<26} {DEMO_PASSWORD}", a.role.as_str(), a.email);
    }
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
