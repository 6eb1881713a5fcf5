//! SQLite's hot write path: a transaction's statements sent as one script in one round trip to
//! the database thread, and scripts that queue up meanwhile committed together (group commit).
//! The one write connection is then held for SQLite's own work, not for the scheduling of
//! every request's task between statements.

use crate::{Result, StoreError};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// Scripts committed in one transaction at most; bounds how long one batch holds the writer.
const MAX_BATCH: usize = 32;

/// A value bound into a [`Script`].
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
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
        Arg::Bool(v)
    }
}

/// SQLite statements joined into one string. Each statement is written with its own `$1, $2,
/// …`; they are renumbered after the statements before it, and sqlx binds every statement's
/// parameters from the one argument list.
#[derive(Debug, Default, Clone)]
pub(crate) struct Script {
    sql: String,
    args: Vec<Arg>,
}

impl Script {
    pub(crate) fn push(&mut self, statement: &str, args: Vec<Arg>) {
        self.append_renumbered(statement);
        self.sql.push_str(";\n");
        self.args.extend(args);
    }

    /// Appends another script's statements after this one's.
    fn append(&mut self, other: &Script) {
        self.append_renumbered(&other.sql);
        self.args.extend(other.args.iter().cloned());
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

    fn query(&self, persistent: bool) -> sqlx::query::Query<'_, Sqlite, SqliteArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql.as_str())).persistent(persistent);
        for a in &self.args {
            q = match a {
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Int(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
            };
        }
        q
    }

    /// Runs the script between `BEGIN IMMEDIATE` and `COMMIT` in one round trip; returns the
    /// rows its statements produced. `persistent`: keep the prepared statements (for scripts
    /// whose text repeats; measured, keeping batches too costs the writer more than preparing
    /// them afresh).
    async fn run_in_transaction(&self, write: &SqlitePool, persistent: bool) -> Result<Vec<SqliteRow>> {
        let sql = format!("BEGIN IMMEDIATE;\n{}COMMIT;\n", self.sql);
        let script = Script { sql, args: self.args.clone() };
        let mut conn = ScriptConnection(Some(write.acquire().await?));
        let Some(c) = conn.0.as_mut() else { return Err(StoreError::Database(sqlx::Error::PoolClosed)) };
        match script.query(persistent).fetch_all(&mut **c).await {
            Ok(rows) => {
                // Committed: the connection goes back as it is.
                drop(conn.0.take());
                Ok(rows)
            }
            Err(e) => {
                if let Some(mut c) = conn.0.take() {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *c).await;
                }
                Err(StoreError::from_write(e))
            }
        }
    }
}

/// The write connection while a script's own transaction may be open: if it is dropped before
/// the script finished (the task went away mid-way), it rolls back before the connection goes
/// back to the pool. A rollback after a commit is a harmless no-op.
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
    /// Rows this script's statements produce, to hand each job its own from a batch.
    rows: usize,
    done: oneshot::Sender<Result<Vec<SqliteRow>>>,
}

/// Scripts waiting for the write connection. A task takes every script that queued while the
/// previous batch ran and commits them in one transaction; if that fails, each runs alone so
/// one script's error (a taken identity, say) fails that script only.
#[derive(Debug, Clone)]
pub(crate) struct ScriptQueue(mpsc::UnboundedSender<Job>);

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("rows", &self.rows).finish_non_exhaustive()
    }
}

impl ScriptQueue {
    /// Starts the queue's task on the current runtime; it ends when every clone is dropped.
    pub(crate) fn start(write: SqlitePool) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run_queue(write, rx));
        ScriptQueue(tx)
    }

    /// Runs `script` in a transaction (perhaps together with others) and returns its rows,
    /// of which it must produce exactly `rows`.
    pub(crate) async fn run(&self, script: Script, rows: usize) -> Result<Vec<SqliteRow>> {
        let (done, result) = oneshot::channel();
        self.0.send(Job { script, rows, done }).map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
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
        if jobs.len() > 1 {
            let mut batch = Script::default();
            for j in &jobs {
                batch.append(&j.script);
            }
            if let Ok(mut rows) = batch.run_in_transaction(&write, false).await {
                // Committed, but if a script produced other rows than it declared (a bug), no
                // job can be told which rows are its own.
                let as_declared = rows.len() == jobs.iter().map(|j| j.rows).sum::<usize>();
                for j in jobs {
                    if !as_declared {
                        let _ = j.done.send(Err(StoreError::Database(sqlx::Error::RowNotFound)));
                        continue;
                    }
                    let rest = rows.split_off(j.rows);
                    let _ = j.done.send(Ok(std::mem::replace(&mut rows, rest)));
                }
                continue;
            }
            // The batch rolled back as a whole: run each alone for its own outcome.
        }
        for j in jobs {
            let r = j.script.run_in_transaction(&write, true).await;
            let _ = j.done.send(r);
        }
    }
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
        let mut batch = Script::default();
        batch.append(&s);
        batch.append(&s);
        assert!(batch.sql.ends_with("UPDATE t SET a = $7 WHERE b = $8 OR a = $7;\n"), "{}", batch.sql);
        assert_eq!(batch.args.len(), 8);
    }
}
