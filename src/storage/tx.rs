//! One turn's transaction: exactly-once update claim, conversation load and
//! save, merchant facts, the core's writes, the outbox and the turn record.

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Row, Sqlite};

use crate::conversation::{
    Conversation, MerchantFacts, MerchantRecord, OtpFacts, RequestSummary, TicketOpened,
    TicketReason, TicketView, Write,
};
use crate::domain::{Lang, MaskedCard, MerchantId, Phone, Reference, RequestStatus};

use super::StoreError;
use super::inbox::InboxRow;
use super::outbox::{OutboxPayload, OutboxRow, Priority};
use super::script::{Dialect, Script};

/// An open write transaction on either backend. What it appends (stored
/// updates, sent marks, conversation saves, turn records, audit rows, outbox
/// messages, inbox deletions) and the unbinding flow's writes are held back
/// and written at commit in one round trip, as one script of multi-row
/// statements: a batch of turns costs a handful of round trips, not a
/// handful per turn. Before any other statement runs, the held-back writes
/// are written first, so every read sees them.
pub struct Tx {
    pub(super) conn: TxConn,
    /// `BEGIN` was sent (it goes with the first statement).
    begun: bool,
    /// Committed or rolled back.
    finished: bool,
    deferred: Deferred,
    /// Merchant facts read in this transaction, by (merchant, user); an
    /// entry goes when a write touches its merchant or user, all go when
    /// any other statement runs.
    facts: std::collections::HashMap<(String, i64), MerchantFacts>,
    /// Where the connection goes after a successful commit (instead of
    /// back to the pool).
    keeper: Option<std::sync::Arc<ConnKeeper>>,
}

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
    fn keep(&self, conn: KeptConn) {
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

/// The connection of a transaction. `BEGIN` and `COMMIT` are ours, sent in
/// the same round trip as the first and the last statements; a transaction
/// dropped unfinished closes its connection (which rolls it back) rather
/// than return it to the pool mid-transaction.
pub(super) enum TxConn {
    /// SQLite, holding the in-process write lock (never read, only held)
    /// until the transaction is dropped, after its connection.
    Sqlite(
        PoolConnection<Sqlite>,
        #[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>,
    ),
    /// PostgreSQL.
    Postgres(PoolConnection<Postgres>),
    /// Handed to the keeper after the commit.
    Released,
}

/// The error of a statement on a transaction already finished.
pub(super) fn released() -> StoreError {
    StoreError::Corrupt("statement on a finished transaction".into())
}

/// Rows appended inside the transaction, written at commit in this order.
#[derive(Default)]
pub(super) struct Deferred {
    pub(super) stored: Vec<(InboxRow, i64)>,
    pub(super) sent: Vec<(i64, i64)>,
    pub(super) writes: Vec<HeldWrite>,
    pub(super) conversations: Vec<ConversationRow>,
    pub(super) turns: Vec<TurnRow>,
    pub(super) audit: Vec<AuditEntry>,
    pub(super) inbox_done: Vec<i64>,
    pub(super) outbox: Vec<QueuedRow>,
}

/// One of the core's writes, held back until the next statement or commit.
pub(super) struct HeldWrite {
    pub(super) write: Write,
    pub(super) chat_id: i64,
    pub(super) user_id: i64,
    pub(super) at: i64,
}

pub(super) struct AuditEntry {
    pub(super) at: i64,
    pub(super) actor: String,
    pub(super) action: String,
    pub(super) merchant: Option<String>,
    pub(super) chat_id: Option<i64>,
    pub(super) detail: String,
}

pub(super) struct ConversationRow {
    pub(super) chat_id: i64,
    pub(super) user_id: i64,
    pub(super) lang: &'static str,
    pub(super) state: String,
    pub(super) updated_at: i64,
}

pub(super) struct TurnRow {
    pub(super) chat_id: i64,
    pub(super) update_id: Option<i64>,
    pub(super) event: &'static str,
    pub(super) intent: Option<&'static str>,
    pub(super) input: Option<String>,
    pub(super) state_before: &'static str,
    pub(super) state_after: &'static str,
    pub(super) at: i64,
}

pub(super) struct QueuedRow {
    pub(super) chat_id: i64,
    pub(super) ticket_id: Option<i64>,
    pub(super) json: String,
    pub(super) payload: OutboxPayload,
    pub(super) priority: i64,
    pub(super) at: i64,
}

impl Deferred {
    fn is_empty(&self) -> bool {
        self.stored.is_empty()
            && self.sent.is_empty()
            && self.writes.is_empty()
            && self.conversations.is_empty()
            && self.turns.is_empty()
            && self.audit.is_empty()
            && self.inbox_done.is_empty()
            && self.outbox.is_empty()
    }

    /// Stored updates, less those applied in the same transaction (they
    /// need not be stored at all; their deletion is kept, for an older copy).
    pub(super) fn unapplied_stored(&self) -> impl Iterator<Item = &(InboxRow, i64)> {
        let applied: std::collections::HashSet<i64> = self.inbox_done.iter().copied().collect();
        self.stored
            .iter()
            .filter(move |(row, _)| !applied.contains(&row.update_id))
    }

    /// The last save of each chat's conversation (PostgreSQL refuses to
    /// upsert the same key twice in one statement).
    pub(super) fn last_conversations(&self) -> impl Iterator<Item = &ConversationRow> {
        let mut last_of_chat = std::collections::HashMap::new();
        for (i, row) in self.conversations.iter().enumerate() {
            last_of_chat.insert(row.chat_id, i);
        }
        self.conversations
            .iter()
            .enumerate()
            .filter(move |(i, row)| last_of_chat.get(&row.chat_id) == Some(i))
            .map(|(_, row)| row)
    }
}

/// Rows per multi-row statement.
const ROWS_PER_STATEMENT: usize = 200;

/// Writes `INSERT INTO {head} VALUES (..), (..){tail};` for each chunk of rows.
fn insert_rows<T>(
    s: &mut Script,
    head: &'static str,
    tail: &'static str,
    rows: &[T],
    mut values: impl FnMut(&mut Script, &T),
) {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        s.sql("INSERT INTO ").sql(head).sql(" VALUES ");
        for (i, row) in chunk.iter().enumerate() {
            s.sql(if i == 0 { "(" } else { ", (" });
            values(s, row);
            s.sql(")");
        }
        s.sql(tail).sql(";\n");
    }
}

