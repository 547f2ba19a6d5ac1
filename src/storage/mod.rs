//! The only place that imports sqlx. One repository layer over SQLite (the
//! embedded default) and PostgreSQL (several replicas), picked from the URL;
//! the same SQL (with `$n` placeholders, which both accept) serves both, and
//! each backend has its own migrations folder.

mod batch;
mod copy;
mod inbox;
mod kept;
mod outbox;
mod records;
mod statements;
mod tx;

pub use copy::CopyReport;
pub use inbox::InboxRow;
pub use kept::ConnKeeper;
pub use outbox::{OutboxPayload, OutboxRow, Priority, TopicOp};
pub use records::{AuditRow, MerchantRow, RequestRow, TicketRow};
pub use statements::PendingCode;
pub use tx::{ClaimedChats, Tx};

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Row, SqlitePool};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is neither SQLite nor PostgreSQL.
    #[error("database.url must start with sqlite: or postgres:, got {0:?}")]
    BadUrl(String),
    /// The database reported an error.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A shared write failed for a reason worth retrying (reported to each
    /// of the writes that shared it).
    #[error("database busy: {0}")]
    Transient(String),
}

impl StoreError {
    /// Whether retrying the whole transaction may succeed (busy, lock,
    /// serialisation failure, dropped connection).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                let code = e.code().map(|c| c.to_string()).unwrap_or_default();
                // SQLite BUSY (5), LOCKED (6) and their extended codes; PostgreSQL
                // serialization_failure, deadlock_detected.
                matches!(
                    code.as_str(),
                    "5" | "6" | "261" | "262" | "517" | "40001" | "40P01"
                ) || e.message().contains("database is locked")
            }
            StoreError::Db(sqlx::Error::Io(_))
            | StoreError::Db(sqlx::Error::PoolTimedOut)
            | StoreError::Db(sqlx::Error::WorkerCrashed)
            | StoreError::Transient(_) => true,
            _ => false,
        }
    }
}

/// SQLite connections at most, whatever `database.max_connections` says.
pub const SQLITE_MAX_CONNECTIONS: u32 = 3;

/// A connection pool to one of the two backends.
#[derive(Clone, Debug)]
pub enum Store {
    /// SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// A SQLite pool and the in-process write lock in front of it. SQLite has
/// one writer; queuing writers here (first come, first served) replaces
/// collisions in SQLite's busy handler, which sleeps in steps of up to 100 ms.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// The pool (readers run concurrently under WAL).
    pub pool: SqlitePool,
    write: Arc<tokio::sync::Mutex<()>>,
    priority_waiting: Arc<std::sync::atomic::AtomicUsize>,
    priority_cleared: Arc<tokio::sync::Notify>,
}

impl SqliteStore {
    /// Waits for the write lock, after any priority writer.
    pub async fn write_lock(&self) -> tokio::sync::OwnedMutexGuard<()> {
        use std::sync::atomic::Ordering;
        loop {
            // Registered before the check, so a wake-up in between is not lost.
            let cleared = self.priority_cleared.notified();
            tokio::pin!(cleared);
            cleared.as_mut().enable();
            let guard = Arc::clone(&self.write).lock_owned().await;
            if self.priority_waiting.load(Ordering::Acquire) == 0 {
                return guard;
            }
            // A priority writer is queued: step back until it is through.
            drop(guard);
            cleared.await;
        }
    }

    /// Waits for the write lock ahead of ordinary writers. For marking
    /// messages sent: the shorter the time between Telegram accepting a
    /// message and the mark, the smaller the window in which a crash makes
    /// the message go out twice.
    pub async fn priority_write_lock(&self) -> tokio::sync::OwnedMutexGuard<()> {
        use std::sync::atomic::Ordering;
        self.priority_waiting.fetch_add(1, Ordering::AcqRel);
        let guard = Arc::clone(&self.write).lock_owned().await;
        if self.priority_waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.priority_cleared.notify_waiters();
        }
        guard
    }
}

