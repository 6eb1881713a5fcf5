//! The durable job queue's use cases: enqueueing work, and the worker service that claims due
//! jobs, runs their handler, and retries failures with exponential backoff.

use crate::service::{Service, Shutdown};
use crate::{App, AppResult, add};
use kefu_domain::Id;
use kefu_store::{JobRow, NewJob, micros};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Does the work. An `Err` is retried later, until the job's attempts run out.
    async fn run(&self, app: &App, payload: serde_json::Value) -> Result<(), String>;
}

/// Which handler runs which kind of job.
#[derive(Clone, Default)]
pub struct JobRegistry(HashMap<&'static str, Arc<dyn JobHandler>>);

pub const MAINTENANCE_JOB: &str = "maintenance.purge";

impl JobRegistry {
    /// The handlers every node runs.
    pub fn standard() -> Self {
        Self::default()
            .with(MAINTENANCE_JOB, Arc::new(Maintenance))
            .with(crate::webhooks::WEBHOOK_JOB, Arc::new(crate::webhooks::WebhookDelivery::new()))
            .with(crate::identity_check::EMAIL_JOB, Arc::new(crate::identity_check::MailCode))
            .with(crate::chat_follow_up::FOLLOW_UP_JOB, Arc::new(crate::chat_follow_up::FollowUp))
    }

    pub fn with(mut self, kind: &'static str, handler: Arc<dyn JobHandler>) -> Self {
        self.0.insert(kind, handler);
        self
    }
}

/// Deletes what has expired (challenges, old sessions, idempotency records, finished jobs),
/// applies the retention policy, and schedules its next run.
struct Maintenance;

#[async_trait::async_trait]
impl JobHandler for Maintenance {
    async fn run(&self, app: &App, _payload: serde_json::Value) -> Result<(), String> {
        let now = app.now();
        let day = 86_400_000_000i64;
        let s = app.store();
        let purged = s.purge_expired_auth(micros(now), micros(now) - 30 * day).await.map_err(|e| e.to_string())?
            + s.purge_idempotency(micros(now) - day).await.map_err(|e| e.to_string())?
            + s.purge_finished_jobs(micros(now) - 7 * day).await.map_err(|e| e.to_string())?;
        let retained = app.apply_retention().await.map_err(|e| e.to_string())?;
        tracing::info!(purged, retained, "maintenance done");
        app.enqueue_job(MAINTENANCE_JOB, serde_json::json!({}), Duration::from_secs(3600)).await.map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// The delay before retry number `attempts` (1-based): 5 s, 10 s, 20 s, … at most an hour.
pub fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    Duration::from_secs(5u64.saturating_mul(2u64.saturating_pow(exp)).min(3600))
}

impl App {
    pub async fn enqueue_job(&self, kind: &str, payload: serde_json::Value, delay: Duration) -> AppResult<Id> {
        self.enqueue_job_with(kind, payload, delay, 8).await
    }

    pub async fn enqueue_job_with(&self, kind: &str, payload: serde_json::Value, delay: Duration, max_attempts: i64) -> AppResult<Id> {
        let id = Id::new();
        let now = self.now();
        self.store()
            .enqueue_job(NewJob {
                id: id.as_str(),
                kind,
                payload: &payload.to_string(),
                max_attempts: max_attempts.max(1),
                run_at: micros(add(now, delay)),
                now: micros(now),
            })
            .await?;
        Ok(id)
    }

    pub async fn job(&self, id: &Id) -> AppResult<Option<JobRow>> {
        Ok(self.store().job(id.as_str()).await?)
    }

    /// Makes sure the recurring maintenance job exists.
    pub async fn schedule_maintenance(&self) -> AppResult<()> {
        if self.store().count_pending_jobs(MAINTENANCE_JOB).await? == 0 {
            self.enqueue_job(MAINTENANCE_JOB, serde_json::json!({}), Duration::from_secs(60)).await?;
        }
        Ok(())
    }
}

pub struct JobWorker {
    app: App,
    worker_id: String,
    batch: i64,
}

impl JobWorker {
    pub fn new(app: App) -> Self {
        Self { app, worker_id: format!("worker-{}", Id::new()), batch: 16 }
    }

    /// Claims and runs one batch of due jobs; returns how many ran.
    #[tracing::instrument(skip_all, fields(worker = %self.worker_id))]
    pub async fn run_due(&self) -> AppResult<usize> {
        let app = &self.app;
        let now = app.now();
        let lease_until = add(now, app.config().job_lease);
        let jobs = app.store().claim_jobs(&self.worker_id, micros(now), micros(lease_until), self.batch).await?;
        let n = jobs.len();
        for job in jobs {
            let outcome = match app.job_registry().0.get(job.kind.as_str()) {
                None => Err(format!("no handler for job kind {:?}", job.kind)),
                Some(h) => {
                    let payload = serde_json::from_str(&job.payload).unwrap_or(serde_json::Value::Null);
                    match tokio::time::timeout(app.config().job_lease, h.run(app, payload)).await {
                        Ok(r) => r,
                        Err(_) => Err("timed out".to_string()),
                    }
                }
            };
            let done_at = micros(app.now());
            match outcome {
                Ok(()) => {
                    app.store().complete_job(&job.id, &self.worker_id, done_at).await?;
                }
                Err(e) => {
                    let retry_at = (job.attempts < job.max_attempts).then(|| micros(add(app.now(), backoff(job.attempts))));
                    tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %e, retry = retry_at.is_some(), "job failed");
                    app.store().fail_job(&job.id, &self.worker_id, done_at, &e, retry_at).await?;
                }
            }
        }
        Ok(n)
    }
}

#[async_trait::async_trait]
impl Service for JobWorker {
    fn name(&self) -> &'static str {
        "job-worker"
    }

    async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        loop {
            let ran = match self.run_due().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "claiming jobs failed");
                    0
                }
            };
            if shutdown.is_shutting_down() {
                return;
            }
            // A full batch means more may be waiting: go again at once.
            if ran as i64 >= self.batch {
                continue;
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(self.app.config().job_poll) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(4), Duration::from_secs(40));
        assert_eq!(backoff(100), Duration::from_secs(3600));
    }
}