/// The statements of one held-back write.
fn write_statements(s: &mut Script, held: &HeldWrite) {
    let at = held.at;
    match &held.write {
        Write::OtpIssued {
            merchant,
            code_hash,
            expires_at,
        } => {
            s.sql("INSERT INTO otp_state (merchant_id, code_hash, expires_at, failures, last_sent_at) VALUES (")
                .text(merchant.as_str()).sql(", ").text(code_hash).sql(", ").int(*expires_at).sql(", 0, ").int(at)
                .sql(") ON CONFLICT (merchant_id) DO UPDATE SET code_hash = excluded.code_hash, \
                      expires_at = excluded.expires_at, last_sent_at = excluded.last_sent_at;\n");
            s.sql("INSERT INTO otp_sends (merchant_id, user_id, sent_at) VALUES (")
                .text(merchant.as_str())
                .sql(", ")
                .int(held.user_id)
                .sql(", ")
                .int(at)
                .sql(");\n");
        }
        Write::OtpRefunded { merchant } => {
            s.sql("UPDATE otp_state SET code_hash = NULL, expires_at = NULL, last_sent_at = NULL WHERE merchant_id = ")
                .text(merchant.as_str()).sql(";\n");
            s.sql("DELETE FROM otp_sends WHERE id = (SELECT MAX(id) FROM otp_sends WHERE merchant_id = ")
                .text(merchant.as_str()).sql(");\n");
        }
        Write::OtpFailed { merchant } => {
            s.sql("UPDATE otp_state SET failures = failures + 1 WHERE merchant_id = ")
                .text(merchant.as_str())
                .sql(";\n");
        }
        Write::OtpLocked { merchant, until } => {
            s.sql("UPDATE otp_state SET failures = 0, locked_until = ")
                .int(*until)
                .sql(", code_hash = NULL, expires_at = NULL WHERE merchant_id = ")
                .text(merchant.as_str())
                .sql(";\n");
        }
        Write::OtpConsumed { merchant } => {
            s.sql("UPDATE otp_state SET failures = 0, code_hash = NULL, expires_at = NULL WHERE merchant_id = ")
                .text(merchant.as_str()).sql(";\n");
        }
        Write::RequestCreated {
            reference,
            merchant,
        } => {
            s.sql("INSERT INTO unbind_requests (reference, merchant_id, chat_id, user_id, status, created_at, updated_at) VALUES (")
                .text(reference.as_str()).sql(", ").text(merchant.as_str()).sql(", ").int(held.chat_id)
                .sql(", ").int(held.user_id).sql(", 'submitted', ").int(at).sql(", ").int(at).sql(");\n");
        }
        // Not held back (see `Tx::apply`).
        Write::TicketWithdrawn { .. }
        | Write::TicketRated { .. }
        | Write::TicketComment { .. }
        | Write::Audit { .. } => {}
    }
}

/// The merchant a held-back write touches, and whether it changes the
/// user's hourly code count too.
fn write_touches(write: &Write) -> Option<(&MerchantId, bool)> {
    match write {
        Write::OtpIssued { merchant, .. } | Write::OtpRefunded { merchant } => {
            Some((merchant, true))
        }
        Write::OtpFailed { merchant }
        | Write::OtpLocked { merchant, .. }
        | Write::OtpConsumed { merchant }
        | Write::RequestCreated { merchant, .. } => Some((merchant, false)),
        Write::TicketWithdrawn { .. }
        | Write::TicketRated { .. }
        | Write::TicketComment { .. }
        | Write::Audit { .. } => None,
    }
}

/// The script that writes everything held back, the outbox last (its ids
/// come back with `RETURNING id`).
fn commit_script(dialect: Dialect, deferred: &Deferred) -> Script {
    let mut s = Script::new(dialect);
    let stored: Vec<&(InboxRow, i64)> = deferred.unapplied_stored().collect();
    insert_rows(
        &mut s,
        "inbox (update_id, chat_id, payload, received_at)",
        " ON CONFLICT (update_id) DO NOTHING",
        &stored,
        |s, (row, at)| {
            s.int(row.update_id).sql(", ").int(row.chat_id).sql(", ");
            s.text(&row.payload).sql(", ").int(*at);
        },
    );
    for chunk in deferred.sent.chunk_by(|a, b| a.1 == b.1) {
        for part in chunk.chunks(ROWS_PER_STATEMENT * 4) {
            s.sql("UPDATE outbox SET status = 'sent', sent_at = ")
                .int(part[0].1)
                .sql(", attempts = attempts + 1 WHERE id IN (")
                .ints(part.iter().map(|(id, _)| *id))
                .sql(");\n");
        }
    }
    for held in &deferred.writes {
        write_statements(&mut s, held);
    }
    let conversations: Vec<&ConversationRow> = deferred.last_conversations().collect();
    insert_rows(
        &mut s,
        "conversations (chat_id, user_id, lang, state, updated_at)",
        " ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, lang = excluded.lang, \
         state = excluded.state, updated_at = excluded.updated_at",
        &conversations,
        |s, row| {
            s.int(row.chat_id)
                .sql(", ")
                .int(row.user_id)
                .sql(", ")
                .text(row.lang);
            s.sql(", ").text(&row.state).sql(", ").int(row.updated_at);
        },
    );
    insert_rows(
        &mut s,
        "turns (chat_id, update_id, event, intent, input, state_before, state_after, at)",
        "",
        &deferred.turns,
        |s, row| {
            s.int(row.chat_id)
                .sql(", ")
                .opt_int(row.update_id)
                .sql(", ")
                .text(row.event);
            s.sql(", ")
                .opt_text(row.intent)
                .sql(", ")
                .opt_text(row.input.as_deref());
            s.sql(", ")
                .text(row.state_before)
                .sql(", ")
                .text(row.state_after);
            s.sql(", ").int(row.at);
        },
    );
    insert_rows(
        &mut s,
        "audit (at, actor, action, merchant_id, chat_id, detail)",
        "",
        &deferred.audit,
        |s, row| {
            s.int(row.at)
                .sql(", ")
                .text(&row.actor)
                .sql(", ")
                .text(&row.action);
            s.sql(", ")
                .opt_text(row.merchant.as_deref())
                .sql(", ")
                .opt_int(row.chat_id);
            s.sql(", ").text(&row.detail);
        },
    );
    for chunk in deferred.inbox_done.chunks(ROWS_PER_STATEMENT * 4) {
        s.sql("DELETE FROM inbox WHERE update_id IN (")
            .ints(chunk.iter().copied())
            .sql(");\n");
    }
    insert_rows(
        &mut s,
        "outbox (chat_id, ticket_id, payload, priority, status, attempts, next_attempt_at, created_at)",
        " RETURNING id",
        &deferred.outbox,
        |s, row| {
            s.int(row.chat_id)
                .sql(", ")
                .opt_int(row.ticket_id)
                .sql(", ")
                .text(&row.json);
            s.sql(", ")
                .int(row.priority)
                .sql(", 'pending', 0, ")
                .int(row.at)
                .sql(", ")
                .int(row.at);
        },
    );
    s
}

/// Runs `$body` with `$c` bound to the transaction's connection, after
/// writing what is held back (and forgetting the facts read so far: the
/// statement may change them).
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {{
        $tx.before_statement().await?;
        match &mut $tx.conn {
            TxConn::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            TxConn::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
            TxConn::Released => return Err(released()),
        }
    }};
}

/// Runs `$body` with `$qb` a fresh `QueryBuilder` for the transaction's
/// backend and `$c` its connection (after `before_statement`, as `with_tx!`).
macro_rules! with_builder {
    ($tx:expr, $init:expr, $qb:ident, $c:ident => $body:expr) => {{
        $tx.before_statement().await?;
        match &mut $tx.conn {
            TxConn::Sqlite(t, _) => {
                let $c = &mut **t;
                let mut $qb = sqlx::QueryBuilder::<Sqlite>::new($init);
                $body
            }
            TxConn::Postgres(t) => {
                let $c = &mut **t;
                let mut $qb = sqlx::QueryBuilder::<Postgres>::new($init);
                $body
            }
            TxConn::Released => return Err(released()),
        }
    }};
}