/// Runs `$body` with `$p` bound to the pool of either backend (reads).
macro_rules! with_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match $store {
            $crate::storage::Store::Sqlite(sqlite) => {
                let $p = &sqlite.pool;
                $body
            }
            $crate::storage::Store::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Like `with_pool!`, for a statement that writes: on SQLite it first takes
/// the in-process write lock.
macro_rules! with_pool_write {
    ($store:expr, $p:ident => $body:expr) => {
        match $store {
            $crate::storage::Store::Sqlite(sqlite) => {
                let _guard = sqlite.write_lock().await;
                let $p = &sqlite.pool;
                $body
            }
            $crate::storage::Store::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool_write;

/// Like `with_pool_write!`, ahead of ordinary writers (sent marks).
macro_rules! with_pool_priority_write {
    ($store:expr, $p:ident => $body:expr) => {
        match $store {
            $crate::storage::Store::Sqlite(sqlite) => {
                let _guard = sqlite.priority_write_lock().await;
                let $p = &sqlite.pool;
                $body
            }
            $crate::storage::Store::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool_priority_write;

impl Store {
    /// Connects to `url` (`sqlite:` or `postgres:`). sqlx's statement
    /// logging is off at every level, slow statements included: no SQL text
    /// carries a value, but a log of statements is no place for them to
    /// start.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                // Deleted rows (applied inbox updates, purged messages) are
                // overwritten with zeros, not left in free pages.
                .pragma("secure_delete", "ON")
                .disable_statement_logging();
            // One connection writes (the group-commit writer); a few more
            // read under WAL. Each holds its own page cache, so more would
            // cost memory for nothing.
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.clamp(1, SQLITE_MAX_CONNECTIONS))
                // A local file does not drop connections; a ping before every
                // use would be a round trip to the connection's thread.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Store::Sqlite(SqliteStore {
                pool,
                write: Arc::new(tokio::sync::Mutex::new(())),
                priority_waiting: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
                priority_cleared: Arc::new(tokio::sync::Notify::new()),
            }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?.disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Store::Postgres(pool))
        } else {
            Err(StoreError::BadUrl(url.to_string()))
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(sqlite) => SQLITE_MIGRATIONS.run(&sqlite.pool).await?,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Which backend.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Starts a write transaction. `BEGIN` goes with its first statement
    /// (SQLite: `BEGIN IMMEDIATE`, so the write lock is taken up front and a
    /// busy database waits instead of failing mid-transaction); SQLite's
    /// in-process write lock is held from now on.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Store::Sqlite(sqlite) => {
                let guard = sqlite.write_lock().await;
                Tx::new(tx::TxConn::Sqlite(sqlite.pool.acquire().await?, guard))
            }
            Store::Postgres(pool) => Tx::new(tx::TxConn::Postgres(pool.acquire().await?)),
        })
    }

    /// `begin` on `keeper`'s connection (one from the pool if it has none);
    /// after a successful commit the connection goes back to `keeper`.
    pub async fn begin_kept(&self, keeper: &Arc<ConnKeeper>) -> Result<Tx, StoreError> {
        let kept = keeper.take();
        let tx = match self {
            Store::Sqlite(sqlite) => {
                let guard = sqlite.write_lock().await;
                let conn = match kept {
                    Some(kept::KeptConn::Sqlite(conn)) => conn,
                    _ => sqlite.pool.acquire().await?,
                };
                Tx::new(tx::TxConn::Sqlite(conn, guard))
            }
            Store::Postgres(pool) => {
                let conn = match kept {
                    Some(kept::KeptConn::Postgres(conn)) => conn,
                    _ => pool.acquire().await?,
                };
                Tx::new(tx::TxConn::Postgres(conn))
            }
        };
        Ok(tx.kept_by(Arc::clone(keeper)))
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }

    /// Returns the named secret, creating it with `generate` on first use.
    pub async fn secret(
        &self,
        name: &str,
        generate: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        let candidate = generate();
        with_pool_write!(self, p => {
            sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(&candidate)
                .execute(p)
                .await?;
            let row = sqlx::query("SELECT value FROM secrets WHERE name = $1").bind(name).fetch_one(p).await?;
            Ok(row.try_get::<String, _>("value")?)
        })
    }
}
