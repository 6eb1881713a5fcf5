//! SQLite's hot write path: a transaction's statements sent as one script in one round trip to
//! the database thread, and scripts that queue up meanwhile committed together (group commit),
//! each in its own savepoint. The one write connection is then held for SQLite's own work, not
//! for the scheduling of every request's task between statements, and a script's statements
//! are prepared once and kept (its text depends only on its shape).

use crate::{Result, StoreError};
use sqlx::postgres::PgRow;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{PgPool, Sqlite, SqlitePool};
use std::ops::Range;
use tokio::sync::{mpsc, oneshot};

/// Scripts committed in one transaction at most; bounds how long one batch holds the writer.
const MAX_BATCH: usize = 32;

/// A value bound into a [`Script`].
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}
impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Self {
        Arg::Bool(v)
    }
}

/// SQLite statements joined into one string. Each statement is written with its own `$1, $2,
/// …`; they are renumbered after the statements before it, and sqlx binds every statement's
/// parameters from the one argument list.
/// PostgreSQL runs the same statements one by one in a transaction ([`Script::run_on_postgres`]).
#[derive(Debug, Default, Clone)]
pub(crate) struct Script {
    sql: String,
    args: Vec<Arg>,
    /// Each statement as written, with the range of `args` that are its own.
    statements: Vec<(&'static str, Range<usize>)>,
}

/// Binds `args` to the query `q`, in order.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Int(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
            };
        }
        q
    }};
}

impl Script {
    pub(crate) fn push(&mut self, statement: &'static str, args: Vec<Arg>) {
        let start = self.args.len();
        self.append_renumbered(statement);
        self.sql.push_str(";\n");
        self.args.extend(args);
        self.statements.push((statement, start..self.args.len()));
    }

    /// Runs the statements one by one in a PostgreSQL transaction (PostgreSQL takes one
    /// statement with parameters at a time) and returns the rows they produced.
    pub(crate) async fn run_on_postgres(&self, pool: &PgPool) -> Result<Vec<PgRow>> {
        let mut tx = pool.begin().await?;
        let mut rows = Vec::new();
        for (statement, range) in &self.statements {
            let q = bind_args!(sqlx::query(*statement), &self.args[range.clone()]);
            rows.extend(q.fetch_all(&mut *tx).await.map_err(StoreError::from_write)?);
        }
        tx.commit().await?;
        Ok(rows)
    }

    fn append_renumbered(&mut self, sql: &str) {
        let offset = self.args.len();
        let mut rest = sql;
        while let Some(i) = rest.find('$') {
            self.sql.push_str(&rest[..i]);
            let digits = rest[i + 1..].bytes().take_while(u8::is_ascii_digit).count();
            let n: usize = rest[i + 1..i + 1 + digits].parse().unwrap_or(0);
            self.sql.push_str(&format!("${}", n + offset));
            rest = &rest[i + 1 + digits..];
        }
        self.sql.push_str(rest);
    }

    /// The script inside a savepoint of its own, as one query with every argument bound; the
    /// batch's first script also opens the transaction and its last also commits it, so a batch
    /// of one is one round trip to the database thread.
    fn in_savepoint<'q>(&'q self, sql: &'q mut String, first: bool, last: bool) -> sqlx::query::Query<'q, Sqlite, SqliteArguments> {
        let begin = if first { "BEGIN IMMEDIATE;\n" } else { "" };
        let commit = if last { "COMMIT;\n" } else { "" };
        *sql = format!("{begin}SAVEPOINT script;\n{}RELEASE script;\n{commit}", self.sql);
        bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), &self.args)
    }
}

/// The write connection while a batch's transaction may be open: if it is dropped before the
/// batch finished (the task went away mid-way), it rolls back before the connection goes back
/// to the pool. A rollback after a commit is a harmless no-op.
struct ScriptConnection(Option<sqlx::pool::PoolConnection<Sqlite>>);

impl Drop for ScriptConnection {
    fn drop(&mut self) {
        // Outside a runtime (the process is ending) the connection simply closes, which rolls
        // back too.
        if let Some(mut conn) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            });
        }
    }
}

struct Job {
    script: Script,
    done: oneshot::Sender<Result<Vec<SqliteRow>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

/// Scripts waiting for the write connection. A task takes every script that queued while the
/// previous batch ran and commits them in one transaction (group commit), each script inside
/// its own savepoint, so one script's error (a taken identity, say) undoes and fails that
/// script only.
#[derive(Debug, Clone)]
pub(crate) struct ScriptQueue(mpsc::UnboundedSender<Job>);

impl ScriptQueue {
    /// Starts the queue's task on the current runtime; it ends when every clone is dropped.
    pub(crate) fn start(write: SqlitePool) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run_queue(write, rx));
        ScriptQueue(tx)
    }

    /// Runs `script` in a transaction (perhaps together with others) and returns its rows once
    /// they are committed.
    pub(crate) async fn run(&self, script: Script) -> Result<Vec<SqliteRow>> {
        let (done, result) = oneshot::channel();
        self.0.send(Job { script, done }).map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        result.await.map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?
    }
}

async fn run_queue(write: SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let results = run_batch(&write, &jobs).await;
        for (job, result) in jobs.into_iter().zip(results) {
            let _ = job.done.send(result);
        }
    }
}