/// Runs a script in one round trip (opening the transaction with it if
/// nothing has yet) and returns what `$decode` makes of each row it returns.
macro_rules! script_rows {
    ($tx:expr, $script:expr, $row:ident => $decode:expr) => {{
        let sql = $tx.opening($script);
        match &mut $tx.conn {
            TxConn::Sqlite(t, _) => {
                let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut **t)
                    .await?;
                rows.iter()
                    .map(|$row| $decode)
                    .collect::<Result<Vec<_>, StoreError>>()?
            }
            TxConn::Postgres(t) => {
                let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut **t)
                    .await?;
                rows.iter()
                    .map(|$row| $decode)
                    .collect::<Result<Vec<_>, StoreError>>()?
            }
            TxConn::Released => return Err(released()),
        }
    }};
}

const HOUR_MS: i64 = 3_600_000;

/// An integer column of a script's row; `None` for a row without it (a
/// script's statements return rows of different shapes).
fn column_i64<R: Row>(row: &R, column: &str) -> Result<Option<i64>, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    match row.try_get::<i64, _>(column) {
        Ok(value) => Ok(Some(value)),
        Err(sqlx::Error::ColumnNotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A stored conversation; a row written by a future or broken version
/// starts over rather than failing forever.
fn decode_conversation(chat_id: i64, json: &str) -> Conversation {
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(chat_id, error = %e, "stored conversation unreadable, starting fresh");
        Conversation::default()
    })
}

/// The most recent requests of a merchant the unbinding flow looks at.
pub(super) const REQUESTS_PER_MERCHANT: i64 = 20;

/// Two statements: one row per (merchant, user) with the merchant, its code
/// state (each may be missing) and both hourly send counts; then each
/// merchant's latest requests.
fn facts_script(s: &mut Script, keys: &[&(MerchantId, i64)], hour_ago: i64) {
    s.sql("SELECT k.column1 AS key_merchant, CAST(k.column2 AS BIGINT) AS key_user, \
           m.name, m.phone, m.card_mask, m.bank_name, \
           o.merchant_id AS otp_merchant, o.code_hash, o.expires_at, o.failures, o.locked_until, o.last_sent_at, \
           (SELECT COUNT(*) FROM otp_sends WHERE merchant_id = k.column1 AND sent_at > ")
        .int(hour_ago)
        .sql(") AS merchant_sends, (SELECT COUNT(*) FROM otp_sends WHERE user_id = k.column2 AND sent_at > ")
        .int(hour_ago)
        .sql(") AS user_sends FROM (VALUES ");
    for (i, (merchant, user)) in keys.iter().enumerate() {
        s.sql(if i == 0 { "(" } else { ", (" });
        s.text(merchant.as_str()).sql(", ").int(*user).sql(")");
    }
    s.sql(
        ") AS k LEFT JOIN merchants m ON m.merchant_id = k.column1 \
           LEFT JOIN otp_state o ON o.merchant_id = k.column1;\n",
    );
    s.sql(
        "SELECT merchant_id AS request_merchant, reference, status, created_at FROM (\
           SELECT merchant_id, reference, status, created_at, \
           ROW_NUMBER() OVER (PARTITION BY merchant_id ORDER BY created_at DESC) AS n \
           FROM unbind_requests WHERE merchant_id IN (",
    );
    let mut merchants: Vec<&str> = keys.iter().map(|(m, _)| m.as_str()).collect();
    merchants.sort_unstable();
    merchants.dedup();
    for (i, merchant) in merchants.iter().enumerate() {
        if i > 0 {
            s.sql(", ");
        }
        s.text(merchant);
    }
    s.sql(")) AS latest WHERE n <= ")
        .int(REQUESTS_PER_MERCHANT)
        .sql(" ORDER BY request_merchant, created_at DESC;\n");
}

/// A row of `facts_script`.
enum FactsRow {
    /// The facts of (merchant, user), requests not yet filled in.
    Merchant((String, i64), MerchantFacts),
    /// One of a merchant's requests (`None`: unreadable, skipped).
    Request(String, Option<RequestSummary>),
}

fn facts_row<R: Row>(r: &R) -> Result<FactsRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    if let Ok(merchant) = r.try_get::<String, _>("request_merchant") {
        let request = match (
            Reference::parse(&r.try_get::<String, _>("reference")?),
            RequestStatus::parse(&r.try_get::<String, _>("status")?),
        ) {
            (Some(reference), Some(status)) => Some(RequestSummary {
                reference,
                status,
                created_at: r.try_get("created_at")?,
            }),
            _ => None,
        };
        return Ok(FactsRow::Request(merchant, request));
    }
    let key_merchant: String = r.try_get("key_merchant")?;
    let key_user: i64 = r.try_get("key_user")?;
    let merchant = match (
        r.try_get::<Option<String>, _>("name")?,
        r.try_get::<Option<String>, _>("phone")?,
        r.try_get::<Option<String>, _>("card_mask")?,
        r.try_get::<Option<String>, _>("bank_name")?,
    ) {
        (Some(name), Some(phone), Some(card), Some(bank)) => Some(MerchantRecord {
            name,
            phone: Phone::from_trusted(phone),
            card: MaskedCard::from_trusted(card),
            bank,
        }),
        _ => None,
    };
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let merchant_sends = count(r.try_get("merchant_sends")?);
    let otp = match r.try_get::<Option<String>, _>("otp_merchant")? {
        Some(_) => OtpFacts {
            code_hash: r.try_get("code_hash")?,
            expires_at: r.try_get("expires_at")?,
            failures: count(r.try_get::<Option<i64>, _>("failures")?.unwrap_or(0)),
            locked_until: r.try_get("locked_until")?,
            last_sent_at: r.try_get("last_sent_at")?,
            sends_last_hour: merchant_sends,
        },
        None => OtpFacts {
            sends_last_hour: merchant_sends,
            ..OtpFacts::default()
        },
    };
    let merchant_id = MerchantId::from_trusted(key_merchant.clone());
    Ok(FactsRow::Merchant(
        (key_merchant, key_user),
        MerchantFacts {
            merchant_id,
            merchant,
            otp,
            user_sends_last_hour: count(r.try_get("user_sends")?),
            requests: Vec::new(),
        },
    ))
}

/// What `Tx::claim_and_load` found.
#[derive(Debug, Default)]
pub struct ClaimedChats {
    /// Update ids claimed now (not applied before).
    pub fresh: std::collections::HashSet<i64>,
    /// Stored conversations by chat.
    pub conversations: std::collections::HashMap<i64, Conversation>,
    /// Open (or claimed) tickets by chat.
    pub tickets: std::collections::HashMap<i64, TicketView>,
}

/// PostgreSQL: transaction-scoped locks on chats, in ascending order
/// (volatile functions in the select list run after ORDER BY).
fn lock_statement(s: &mut Script, chat_ids: &[i64]) {
    if chat_ids.is_empty() {
        return;
    }
    s.sql("SELECT pg_advisory_xact_lock(chats.column1) AS locked FROM (VALUES ");
    for (i, id) in chat_ids.iter().enumerate() {
        s.sql(if i == 0 { "(" } else { ", (" });
        s.int(*id).sql("::int8)");
    }
    s.sql(") AS chats ORDER BY chats.column1;\n");
}

