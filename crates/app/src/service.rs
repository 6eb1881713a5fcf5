//! Background loops as services: each runs until the shared shutdown signal, and all are
//! started and stopped in one place.

use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Resolves when shutdown begins.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.0.borrow()
    }
}

#[async_trait::async_trait]
pub trait Service: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    async fn run(self: Arc<Self>, shutdown: Shutdown);
}

pub struct Services {
    stop: watch::Sender<bool>,
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Default for Services {
    fn default() -> Self {
        Self::new()
    }
}

impl Services {
    pub fn new() -> Self {
        Self { stop: watch::channel(false).0, running: Vec::new() }
    }

    pub fn shutdown_signal(&self) -> Shutdown {
        Shutdown(self.stop.subscribe())
    }

    pub fn start(&mut self, service: Arc<dyn Service>) {
        let name = service.name();
        tracing::info!(service = name, "starting");
        let signal = self.shutdown_signal();
        self.running.push((name, tokio::spawn(service.run(signal))));
    }

    /// Signals every service and waits for each to finish its current work.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for (name, handle) in self.running {
            if let Err(e) = handle.await {
                tracing::error!(service = name, error = %e, "service ended abnormally");
            }
        }
    }
}

impl Services {
    /// The services every node runs beside the web server: presence, the search indexers, the
    /// help center's search log and the database's checkpoints. (The job worker is started by the binary.)
    pub fn start_core(&mut self, app: &crate::App) {
        self.start(crate::presence::PresenceTracker::new(app));
        if let Some(indexer) = crate::search::SearchIndexer::new(app) {
            self.start(indexer);
        }
        self.start(crate::kb::KbIndexer::new(app));
        if let Some(log) = crate::kb::KbSearchLog::new(app) {
            self.start(log);
        }
        self.start(crate::bot::BotService::new(app));
        self.start(Arc::new(Checkpointer { app: app.clone() }));
    }
}

/// How often SQLite's write-ahead log is copied into the database in full (the log can then
/// start over). Each checkpoint syncs the log and the database file, and on a shared disk the
/// writes around those syncs stall for tens of milliseconds: once a second, that stall was in
/// the p99 of every write-heavy load (creates at 16 clients: p99 29-41 ms); every five seconds,
/// fewer writes wait.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// How often the log is copied beside the writer between full checkpoints (see
/// `Store::checkpoint`): a copy that finds nothing new costs nothing, and under a burst of
/// writes (about 70 KB of log a create) the copying and syncing come in smaller pieces, with a
/// full pass as soon as the log passes 256 MB instead of after seconds of growth, when it had
/// reached 1-2 GB and its copy stalled writes for up to half a second.
const COPY_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Keeps SQLite's checkpoints (and their fsyncs) out of the requests that write: the write
/// connection never checkpoints by itself; this service copies the log from a reader every
/// second and checkpoints in full every five seconds (see `Store::checkpoint`).
pub struct Checkpointer {
    app: crate::App,
}

#[async_trait::async_trait]
impl Service for Checkpointer {
    fn name(&self) -> &'static str {
        "checkpointer"
    }

    async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        let mut tick = tokio::time::interval(COPY_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_full = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = tick.tick() => {}
            }
            let full = last_full.elapsed() >= CHECKPOINT_EVERY;
            match self.app.store().checkpoint(full).await {
                Ok(None) => break,
                Ok(Some(c)) if c.log_pages == 0 => {}
                Ok(Some(c)) => {
                    if c.writer_pass.is_some() {
                        last_full = tokio::time::Instant::now();
                    }
                    tracing::debug!(
                        log_pages = c.log_pages,
                        reader_ms = c.reader_pass.as_secs_f64() * 1e3,
                        writer_ms = c.writer_pass.unwrap_or_default().as_secs_f64() * 1e3,
                        emptied = c.emptied,
                        "checkpoint"
                    )
                }
                Err(e) => tracing::warn!(error = %e, "checkpoint failed; trying again"),
            }
        }
    }
}
