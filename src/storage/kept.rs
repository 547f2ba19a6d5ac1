//! One connection kept between the transactions of the group-commit
//! writer, instead of a pool checkout per transaction.

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};

/// One connection kept between the transactions of a single busy caller
/// (the group-commit writer): no pool checkout and no release check per
/// transaction, and its prepared statements stay warm. A transaction that
/// fails does not hand its connection back, so a broken one is replaced by
/// a fresh one from the pool.
#[derive(Default)]
pub struct ConnKeeper(std::sync::Mutex<Kept>);

#[derive(Default)]
struct Kept {
    /// Set by `close`: connections are no longer kept (the pool is closing
    /// and waits for every connection to come back).
    closed: bool,
    conn: Option<KeptConn>,
}

pub(super) enum KeptConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl ConnKeeper {
    /// The kept connection, if any.
    pub(super) fn take(&self) -> Option<KeptConn> {
        self.0.lock().ok()?.conn.take()
    }

    /// Keeps `conn` for the next transaction (drops it, back to the pool,
    /// once closed).
    pub(super) fn keep(&self, conn: KeptConn) {
        if let Ok(mut kept) = self.0.lock()
            && !kept.closed
        {
            kept.conn = Some(conn);
        }
    }

    /// Stops keeping connections and lets go of the one kept; call before
    /// closing the pool.
    pub fn close(&self) {
        let conn = self.0.lock().ok().and_then(|mut kept| {
            kept.closed = true;
            kept.conn.take()
        });
        drop(conn);
    }
}
