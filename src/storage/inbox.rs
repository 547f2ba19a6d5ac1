//! The inbox: raw updates stored durably before they are acknowledged to
//! Telegram, applied per chat in update order, deleted once applied. A crash
//! between acknowledgement and reply loses nothing.

use sqlx::Row;

use super::{Store, StoreError, with_pool};

/// A stored update.
#[derive(Debug, Clone)]
pub struct InboxRow {
    /// Telegram's update id.
    pub update_id: i64,
    /// The chat it belongs to (0 when it has none).
    pub chat_id: i64,
    /// The update as JSON, as stored: texts and captions already redacted
    /// (`telegram::inbox`), so no card number, password or code is written.
    pub payload: String,
    /// The update as received, held in memory only (never written): the
    /// process that received it applies this, so the conversation sees what
    /// the merchant typed. `None` for rows read back from the table.
    pub original: Option<std::sync::Arc<str>>,
}

impl Store {
    /// Stores updates (already stored ones are ignored).
    pub async fn inbox_put(&self, rows: &[InboxRow], now: i64) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        tx.inbox_put_many(rows, now);
        tx.commit().await.map(|_| ())
    }

    /// The oldest stored updates, in update order.
    pub async fn inbox_due(&self, limit: i64) -> Result<Vec<InboxRow>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query("SELECT update_id, chat_id, payload FROM inbox ORDER BY update_id LIMIT $1")
                .bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(InboxRow {
                update_id: r.try_get("update_id")?,
                chat_id: r.try_get("chat_id")?,
                payload: r.try_get("payload")?,
                original: None,
            })).collect()
        })
    }

    /// A chat's stored updates not applied yet, in update order (at most
    /// `limit`). Read under the chat's lease before applying any of its
    /// updates, so an update stored by another replica (or before a
    /// restart) is never overtaken by a later one.
    pub async fn inbox_of_chat(
        &self,
        chat_id: i64,
        limit: i64,
    ) -> Result<Vec<InboxRow>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT i.update_id, i.chat_id, i.payload FROM inbox i
                 WHERE i.chat_id = $1
                   AND NOT EXISTS (SELECT 1 FROM processed_updates p WHERE p.update_id = i.update_id)
                 ORDER BY i.update_id LIMIT $2",
            )
            .bind(chat_id).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(InboxRow {
                update_id: r.try_get("update_id")?,
                chat_id: r.try_get("chat_id")?,
                payload: r.try_get("payload")?,
                original: None,
            })).collect()
        })
    }

    /// The chats with stored updates (left over from before a restart).
    pub async fn inbox_chats(&self) -> Result<std::collections::HashSet<i64>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query("SELECT DISTINCT chat_id FROM inbox").fetch_all(p).await?;
            rows.iter().map(|r| Ok(r.try_get::<i64, _>("chat_id")?)).collect()
        })
    }

    /// Codes whose delivery outcome is overdue: still pending at `now`
    /// past their deadline (their delivery died with a process).
    pub async fn codes_pending_overdue(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<super::PendingCode>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT merchant_id, issued_at, chat_id, user_id FROM otp_pending
                 WHERE deadline < $1 ORDER BY deadline LIMIT $2",
            )
            .bind(now).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(super::PendingCode {
                merchant_id: r.try_get("merchant_id")?,
                issued_at: r.try_get("issued_at")?,
                chat_id: r.try_get("chat_id")?,
                user_id: r.try_get("user_id")?,
            })).collect()
        })
    }

    /// Removes applied updates.
    pub async fn inbox_done(&self, update_ids: &[i64]) -> Result<(), StoreError> {
        if update_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for id in update_ids {
            tx.inbox_done(*id);
        }
        tx.commit().await.map(|_| ())
    }

    /// Number of stored, unapplied updates.
    pub async fn inbox_len(&self) -> Result<i64, StoreError> {
        with_pool!(self, p => Ok(sqlx::query("SELECT COUNT(*) AS n FROM inbox").fetch_one(p).await?.try_get("n")?))
    }
}

impl Store {
    /// Takes (or renews) the lease of `kind` work on a chat until `until`;
    /// `false` if another replica holds it. SQLite serves one process, which
    /// needs no leases.
    pub async fn lease_chat(
        &self,
        kind: &str,
        chat_id: i64,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let Store::Postgres(pool) = self else {
            return Ok(true);
        };
        let row = sqlx::query(
            "INSERT INTO leases (kind, chat_id, owner, until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (kind, chat_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
             WHERE leases.until < $5 OR leases.owner = excluded.owner
             RETURNING owner",
        )
        .bind(kind)
        .bind(chat_id)
        .bind(owner)
        .bind(until)
        .bind(now)
        .fetch_optional(pool)
        .await?;
        Ok(row.is_some())
    }

    /// Gives a lease back.
    pub async fn release_chat(
        &self,
        kind: &str,
        chat_id: i64,
        owner: &str,
    ) -> Result<(), StoreError> {
        let Store::Postgres(pool) = self else {
            return Ok(());
        };
        sqlx::query("DELETE FROM leases WHERE kind = $1 AND chat_id = $2 AND owner = $3")
            .bind(kind)
            .bind(chat_id)
            .bind(owner)
            .execute(pool)
            .await?;
        Ok(())
    }
}