/// A row of `claim_and_load`'s script.
enum ClaimRow {
    Claimed(i64),
    Chat(i64, String, Option<i64>, Option<String>),
    Other,
}

fn claim_or_chat_row<R: Row>(r: &R) -> Result<ClaimRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    if let Some(update_id) = column_i64(r, "claimed")? {
        return Ok(ClaimRow::Claimed(update_id));
    }
    if let Some(chat_id) = column_i64(r, "conversation_of")? {
        return Ok(ClaimRow::Chat(
            chat_id,
            r.try_get("state")?,
            r.try_get("ticket_id")?,
            r.try_get("assignee_name")?,
        ));
    }
    Ok(ClaimRow::Other)
}

/// The JSON of the row that has `column` among a SQLite batch's answers
/// (each gathered statement answers with one), decoded; `None` if no row
/// has it.
fn gathered<T: serde::de::DeserializeOwned>(
    answer: &[sqlx::sqlite::SqliteRow],
    column: &str,
) -> Result<Option<T>, StoreError> {
    answer
        .iter()
        .find_map(|row| row.try_get::<String, _>(column).ok())
        .map(|json| serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// The rows of a SQLite claim-and-load batch (`already_applied`, `chats`)
/// as `ClaimRow`s.
fn claim_rows_of_batch(
    answer: &[sqlx::sqlite::SqliteRow],
    updates: &[(i64, i64)],
) -> Result<Vec<ClaimRow>, StoreError> {
    let already: std::collections::HashSet<i64> =
        gathered(answer, "already_applied")?.unwrap_or_default();
    let chats: Vec<(i64, String, Option<i64>, Option<String>)> =
        gathered(answer, "chats")?.unwrap_or_default();
    let mut rows: Vec<ClaimRow> = updates
        .iter()
        .filter(|(update_id, _)| !already.contains(update_id))
        .map(|(update_id, _)| ClaimRow::Claimed(*update_id))
        .collect();
    rows.extend(
        chats
            .into_iter()
            .map(|(chat, state, ticket, assignee)| ClaimRow::Chat(chat, state, ticket, assignee)),
    );
    Ok(rows)
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.begun && !self.finished {
            // Dropped mid-transaction (an error or a cancelled task):
            // nothing of it may reach the next user of the connection.
            self.close_connection_on_drop();
        }
    }
}

impl Tx {
    /// A transaction over a connection (`BEGIN` goes with its first statement).
    pub(super) fn new(conn: TxConn) -> Tx {
        Tx {
            conn,
            begun: false,
            finished: false,
            deferred: Deferred::default(),
            facts: std::collections::HashMap::new(),
            keeper: None,
        }
    }

    /// A transaction whose connection goes to `keeper` after a successful
    /// commit.
    pub(super) fn kept_by(mut self, keeper: std::sync::Arc<ConnKeeper>) -> Tx {
        self.keeper = Some(keeper);
        self
    }

    fn dialect(&self) -> Dialect {
        match self.conn {
            TxConn::Sqlite(..) | TxConn::Released => Dialect::Sqlite,
            TxConn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQL of `script`, preceded by `BEGIN` if the transaction is not
    /// open yet (SQLite: `BEGIN IMMEDIATE`, so the write lock is taken up
    /// front and a busy database waits instead of failing mid-transaction).
    fn opening(&mut self, script: Script) -> String {
        if self.begun {
            return script.into_sql();
        }
        self.begun = true;
        let begin = match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE;\n",
            Dialect::Postgres => "BEGIN;\n",
        };
        let mut sql = String::from(begin);
        sql.push_str(&script.into_sql());
        sql
    }

    /// Writes the held-back rows and commits, in one round trip. Returns the
    /// messages it queued (for handing them to the sender without reading
    /// them back).
    pub async fn commit(mut self) -> Result<Vec<OutboxRow>, StoreError> {
        let result = self.flush_and_commit().await;
        if result.is_err() {
            self.rollback_now().await;
        }
        self.finished = true;
        if result.is_ok()
            && let Some(keeper) = self.keeper.take()
        {
            match std::mem::replace(&mut self.conn, TxConn::Released) {
                TxConn::Sqlite(conn, _write_lock) => keeper.keep(KeptConn::Sqlite(conn)),
                TxConn::Postgres(conn) => keeper.keep(KeptConn::Postgres(conn)),
                TxConn::Released => {}
            }
        }
        result
    }

    /// Rolls back (held-back rows are dropped with it).
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        self.rollback_now().await;
        Ok(())
    }

    /// Rolls back if open; if even that fails, the connection is closed
    /// (which rolls back) instead of going back to the pool.
    async fn rollback_now(&mut self) {
        if !self.begun || self.finished {
            return;
        }
        self.finished = true;
        let rolled_back = match &mut self.conn {
            TxConn::Sqlite(t, _) => sqlx::raw_sql("ROLLBACK").execute(&mut **t).await.is_ok(),
            TxConn::Postgres(t) => sqlx::raw_sql("ROLLBACK").execute(&mut **t).await.is_ok(),
            TxConn::Released => true,
        };
        if !rolled_back {
            self.close_connection_on_drop();
        }
    }

    fn close_connection_on_drop(&mut self) {
        match &mut self.conn {
            TxConn::Sqlite(t, _) => t.close_on_drop(),
            TxConn::Postgres(t) => t.close_on_drop(),
            TxConn::Released => {}
        }
    }

    /// Before any statement but the batched ones: opens the transaction,
    /// writes the held-back writes (so the statement sees them) and forgets
    /// the facts read so far (the statement may change them).
    pub(super) async fn before_statement(&mut self) -> Result<(), StoreError> {
        self.facts.clear();
        self.write_held().await
    }

    /// A script starting with the held-back writes (which it takes): every
    /// statement sent after them must see them.
    fn take_held_writes(&mut self) -> Script {
        let mut script = Script::new(self.dialect());
        for held in std::mem::take(&mut self.deferred.writes) {
            write_statements(&mut script, &held);
        }
        script
    }

    /// Opens the transaction if needed and writes the held-back unbinding
    /// writes, in one round trip.
    async fn write_held(&mut self) -> Result<(), StoreError> {
        if self.begun && self.deferred.writes.is_empty() {
            return Ok(());
        }
        let script = self.take_held_writes();
        script_rows!(self, script, _row => Ok(()));
        Ok(())
    }

    /// Whether a read goes as a SQLite batch: on SQLite, with no held-back
    /// writes to send first (those go as a literal script, in order).
    fn reads_as_sqlite_batch(&self) -> bool {
        matches!(self.conn, TxConn::Sqlite(..)) && self.deferred.writes.is_empty()
    }

    /// Runs a SQLite batch in one round trip (opening the transaction with
    /// it if the batch says so); the connection prepares its statements once
    /// and keeps them.
    async fn run_sqlite_batch(
        &mut self,
        batch: super::json_batch::JsonBatch,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, StoreError> {
        let TxConn::Sqlite(conn, _) = &mut self.conn else {
            return Err(released());
        };
        self.begun = true;
        let mut query = sqlx::query(sqlx::AssertSqlSafe(batch.sql));
        for arg in batch.args {
            query = query.bind(arg);
        }
        Ok(query.persistent(true).fetch_all(&mut **conn).await?)
    }

    /// Writes everything held back and commits, in one round trip.
    async fn flush_and_commit(&mut self) -> Result<Vec<OutboxRow>, StoreError> {
        let deferred = std::mem::take(&mut self.deferred);
        if deferred.is_empty() && !self.begun {
            return Ok(Vec::new());
        }
        let sqlite_batch = match self.conn {
            TxConn::Sqlite(..) => super::json_batch::commit_batch(!self.begun, &deferred)?,
            _ => None,
        };
        let mut ids: Vec<i64> = match sqlite_batch {
            Some(batch) => {
                let answer = self.run_sqlite_batch(batch).await?;
                gathered(&answer, "queued_ids")?.unwrap_or_default()
            }
            None => {
                let mut script = commit_script(self.dialect(), &deferred);
                script.sql("COMMIT;\n");
                script_rows!(self, script, r => column_i64(r, "id"))
                    .into_iter()
                    .flatten()
                    .collect()
            }
        };
        self.finished = true;
        // Ids are handed out in the order of the rows (neither RETURNING
        // nor the SQLite batch's answer promises an order).
        ids.sort_unstable();
        if ids.len() != deferred.outbox.len() {
            return Err(StoreError::Corrupt(
                "outbox insert returned a wrong number of ids".into(),
            ));
        }
        Ok(ids
            .into_iter()
            .zip(deferred.outbox)
            .map(|(id, row)| OutboxRow {
                id,
                chat_id: row.chat_id,
                ticket_id: row.ticket_id,
                payload: row.payload,
                attempts: 0,
                priority: row.priority,
            })
            .collect())
    }

    /// Stores updates in the inbox (at commit; already stored ones are
    /// ignored).
    pub fn inbox_put_many(&mut self, rows: &[InboxRow], now: i64) {
        self.deferred
            .stored
            .extend(rows.iter().map(|row| (row.clone(), now)));
    }

    /// Marks messages sent (at commit).
    pub fn outbox_sent(&mut self, ids: &[i64], now: i64) {
        self.deferred.sent.extend(ids.iter().map(|id| (*id, now)));
    }

    /// PostgreSQL: serialises turns of one chat across replicas until commit.
    /// SQLite: a no-op, the write lock already serialises everything.
    pub async fn lock_chat(&mut self, chat_id: i64) -> Result<(), StoreError> {
        self.lock_chats(&[chat_id]).await
    }

    /// `lock_chat` for several chats at once, taken in ascending order so two
    /// replicas locking overlapping sets cannot deadlock.
    pub async fn lock_chats(&mut self, chat_ids: &[i64]) -> Result<(), StoreError> {
        if self.dialect() == Dialect::Postgres {
            let mut script = Script::new(Dialect::Postgres);
            lock_statement(&mut script, chat_ids);
            script_rows!(self, script, _row => Ok(()));
        }
        Ok(())
    }

    /// Opens a batch of turns in one round trip: locks their chats (on
    /// PostgreSQL), claims their update ids (`updates`: update id, chat id)
    /// and loads their conversations and open (or claimed) tickets. Returns
    /// the update ids that were new, the conversations (new chats are
    /// absent) and the tickets. A ticket is only ever opened by a turn,
    /// which saves its chat's conversation in the same transaction, so a
    /// chat with no conversation has no ticket.
    pub async fn claim_and_load(
        &mut self,
        chat_ids: &[i64],
        updates: &[(i64, i64)],
        now: i64,
    ) -> Result<ClaimedChats, StoreError> {
        self.facts.clear();
        let rows = if self.reads_as_sqlite_batch() {
            let batch =
                super::json_batch::claim_and_load_batch(!self.begun, updates, chat_ids, now)?;
            let answer = self.run_sqlite_batch(batch).await?;
            claim_rows_of_batch(&answer, updates)?
        } else {
            self.claim_and_load_script(chat_ids, updates, now).await?
        };
        let mut claimed = ClaimedChats::default();
        let mut open = Vec::new();
        for row in rows {
            match row {
                ClaimRow::Claimed(update_id) => {
                    claimed.fresh.insert(update_id);
                }
                ClaimRow::Chat(chat_id, json, ticket, assignee) => {
                    claimed
                        .conversations
                        .insert(chat_id, decode_conversation(chat_id, &json));
                    if let Some(ticket) = ticket {
                        open.push((chat_id, ticket, assignee));
                    }
                }
                ClaimRow::Other => {}
            }
        }
        for row in &self.deferred.conversations {
            if chat_ids.contains(&row.chat_id) {
                claimed
                    .conversations
                    .insert(row.chat_id, decode_conversation(row.chat_id, &row.state));
            }
        }
        for (chat_id, id, assignee) in open {
            let position = self.queue_position(id).await?;
            claimed.tickets.insert(
                chat_id,
                TicketView {
                    id,
                    assignee,
                    position,
                },
            );
        }
        Ok(claimed)
    }

    /// `claim_and_load`'s statements as a literal script (PostgreSQL, or
    /// SQLite behind held-back writes).
    async fn claim_and_load_script(
        &mut self,
        chat_ids: &[i64],
        updates: &[(i64, i64)],
        now: i64,
    ) -> Result<Vec<ClaimRow>, StoreError> {
        let mut script = self.take_held_writes();
        if self.dialect() == Dialect::Postgres {
            lock_statement(&mut script, chat_ids);
        }
        for chunk in updates.chunks(ROWS_PER_STATEMENT) {
            script.sql("INSERT INTO processed_updates (update_id, chat_id, processed_at) VALUES ");
            for (i, (update_id, chat_id)) in chunk.iter().enumerate() {
                script.sql(if i == 0 { "(" } else { ", (" });
                script
                    .int(*update_id)
                    .sql(", ")
                    .int(*chat_id)
                    .sql(", ")
                    .int(now)
                    .sql(")");
            }
            script.sql(" ON CONFLICT (update_id) DO NOTHING RETURNING update_id AS claimed;\n");
        }
        for chunk in chat_ids.chunks(ROWS_PER_STATEMENT * 4) {
            script.sql(
                "SELECT c.chat_id AS conversation_of, c.state, t.id AS ticket_id, t.assignee_name \
                 FROM conversations c LEFT JOIN tickets t ON t.chat_id = c.chat_id AND t.status IN ('open', 'claimed') \
                 WHERE c.chat_id IN (",
            );
            script.ints(chunk.iter().copied()).sql(");\n");
        }
        Ok(script_rows!(self, script, r => claim_or_chat_row(r)))
    }

    /// The stored conversations of several chats (new chats are absent).
    pub async fn load_conversations(
        &mut self,
        chat_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Conversation>, StoreError> {
        let mut found = std::collections::HashMap::new();
        for chunk in chat_ids.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<(i64, String)> = with_builder!(self, "SELECT chat_id, state FROM conversations WHERE chat_id IN (", qb, c => {
                let mut ids = qb.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                qb.push(")");
                let rows = qb.build().persistent(false).fetch_all(c).await?;
                rows.iter().map(|r| Ok::<_, sqlx::Error>((r.try_get("chat_id")?, r.try_get("state")?))).collect::<Result<Vec<_>, _>>()?
            });
            for (chat_id, json) in rows {
                found.insert(chat_id, decode_conversation(chat_id, &json));
            }
        }
        for row in &self.deferred.conversations {
            if chat_ids.contains(&row.chat_id) {
                found.insert(row.chat_id, decode_conversation(row.chat_id, &row.state));
            }
        }
        Ok(found)
    }

    /// Removes an applied update from the inbox (at commit).
    pub fn inbox_done(&mut self, update_id: i64) {
        self.deferred.inbox_done.push(update_id);
    }

    /// Records `update_id` as processed; `false` if it already was.
    pub async fn claim_update(
        &mut self,
        update_id: i64,
        chat_id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = with_tx!(self, c => sqlx::query(
            "INSERT INTO processed_updates (update_id, chat_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT (update_id) DO NOTHING",
        )
        .bind(update_id)
        .bind(chat_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }

    /// The conversation of a chat, or `None` for a new chat.
    pub async fn load_conversation(
        &mut self,
        chat_id: i64,
    ) -> Result<Option<Conversation>, StoreError> {
        Ok(self.load_conversations(&[chat_id]).await?.remove(&chat_id))
    }

    /// Saves a conversation.
    pub fn save_conversation(
        &mut self,
        chat_id: i64,
        user_id: i64,
        conversation: &Conversation,
        lang: Lang,
        now: i64,
    ) -> Result<(), StoreError> {
        let state =
            serde_json::to_string(conversation).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.deferred.conversations.push(ConversationRow {
            chat_id,
            user_id,
            lang: lang.as_str(),
            state,
            updated_at: now,
        });
        Ok(())
    }

    /// The language a chat last used (for notifications), default Chinese.
    pub async fn chat_lang(&mut self, chat_id: i64) -> Result<Lang, StoreError> {
        if let Some(row) = self
            .deferred
            .conversations
            .iter()
            .rev()
            .find(|row| row.chat_id == chat_id)
        {
            return Ok(Lang::parse(row.lang).unwrap_or_default());
        }
        let stored: Option<String> = with_tx!(self, c => match sqlx::query("SELECT lang FROM conversations WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(c)
            .await? {
            Some(row) => row.try_get::<Option<String>, _>("lang")?,
            None => None,
        });
        let lang = stored.as_deref().and_then(Lang::parse).unwrap_or_default();
        Ok(lang)
    }

    /// Appends a turn to the record.
    #[allow(clippy::too_many_arguments)]
    pub fn record_turn(
        &mut self,
        chat_id: i64,
        update_id: Option<i64>,
        event: &'static str,
        intent: Option<&'static str>,
        input: Option<String>,
        state_before: &'static str,
        state_after: &'static str,
        now: i64,
    ) {
        self.deferred.turns.push(TurnRow {
            chat_id,
            update_id,
            event,
            intent,
            input,
            state_before,
            state_after,
            at: now,
        });
    }

    /// Queues a message (written at commit, in the order queued).
    pub fn enqueue(
        &mut self,
        chat_id: i64,
        ticket_id: Option<i64>,
        payload: &OutboxPayload,
        priority: Priority,
        now: i64,
    ) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.deferred.outbox.push(QueuedRow {
            chat_id,
            ticket_id,
            json,
            payload: payload.clone(),
            priority: priority as i64,
            at: now,
        });
        Ok(())
    }

    /// Everything the unbinding flow needs about a merchant number (from
    /// the facts already read in this transaction when nothing changed them).
    pub async fn merchant_facts(
        &mut self,
        merchant: &MerchantId,
        user_id: i64,
        now: i64,
    ) -> Result<MerchantFacts, StoreError> {
        let key = (merchant.as_str().to_string(), user_id);
        if let Some(facts) = self.facts.get(&key) {
            return Ok(facts.clone());
        }
        self.read_facts(&[(merchant.clone(), user_id)], now).await?;
        self.facts
            .get(&key)
            .cloned()
            .ok_or_else(|| StoreError::Corrupt("merchant facts missing".into()))
    }

    /// Reads the facts of several merchants (each for the user asking) in
    /// one round trip and keeps them for `merchant_facts`.
    pub async fn read_facts(
        &mut self,
        keys: &[(MerchantId, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        let keys: Vec<&(MerchantId, i64)> = keys
            .iter()
            .filter(|(m, u)| !self.facts.contains_key(&(m.as_str().to_string(), *u)))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let rows = if self.reads_as_sqlite_batch() {
            let keys: Vec<(&str, i64, i64)> = keys
                .iter()
                .map(|(m, u)| (m.as_str(), *u, now - HOUR_MS))
                .collect();
            let batch = super::json_batch::facts_batch(!self.begun, &keys)?;
            self.run_sqlite_batch(batch)
                .await?
                .iter()
                .map(facts_row)
                .collect::<Result<Vec<_>, _>>()?
        } else {
            // Held-back writes first, in the same round trip: the facts
            // must show them.
            let mut script = self.take_held_writes();
            facts_script(&mut script, &keys, now - HOUR_MS);
            script_rows!(self, script, r => facts_row(r))
        };
        let mut requests: std::collections::HashMap<String, Vec<RequestSummary>> =
            std::collections::HashMap::new();
        let mut found = Vec::new();
        for row in rows {
            match row {
                FactsRow::Merchant(key, facts) => found.push((key, facts)),
                FactsRow::Request(merchant, request) => {
                    requests.entry(merchant).or_default().extend(request)
                }
            }
        }
        for ((merchant, user_id), mut facts) in found {
            facts.requests = requests.get(&merchant).cloned().unwrap_or_default();
            self.facts.insert((merchant, user_id), facts);
        }
        Ok(())
    }

    /// Applies one of the core's writes. The unbinding flow's writes are
    /// held back until the next statement or the commit.
    pub async fn apply(
        &mut self,
        write: &Write,
        chat_id: i64,
        user_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some((merchant, counts_user)) = write_touches(write) {
            self.facts
                .retain(|(m, u), _| m != merchant.as_str() && !(counts_user && *u == user_id));
            self.deferred.writes.push(HeldWrite {
                write: write.clone(),
                chat_id,
                user_id,
                at: now,
            });
            return Ok(());
        }
        match write {
            Write::TicketWithdrawn { ticket } => {
                with_tx!(self, c => sqlx::query(
                    "UPDATE tickets SET status = 'withdrawn', closed_at = $2 WHERE id = $1 AND status = 'open'",
                ).bind(ticket).bind(now).execute(c).await.map(|_| ()))?;
            }
            Write::TicketRated { ticket, score } => with_tx!(self, c => sqlx::query(
                "UPDATE tickets SET rating = $2 WHERE id = $1 AND status = 'closed' AND chat_id = $3",
            ).bind(ticket).bind(i64::from(*score)).bind(chat_id).execute(c).await.map(|_| ()))?,
            Write::TicketComment { ticket, comment } => with_tx!(self, c => sqlx::query(
                "UPDATE tickets SET comment = $2 WHERE id = $1 AND status = 'closed' AND chat_id = $3",
            ).bind(ticket).bind(comment).bind(chat_id).execute(c).await.map(|_| ()))?,
            Write::Audit {
                action,
                merchant,
                detail,
            } => {
                self.audit(
                    &format!("user:{user_id}"),
                    action,
                    merchant.as_ref().map(MerchantId::as_str),
                    Some(chat_id),
                    detail,
                    now,
                )
                .await?
            }
            // Held back above.
            Write::OtpIssued { .. }
            | Write::OtpRefunded { .. }
            | Write::OtpFailed { .. }
            | Write::OtpLocked { .. }
            | Write::OtpConsumed { .. }
            | Write::RequestCreated { .. } => {}
        }
        Ok(())
    }

    /// Appends to the audit trail (written at commit).
    pub async fn audit(
        &mut self,
        actor: &str,
        action: &str,
        merchant: Option<&str>,
        chat_id: Option<i64>,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.deferred.audit.push(AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: action.to_string(),
            merchant: merchant.map(str::to_string),
            chat_id,
            detail: detail.to_string(),
        });
        Ok(())
    }

    /// The open (or claimed) ticket of a chat with its queue position.
    pub async fn open_ticket_of_chat(
        &mut self,
        chat_id: i64,
    ) -> Result<Option<TicketView>, StoreError> {
        let found: Option<(i64, Option<String>)> = with_tx!(self, c => match sqlx::query(
            "SELECT id, assignee_name FROM tickets WHERE chat_id = $1 AND status IN ('open', 'claimed')",
        ).bind(chat_id).fetch_optional(c).await? {
            Some(row) => Some((row.try_get("id")?, row.try_get("assignee_name")?)),
            None => None,
        });
        let Some((id, assignee)) = found else {
            return Ok(None);
        };
        let position = self.queue_position(id).await?;
        Ok(Some(TicketView {
            id,
            assignee,
            position,
        }))
    }

    async fn queue_position(&mut self, ticket: i64) -> Result<u32, StoreError> {
        let n: i64 = with_tx!(self, c => sqlx::query(
            "SELECT COUNT(*) AS n FROM tickets WHERE status = 'open' AND id <= $1",
        ).bind(ticket).fetch_one(c).await?.try_get("n"))?;
        Ok(u32::try_from(n.max(1)).unwrap_or(u32::MAX))
    }

    /// Opens a ticket for a chat (the caller checked none is open).
    #[allow(clippy::too_many_arguments)]
    pub async fn open_ticket(
        &mut self,
        chat_id: i64,
        user_id: i64,
        user_name: &str,
        merchant: Option<&str>,
        lang: Lang,
        reason: TicketReason,
        staff_chat: bool,
        now: i64,
    ) -> Result<TicketOpened, StoreError> {
        let id: i64 = with_tx!(self, c => sqlx::query(
            "INSERT INTO tickets (chat_id, user_id, user_name, merchant_id, lang, reason, status, opened_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id",
        )
        .bind(chat_id).bind(user_id).bind(user_name).bind(merchant).bind(lang.as_str()).bind(reason.as_str()).bind(now)
        .fetch_one(c).await?.try_get("id")?);
        let position = self.queue_position(id).await?;
        Ok(TicketOpened {
            id,
            position,
            staff_chat,
        })
    }

    /// Tickets opened since `since` (topic-creation guard).
    pub async fn tickets_opened_since(&mut self, since: i64) -> Result<i64, StoreError> {
        Ok(
            with_tx!(self, c => sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE opened_at > $1")
            .bind(since).fetch_one(c).await?.try_get("n"))?,
        )
    }

    /// Appends to a ticket's transcript.
    pub async fn ticket_message(
        &mut self,
        ticket: i64,
        direction: &str,
        author: &str,
        body: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.ticket_message_with_id(ticket, direction, author, body, None, now)
            .await
    }

    /// Appends to a ticket's transcript, remembering the merchant's message id.
    pub async fn ticket_message_with_id(
        &mut self,
        ticket: i64,
        direction: &str,
        author: &str,
        body: &str,
        message_id: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "INSERT INTO ticket_messages (ticket_id, direction, author, body, message_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
        ).bind(ticket).bind(direction).bind(author).bind(body).bind(message_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The transcript text of a merchant message in a ticket (its first version).
    pub async fn ticket_message_body(
        &mut self,
        ticket: i64,
        message_id: i64,
    ) -> Result<Option<String>, StoreError> {
        with_tx!(self, c => match sqlx::query(
            "SELECT body FROM ticket_messages WHERE ticket_id = $1 AND message_id = $2 AND direction = 'in' ORDER BY id LIMIT 1",
        ).bind(ticket).bind(message_id).fetch_optional(c).await? {
            Some(row) => Ok(Some(row.try_get::<String, _>("body")?)),
            None => Ok(None),
        })
    }

    /// The last `limit` turns' inputs of a chat, oldest first (already redacted).
    pub async fn recent_inputs(
        &mut self,
        chat_id: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut inputs: Vec<String> = with_tx!(self, c => sqlx::query(
            "SELECT input FROM turns WHERE chat_id = $1 AND input IS NOT NULL ORDER BY id DESC LIMIT $2",
        ).bind(chat_id).bind(limit).fetch_all(c).await?
            .into_iter()
            .filter_map(|r| r.try_get::<Option<String>, _>("input").ok().flatten())
            .collect());
        inputs.reverse();
        // Turns of this transaction not written yet come last.
        inputs.extend(
            self.deferred
                .turns
                .iter()
                .filter(|t| t.chat_id == chat_id)
                .filter_map(|t| t.input.clone()),
        );
        let keep = usize::try_from(limit).unwrap_or(0);
        if inputs.len() > keep {
            inputs.drain(..inputs.len() - keep);
        }
        Ok(inputs)
    }

    /// The newest request of a merchant: reference and status.
    pub async fn latest_request(
        &mut self,
        merchant: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        with_tx!(self, c => match sqlx::query(
            "SELECT reference, status FROM unbind_requests WHERE merchant_id = $1 ORDER BY created_at DESC LIMIT 1",
        ).bind(merchant).fetch_optional(c).await? {
            Some(r) => Ok(Some((r.try_get("reference")?, r.try_get("status")?))),
            None => Ok(None),
        })
    }

    /// Loads a full ticket row.
    pub async fn ticket(&mut self, id: i64) -> Result<Option<super::TicketRow>, StoreError> {
        with_tx!(self, c => sqlx::query(super::records::TICKET_SELECT_BY_ID).bind(id).fetch_optional(c).await?
            .map(|r| super::records::ticket_from_row(&r)).transpose())
    }

    /// Marks a ticket claimed.
    pub async fn claim_ticket(
        &mut self,
        id: i64,
        agent_id: i64,
        agent_name: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET status = 'claimed', assignee_id = $2, assignee_name = $3, claimed_at = $4 WHERE id = $1 AND status = 'open'",
        ).bind(id).bind(agent_id).bind(agent_name).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Marks a ticket closed.
    pub async fn close_ticket(&mut self, id: i64, now: i64) -> Result<bool, StoreError> {
        let n = with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET status = 'closed', closed_at = $2 WHERE id = $1 AND status IN ('open', 'claimed')",
        ).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The newest ticket of a staff forum topic.
    pub async fn ticket_by_thread(
        &mut self,
        thread_id: i64,
    ) -> Result<Option<super::TicketRow>, StoreError> {
        let id: Option<i64> = with_tx!(self, c => match sqlx::query(
            "SELECT id FROM tickets WHERE thread_id = $1 ORDER BY id DESC LIMIT 1",
        ).bind(thread_id).fetch_optional(c).await? {
            Some(row) => Some(row.try_get("id")?),
            None => None,
        });
        match id {
            Some(id) => self.ticket(id).await,
            None => Ok(None),
        }
    }

    /// Saves what a staff action changed of a ticket: status, owner, and
    /// the times of the claim and the close.
    pub async fn save_ticket(
        &mut self,
        ticket: &crate::tickets::Ticket,
        now: i64,
    ) -> Result<(), StoreError> {
        let (agent_id, agent_name) = match &ticket.assignee {
            Some(agent) => (Some(agent.id), Some(agent.name.as_str())),
            None => (None, None),
        };
        let claimed = ticket.assignee.is_some();
        with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET status = $2, assignee_id = $3, assignee_name = $4,
             claimed_at = CASE WHEN $5 THEN COALESCE(claimed_at, $6) ELSE claimed_at END,
             closed_at = $7 WHERE id = $1",
        ).bind(ticket.id).bind(ticket.status.as_str()).bind(agent_id).bind(agent_name)
        .bind(claimed).bind(now).bind(ticket.closed_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest ticket of a chat, whatever its status.
    pub async fn last_ticket_of_chat(
        &mut self,
        chat_id: i64,
    ) -> Result<Option<super::TicketRow>, StoreError> {
        let id: Option<i64> = with_tx!(self, c => match sqlx::query(
            "SELECT id FROM tickets WHERE chat_id = $1 ORDER BY id DESC LIMIT 1",
        ).bind(chat_id).fetch_optional(c).await? {
            Some(row) => Some(row.try_get("id")?),
            None => None,
        });
        match id {
            Some(id) => self.ticket(id).await,
            None => Ok(None),
        }
    }

    /// Links a new ticket to the chat's previous one.
    pub async fn link_previous_ticket(&mut self, id: i64) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "UPDATE tickets SET previous_ticket_id =
               (SELECT MAX(p.id) FROM tickets p WHERE p.chat_id = tickets.chat_id AND p.id < tickets.id)
             WHERE id = $1",
        ).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether a chat has an active ticket other than `except`.
    pub async fn other_active_ticket(
        &mut self,
        chat_id: i64,
        except: i64,
    ) -> Result<bool, StoreError> {
        with_tx!(self, c => Ok(sqlx::query(
            "SELECT 1 AS x FROM tickets WHERE chat_id = $1 AND id <> $2 AND status IN ('open', 'claimed') LIMIT 1",
        ).bind(chat_id).bind(except).fetch_optional(c).await?.is_some()))
    }

    /// Earlier tickets of a chat (before `before`), newest first: id, status, topic.
    pub async fn earlier_tickets(
        &mut self,
        chat_id: i64,
        before: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<i64>)>, StoreError> {
        with_tx!(self, c => {
            let rows = sqlx::query(
                "SELECT id, status, thread_id FROM tickets WHERE chat_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            ).bind(chat_id).bind(before).bind(limit).fetch_all(c).await?;
            rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("status")?, r.try_get("thread_id")?))).collect()
        })
    }

    /// Lifts a merchant's code-entry lock and forgets the wrong entries.
    pub async fn unlock_codes(&mut self, merchant: &str) -> Result<(), StoreError> {
        self.facts.retain(|(m, _), _| m != merchant);
        with_tx!(self, c => sqlx::query(
            "UPDATE otp_state SET failures = 0, locked_until = NULL WHERE merchant_id = $1",
        ).bind(merchant).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Remembers that an agent's next reply is the reason for rejecting a request.
    pub async fn await_reason(
        &mut self,
        agent_id: i64,
        reference: &str,
        ticket: Option<i64>,
        until: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "INSERT INTO staff_prompts (agent_id, reference, ticket_id, until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (agent_id) DO UPDATE SET reference = excluded.reference, ticket_id = excluded.ticket_id, until = excluded.until",
        ).bind(agent_id).bind(reference).bind(ticket).bind(until).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes an agent's pending rejection (if not expired): reference and ticket.
    pub async fn take_reason(
        &mut self,
        agent_id: i64,
        now: i64,
    ) -> Result<Option<(String, Option<i64>)>, StoreError> {
        let found: Option<(String, Option<i64>, i64)> = with_tx!(self, c => match sqlx::query(
            "SELECT reference, ticket_id, until FROM staff_prompts WHERE agent_id = $1",
        ).bind(agent_id).fetch_optional(c).await? {
            Some(r) => Some((r.try_get("reference")?, r.try_get("ticket_id")?, r.try_get("until")?)),
            None => None,
        });
        let Some((reference, ticket, until)) = found else {
            return Ok(None);
        };
        with_tx!(self, c => sqlx::query("DELETE FROM staff_prompts WHERE agent_id = $1")
            .bind(agent_id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok((until > now).then_some((reference, ticket)))
    }

    /// Loads a request for a status change, with its chat.
    pub async fn request_for_update(
        &mut self,
        reference: &str,
    ) -> Result<Option<super::RequestRow>, StoreError> {
        with_tx!(self, c => sqlx::query(super::records::REQUEST_SELECT_BY_REF).bind(reference).fetch_optional(c).await?
            .map(|r| super::records::request_from_row(&r)).transpose())
    }

    /// Sets a request's status.
    pub async fn set_request_status(
        &mut self,
        reference: &str,
        status: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "UPDATE unbind_requests SET status = $2, reason = $3, updated_at = $4 WHERE reference = $1",
        ).bind(reference).bind(status).bind(reason).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// A one-time code between the commit that issued it and the gateway's
/// answer (`otp_pending`; the code itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    /// The merchant the code is for.
    pub merchant_id: String,
    /// When it was issued (Unix ms); with the merchant, its key.
    pub issued_at: i64,
    /// The chat that asked for it.
    pub chat_id: i64,
    /// The Telegram user who asked for it.
    pub user_id: i64,
}

impl Tx {
    /// Records a code on its way to the gateway, committed with the turn
    /// that issued it. `deadline`: after it, a row still here means the
    /// delivery's outcome was lost (a crash), and any replica may say so.
    pub async fn code_pending(
        &mut self,
        code: &PendingCode,
        owner: &str,
        deadline: i64,
    ) -> Result<(), StoreError> {
        with_tx!(self, c => sqlx::query(
            "INSERT INTO otp_pending (merchant_id, issued_at, chat_id, user_id, owner, deadline) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (merchant_id, issued_at) DO NOTHING",
        ).bind(&code.merchant_id).bind(code.issued_at).bind(code.chat_id).bind(code.user_id).bind(owner).bind(deadline)
        .execute(c).await.map(|_| ()))?;
        Ok(())
    }

    /// Takes a pending code's row: `true` if this transaction removed it,
    /// `false` if its outcome was already recorded (by the delivery or by
    /// the sweep after a crash), so it must not be recorded twice.
    pub async fn take_code_pending(
        &mut self,
        merchant_id: &str,
        issued_at: i64,
    ) -> Result<bool, StoreError> {
        let removed = with_tx!(self, c => sqlx::query(
            "DELETE FROM otp_pending WHERE merchant_id = $1 AND issued_at = $2",
        ).bind(merchant_id).bind(issued_at).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(removed == 1)
    }
}
