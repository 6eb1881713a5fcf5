//! The integration suite: one binary, the real server over HTTP, each test on SQLite and,
//! when `KEFU_TEST_DATABASE_URL` is set, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Runs `async fn $name(backend: Backend)` once per backend.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(kefu_testkit::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if kefu_testkit::postgres_admin_url().is_none() {
                        eprintln!("skipped: KEFU_TEST_DATABASE_URL is not set");
                        return;
                    }
                    super::$name(kefu_testkit::Backend::Postgres).await
                }
            }
        )*
    };
}

mod api;
mod attachments;
mod audit;
mod auth;
mod bot;
mod chat;
mod chat_follow_up;
mod cli;
mod identity_checks;
mod inbox;
mod jobs;
mod kb;
mod library;
mod live;
mod pii;
mod portal;
mod roles;
mod shield;
mod tokens;
mod twofactor;
