//! The outbox: messages committed with the turn that produced them, sent by
//! a sender task, marked sent afterwards. Nothing is sent that was not
//! committed; nothing committed is lost.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Store, StoreError, with_pool, with_pool_priority_write, with_pool_write};

/// How soon a message should go out; lower first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A reply to someone waiting.
    Interactive = 0,
    /// Staff-group traffic.
    Staff = 1,
    /// Notifications nobody is waiting for.
    Bulk = 5,
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxPayload {
    /// An HTML text with optional inline buttons `(label, data)`.
    Text {
        /// Telegram HTML.
        html: String,
        /// Button rows.
        #[serde(default)]
        buttons: Vec<Vec<(String, String)>>,
    },
    /// A copy of a message from another chat (media kept); a copy of a
    /// staff message for a merchant is remembered like `Relay`, so that
    /// the agent's caption edit follows.
    Copy {
        /// Source chat.
        from_chat: i64,
        /// Source message.
        message_id: i32,
    },
    /// A merchant's text relayed into its ticket's topic: copied as it is
    /// when it goes alone; when more of the ticket's merchant texts wait
    /// behind it, they go out together as one message, each part under its
    /// sender and time (`staff-relay-part`), and every row is marked sent
    /// with that one message.
    FromMerchant {
        /// The merchant's chat.
        from_chat: i64,
        /// The merchant's message.
        message_id: i32,
        /// Who wrote it (their Telegram name).
        sender: String,
        /// When it arrived, Unix ms.
        at: i64,
        /// Its text, redacted.
        text: String,
    },
    /// A staff reply for the merchant: sent like `Text`, and the message
    /// it became is remembered so that the agent's edit can follow.
    Relay {
        /// Telegram HTML.
        html: String,
        /// The agent's message in the staff group.
        staff_message: i32,
    },
    /// The agent edited `staff_message`: its copy is edited in place
    /// (nothing when it was never sent).
    EditRelay {
        /// Telegram HTML.
        html: String,
        /// The agent's message in the staff group.
        staff_message: i32,
    },
    /// The agent edited the caption of their media message
    /// `staff_message`: its copy's caption is edited in place (nothing
    /// when it was never sent).
    EditRelayCaption {
        /// The caption, Telegram HTML.
        html: String,
        /// The agent's message in the staff group.
        staff_message: i32,
    },
    /// A text into a given topic of the staff group (one without a ticket,
    /// e.g. the requests topic).
    ToThread {
        /// The forum topic.
        thread: i64,
        /// Telegram HTML.
        html: String,
    },
    /// A request's post in the requests topic (`support.requests_topic`);
    /// its message id is remembered for edits.
    RequestPost {
        /// The request.
        reference: String,
        /// Telegram HTML.
        html: String,
        /// Button rows.
        #[serde(default)]
        buttons: Vec<Vec<(String, String)>>,
    },
    /// A new version of a request's post, edited in place.
    EditRequestPost {
        /// The request.
        reference: String,
        /// Telegram HTML.
        html: String,
        /// Button rows.
        #[serde(default)]
        buttons: Vec<Vec<(String, String)>>,
    },
    /// A ticket's context card (the row's `ticket_id`): sent like `Text`
    /// into its topic; its message id is remembered for edits, and it is
    /// pinned.
    Card {
        /// Telegram HTML.
        html: String,
        /// Button rows.
        #[serde(default)]
        buttons: Vec<Vec<(String, String)>>,
    },
    /// A new version of the ticket's card, edited in place (nothing when
    /// the card was never sent).
    EditCard {
        /// Telegram HTML.
        html: String,
        /// Button rows.
        #[serde(default)]
        buttons: Vec<Vec<(String, String)>>,
    },
    /// A change to the ticket's forum topic.
    Topic {
        /// What.
        op: TopicOp,
    },
}

impl OutboxPayload {
    /// Whether this changes something already there (an edit, a topic's
    /// name or state) rather than posting a new message.
    pub fn is_edit(&self) -> bool {
        matches!(
            self,
            OutboxPayload::EditCard { .. }
                | OutboxPayload::EditRelay { .. }
                | OutboxPayload::EditRelayCaption { .. }
                | OutboxPayload::EditRequestPost { .. }
                | OutboxPayload::Topic { .. }
        )
    }
}

/// A change to a ticket's forum topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TopicOp {
    /// A new name (the ticket's state is in it).
    Rename {
        /// The name, at most 128 characters.
        name: String,
    },
    /// The ticket ended.
    Close,
    /// The ticket is active again.
    Reopen,
}

/// A message due for sending.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Id (per-chat order).
    pub id: i64,
    /// Destination chat.
    pub chat_id: i64,
    /// For staff-topic messages: the ticket whose topic it goes to.
    pub ticket_id: Option<i64>,
    /// What.
    pub payload: OutboxPayload,
    /// Attempts so far.
    pub attempts: i64,
    /// `Priority` as stored (lower first).
    pub priority: i64,
}

