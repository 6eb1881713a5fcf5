//! The durable job queue: jobs run, failures retry with backoff, work survives a restart,
//! an expired lease is taken over, and concurrent workers never run a job twice.

use kefu_app::jobs::{JobHandler, JobRegistry, JobWorker, backoff};
use kefu_app::{App, AppConfig};
use kefu_testkit::{Backend, FakeClock, TestDb, build_app};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

both_backends!(
    jobs_run_and_failures_retry_with_backoff,
    queued_jobs_survive_a_restart,
    a_dead_workers_job_is_taken_over,
    concurrent_workers_run_each_job_once
);

/// Records each run; fails the first `fail_first` runs of each job.
#[derive(Default)]
struct Recorder {
    runs: Mutex<HashMap<String, u32>>,
    fail_first: u32,
}

#[async_trait::async_trait]
impl JobHandler for Recorder {
    async fn run(&self, _app: &App, payload: serde_json::Value) -> Result<(), String> {
        let key = payload["n"].to_string();
        let n = {
            let mut runs = self.runs.lock().unwrap();
            let c = runs.entry(key).or_default();
            *c += 1;
            *c
        };
        if n <= self.fail_first { Err(format!("failure {n}")) } else { Ok(()) }
    }
}

fn app_with(store: kefu_store::Store, clock: Arc<FakeClock>, rec: Arc<Recorder>) -> App {
    build_app(store, AppConfig::default(), clock, JobRegistry::standard().with("test.record", rec))
}

async fn jobs_run_and_failures_retry_with_backoff(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    let clock = FakeClock::new();
    let rec = Arc::new(Recorder { fail_first: 2, ..Default::default() });
    let app = app_with(db.store().await, clock.clone(), rec.clone());
    let id = app.enqueue_job_with("test.record", serde_json::json!({"n": 1}), Duration::ZERO, 3).await.unwrap();
    let worker = JobWorker::new(app.clone());
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let job = app.job(&id).await.unwrap().unwrap();
    assert_eq!((job.status.as_str(), job.attempts, job.last_error.as_deref()), ("queued", 1, Some("failure 1")));
    // Not due again until the backoff has passed.
    assert_eq!(worker.run_due().await.unwrap(), 0);
    clock.advance(backoff(1) + Duration::from_secs(1));
    assert_eq!(worker.run_due().await.unwrap(), 1);
    clock.advance(backoff(2) + Duration::from_secs(1));
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let job = app.job(&id).await.unwrap().unwrap();
    assert_eq!((job.status.as_str(), job.attempts), ("done", 3));
    // A job that keeps failing ends as failed after its attempts.
    let doomed = Arc::new(Recorder { fail_first: 99, ..Default::default() });
    let app2 = app_with(db.store().await, clock.clone(), doomed);
    let id2 = app2.enqueue_job_with("test.record", serde_json::json!({"n": 2}), Duration::ZERO, 2).await.unwrap();
    let w2 = JobWorker::new(app2.clone());
    w2.run_due().await.unwrap();
    clock.advance(Duration::from_secs(3600));
    w2.run_due().await.unwrap();
    let job = app2.job(&id2).await.unwrap().unwrap();
    assert_eq!((job.status.as_str(), job.attempts), ("failed", 2));
    // A kind nobody handles fails instead of looping.
    let id3 = app2.enqueue_job_with("no.such.kind", serde_json::json!({}), Duration::ZERO, 1).await.unwrap();
    w2.run_due().await.unwrap();
    assert_eq!(app2.job(&id3).await.unwrap().unwrap().status, "failed");
}

async fn queued_jobs_survive_a_restart(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    let clock = FakeClock::new();
    let first = app_with(db.store().await, clock.clone(), Arc::new(Recorder::default()));
    let id = first.enqueue_job("test.record", serde_json::json!({"n": 7}), Duration::ZERO).await.unwrap();
    first.store().close().await;
    drop(first);
    // A new process over the same database.
    let rec = Arc::new(Recorder::default());
    let second = app_with(db.store().await, clock, rec.clone());
    assert_eq!(JobWorker::new(second.clone()).run_due().await.unwrap(), 1);
    assert_eq!(second.job(&id).await.unwrap().unwrap().status, "done");
    assert_eq!(rec.runs.lock().unwrap().get("7"), Some(&1));
}

async fn a_dead_workers_job_is_taken_over(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    let clock = FakeClock::new();
    let app = app_with(db.store().await, clock.clone(), Arc::new(Recorder::default()));
    let id = app.enqueue_job("test.record", serde_json::json!({"n": 3}), Duration::ZERO).await.unwrap();
    // A worker claims the job and dies without finishing it.
    let now = clock.now_micros();
    let claimed = app.store().claim_jobs("dead-worker", now, now + 60_000_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let live = JobWorker::new(app.clone());
    assert_eq!(live.run_due().await.unwrap(), 0, "a leased job must not run twice");
    clock.advance(Duration::from_secs(61));
    assert_eq!(live.run_due().await.unwrap(), 1);
    let job = app.job(&id).await.unwrap().unwrap();
    assert_eq!((job.status.as_str(), job.attempts), ("done", 2));
    // The dead worker coming back cannot overwrite the outcome.
    assert!(!app.store().complete_job(id.as_str(), "dead-worker", now).await.unwrap());
}

async fn concurrent_workers_run_each_job_once(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    let clock = FakeClock::new();
    let rec = Arc::new(Recorder::default());
    // Separate apps with separate pools: as separate nodes would be.
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(app_with(db.store().await, clock.clone(), rec.clone()));
    }
    for n in 0..60 {
        nodes[0].enqueue_job("test.record", serde_json::json!({"n": n}), Duration::ZERO).await.unwrap();
    }
    let mut tasks = Vec::new();
    for node in &nodes {
        let w = JobWorker::new(node.clone());
        tasks.push(tokio::spawn(async move {
            let mut total = 0;
            loop {
                let n = w.run_due().await.unwrap();
                if n == 0 {
                    return total;
                }
                total += n;
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 60);
    let runs = rec.runs.lock().unwrap();
    assert_eq!(runs.len(), 60);
    assert!(runs.values().all(|&c| c == 1), "some job ran twice: {runs:?}");
}