/// One transaction for the batch: `BEGIN IMMEDIATE`, each script as one query between
/// `SAVEPOINT` and `RELEASE`, `COMMIT`; the `BEGIN` travels with the first script and the
/// `COMMIT` with the last, so the batch costs one round trip per script. A script's text depends
/// only on its shape (how many identities, tags…) and its place (first, last), so its prepared
/// statements are kept and reused: SQLite parses it once, not once a request. Results are handed
/// out only after the commit.
async fn run_batch(write: &SqlitePool, jobs: &[Job]) -> Vec<Result<Vec<SqliteRow>>> {
    // Every script of a batch that failed as a whole gets the same error.
    let failed = |e: StoreError| {
        let why = e.to_string();
        jobs.iter().map(|_| Err(StoreError::Database(sqlx::Error::Protocol(why.clone())))).collect::<Vec<_>>()
    };
    let mut conn = match write.acquire().await {
        Ok(c) => ScriptConnection(Some(c)),
        Err(e) => return failed(StoreError::from_write(e)),
    };
    let Some(c) = conn.0.as_mut() else { return failed(StoreError::Database(sqlx::Error::PoolClosed)) };
    let mut results = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        let (first, last) = (i == 0, i + 1 == jobs.len());
        let mut sql = String::new();
        match job.script.in_savepoint(&mut sql, first, last).fetch_all(&mut **c).await {
            Ok(rows) => results.push(Ok(rows)),
            Err(e) => {
                // The script failed inside its savepoint: undo it alone. Should that fail, the
                // failure was elsewhere (the `BEGIN` or the `COMMIT`): the transaction is in an
                // unknown state and is given up as a whole (dropping the connection rolls back).
                if sqlx::query("ROLLBACK TO script; RELEASE script").execute(&mut **c).await.is_err() {
                    return failed(StoreError::from_write(e));
                }
                results.push(Err(StoreError::from_write(e)));
                if last && let Err(e) = sqlx::query("COMMIT").execute(&mut **c).await {
                    return failed(StoreError::from_write(e));
                }
            }
        }
    }
    // Committed: the connection goes back as it is.
    drop(conn.0.take());
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_renumbered_after_the_ones_before() {
        let mut s = Script::default();
        s.push("INSERT INTO t (a, b) VALUES ($1, $2)", vec![1_i64.into(), 2_i64.into()]);
        s.push("UPDATE t SET a = $1 WHERE b = $2 OR a = $1", vec![3_i64.into(), 4_i64.into()]);
        assert_eq!(s.sql, "INSERT INTO t (a, b) VALUES ($1, $2);\nUPDATE t SET a = $3 WHERE b = $4 OR a = $3;\n");
    }

    /// Two rows, `(id, first)` and `(id + 1000, second)`, then the ids of the first.
    fn insert(id: i64, first: &str, second: &str) -> Script {
        let mut s = Script::default();
        s.push("INSERT INTO t (id, name) VALUES ($1, $2)", vec![id.into(), first.into()]);
        s.push("INSERT INTO t (id, name) VALUES ($1, $2)", vec![(id + 1000).into(), second.into()]);
        s.push("SELECT id FROM t WHERE name = $1", vec![first.into()]);
        s
    }

    #[tokio::test]
    async fn a_failing_script_is_undone_alone_and_the_rest_of_its_batch_commits() -> Result<()> {
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await?;
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)").execute(&pool).await?;
        let (tx, rx) = oneshot::channel();
        let jobs = vec![
            Job { script: insert(1, "a", "a2"), done: tx },
            // Its first statement succeeds, its second takes a name already taken: all of it is
            // undone.
            Job { script: insert(2, "b", "a2"), done: oneshot::channel().0 },
            Job { script: insert(3, "c", "c2"), done: oneshot::channel().0 },
        ];
        drop(rx);
        let results = run_batch(&pool, &jobs).await;
        let ids = |r: &Result<Vec<SqliteRow>>| -> Vec<i64> {
            r.as_ref().map(|rows| rows.iter().map(|row| sqlx::Row::get(row, 0)).collect()).unwrap_or_default()
        };
        assert_eq!(ids(&results[0]), vec![1]);
        assert!(matches!(results[1], Err(StoreError::Conflict(_))), "{:?}", results[1]);
        assert_eq!(ids(&results[2]), vec![3]);
        let kept: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id").fetch_all(&pool).await?;
        assert_eq!(kept, vec![1, 3, 1001, 1003], "the failed script's first row was undone, the others committed");
        Ok(())
    }

    /// The `BEGIN` rides with a batch's first script and the `COMMIT` with its last: when either
    /// of those fails, the transaction still opens, commits the rest, and leaves the connection
    /// ready for the next batch.
    #[tokio::test]
    async fn a_failing_first_or_last_script_still_commits_the_rest() -> Result<()> {
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await?;
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)").execute(&pool).await?;
        let job = |script| Job { script, done: oneshot::channel().0 };
        // A batch of one that fails: nothing stays, and no transaction is left open.
        let results = run_batch(&pool, &[job(insert(1, "a", "a"))]).await;
        assert!(matches!(results[0], Err(StoreError::Conflict(_))), "{:?}", results[0]);
        // First fails, last fails, middle succeeds.
        let results = run_batch(&pool, &[job(insert(2, "b", "b")), job(insert(3, "c", "c2")), job(insert(4, "d", "c2"))]).await;
        assert!(results[0].is_err() && results[1].is_ok() && results[2].is_err(), "{results:?}");
        let results = run_batch(&pool, &[job(insert(5, "e", "e2"))]).await;
        assert!(results[0].is_ok(), "{results:?}");
        let kept: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id").fetch_all(&pool).await?;
        assert_eq!(kept, vec![3, 5, 1003, 1005]);
        // No transaction was left open: a new one begins.
        sqlx::query("BEGIN").execute(&pool).await?;
        sqlx::query("COMMIT").execute(&pool).await?;
        Ok(())
    }
}