/// Decodes a row of `SELECT id, chat_id, ticket_id, payload, attempts, priority`.
fn outbox_row<R: Row>(r: &R) -> Result<OutboxRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let payload: String = r.try_get("payload")?;
    let payload = serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(OutboxRow {
        id: r.try_get("id")?,
        chat_id: r.try_get("chat_id")?,
        ticket_id: r.try_get("ticket_id")?,
        payload,
        attempts: r.try_get("attempts")?,
        priority: r.try_get("priority")?,
    })
}

impl Store {
    /// Pending messages whose time has come: interactive first, per chat in id
    /// order (a chat's later message never overtakes its earlier one, because
    /// the sender stops a chat at its first failure).
    pub async fn due_outbox(&self, now: i64, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, chat_id, ticket_id, payload, attempts, priority FROM outbox o
                 WHERE status = 'pending' AND next_attempt_at <= $1
                 AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.chat_id = o.chat_id AND e.status = 'pending'
                                 AND e.id < o.id AND e.next_attempt_at > $1)
                 ORDER BY priority, id LIMIT $2",
            ).bind(now).bind(limit).fetch_all(p).await?;
            rows.iter().map(outbox_row).collect()
        })
    }

    /// Whether the chat has an earlier message still pending (order guard).
    pub async fn has_earlier_pending(&self, chat_id: i64, id: i64) -> Result<bool, StoreError> {
        with_pool!(self, p => Ok(sqlx::query("SELECT 1 AS x FROM outbox WHERE chat_id = $1 AND status = 'pending' AND id < $2 LIMIT 1")
            .bind(chat_id).bind(id).fetch_optional(p).await?.is_some()))
    }

    /// Marks messages sent.
    pub async fn outbox_sent(&self, ids: &[i64], now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.outbox_sent(ids, now);
        tx.commit().await.map(|_| ())
    }

    /// Schedules another attempt.
    pub async fn outbox_retry(&self, id: i64, at: i64, error: &str) -> Result<(), StoreError> {
        with_pool_priority_write!(self, p => sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1")
            .bind(id).bind(at).bind(error).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Gives up on a message.
    pub async fn outbox_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        with_pool_priority_write!(self, p => sqlx::query("UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id).bind(error).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Gives up on every pending message of a chat (the user blocked the bot).
    pub async fn outbox_fail_chat(&self, chat_id: i64, error: &str) -> Result<(), StoreError> {
        with_pool_write!(self, p => sqlx::query("UPDATE outbox SET status = 'failed', last_error = $2 WHERE chat_id = $1 AND status = 'pending'")
            .bind(chat_id).bind(error).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Number of pending messages.
    pub async fn outbox_pending_count(&self) -> Result<i64, StoreError> {
        with_pool!(self, p => Ok(sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'").fetch_one(p).await?.try_get("n")?))
    }
}

impl Store {
    /// A chat's due messages, read afresh (after taking its lease, so a
    /// message another replica sent meanwhile is not sent again).
    pub async fn due_outbox_for_chat(
        &self,
        chat_id: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, chat_id, ticket_id, payload, attempts, priority FROM outbox
                 WHERE chat_id = $1 AND status = 'pending' AND next_attempt_at <= $2 ORDER BY id LIMIT $3",
            ).bind(chat_id).bind(now).bind(limit).fetch_all(p).await?;
            rows.iter().map(outbox_row).collect()
        })
    }
}

impl Store {
    /// Deletes sent and failed messages and applied-update ids older than
    /// `before` (they are kept a while for audit and duplicate detection;
    /// Telegram never redelivers an update after 24 hours).
    pub async fn purge_before(&self, before: i64) -> Result<u64, StoreError> {
        let mut n = 0;
        n += with_pool_write!(self, p => sqlx::query("DELETE FROM outbox WHERE status IN ('sent', 'failed') AND created_at < $1")
            .bind(before).execute(p).await.map(|r| r.rows_affected()))?;
        n += with_pool_write!(self, p => sqlx::query("DELETE FROM processed_updates WHERE processed_at < $1")
            .bind(before).execute(p).await.map(|r| r.rows_affected()))?;
        with_pool_write!(self, p => sqlx::query("DELETE FROM leases WHERE until < $1").bind(before).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }
}

impl Store {
    /// Creation time (Unix ms) of the oldest pending message, if any.
    pub async fn outbox_oldest_pending(&self) -> Result<Option<i64>, StoreError> {
        with_pool!(self, p => Ok(sqlx::query("SELECT MIN(created_at) AS t FROM outbox WHERE status = 'pending'")
            .fetch_one(p).await?.try_get::<Option<i64>, _>("t")?))
    }
}
