//! One write transaction: the rows it writes (`Deferred`), held and written
//! by the one write path of `batch.rs`, the batch reads of a group of turns
//! (claim and load, merchant facts) and the connection it runs on.
//! Statements of their own (tickets, staff prompts, requests) are in
//! `statements.rs`.

use std::collections::{HashMap, HashSet};

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Row, Sqlite};

use crate::conversation::{
    Conversation, MerchantFacts, MerchantRecord, OtpFacts, RequestSummary, TicketView, Write,
};
use crate::domain::{Lang, MaskedCard, MerchantId, Phone, Reference, RequestStatus};

use super::StoreError;
use super::batch::{gathered, json};
use super::inbox::InboxRow;
use super::outbox::{OutboxPayload, OutboxRow, Priority};

/// An open write transaction on either backend. The rows it writes are held
/// in it (`Deferred`) and written by one statement per row kind at commit
/// (the core's unbinding writes before any other statement, so every read
/// sees them): a batch of turns costs a handful of round trips, not a
/// handful per turn.
pub struct Tx {
    pub(super) conn: TxConn,
    /// `BEGIN` was sent (or goes with the statement being sent).
    begun: bool,
    /// Committed or rolled back.
    finished: bool,
    deferred: Deferred,
    /// Merchant facts read in this transaction, by (merchant, user). A
    /// write drops those of its merchant and of its user; any statement of
    /// its own drops them all.
    facts: HashMap<(String, i64), MerchantFacts>,
    /// Where the connection goes after a successful commit (instead of
    /// back to the pool).
    keeper: Option<std::sync::Arc<super::kept::ConnKeeper>>,
}

/// The connection of a transaction. A transaction dropped unfinished closes
/// its connection (which rolls it back) rather than return it to the pool
/// mid-transaction.
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

/// Runs one of `batch.rs`'s statements (`$texts` the backend's `Texts`)
/// with its JSON arguments and gives `$then` its rows. PostgreSQL's
/// arguments lose their NULs first (`batch::without_nul`).
macro_rules! batch {
    ($tx:expr, $texts:ident => $sql:expr, $args:expr, $rows:ident => $then:expr) => {{
        let args: Vec<String> = $args;
        match &mut $tx.conn {
            TxConn::Sqlite(c, _) => {
                let $texts = &super::batch::SQLITE;
                let mut query = sqlx::query($sql);
                for arg in args {
                    query = query.bind(arg);
                }
                let $rows = query.fetch_all(&mut **c).await?;
                $then
            }
            TxConn::Postgres(c) => {
                let $texts = &super::batch::POSTGRES;
                let mut query = sqlx::query($sql);
                for arg in args {
                    query = query.bind(super::batch::without_nul(arg));
                }
                let $rows = query.fetch_all(&mut **c).await?;
                $then
            }
            TxConn::Released => return Err(released()),
        }
    }};
}

/// The rows a transaction writes, by kind, in the order of the arguments
/// `$1`–`$14` of `batch.rs`. The held ones (the core's unbinding writes)
/// are written before any other statement; the rest at commit.
#[derive(Default)]
pub(super) struct Deferred {
    held: Held,
    stored: Vec<(i64, i64, String, i64)>,
    sent: Vec<(i64, i64)>,
    conversations: Vec<ConversationRow>,
    turns: Vec<TurnRow>,
    audit: Vec<AuditRow>,
    inbox_done: Vec<i64>,
    codes_pending: Vec<(String, i64, i64, i64, String, i64)>,
    outbox: Vec<QueuedRow>,
}

/// The unbinding writes (`$1`–`$6`), held until the next statement.
#[derive(Default)]
struct Held {
    otp_issued: Vec<(String, String, i64, i64, i64)>,
    otp_refunded: Vec<(String,)>,
    otp_failed: Vec<(String,)>,
    otp_locked: Vec<(String, i64)>,
    otp_consumed: Vec<(String,)>,
    requests: Vec<(String, String, i64, i64, i64)>,
    /// Merchants whose code state one of the writes above changes.
    code_states: HashSet<String>,
}

/// `[at, actor, action, merchant, chat_id, detail]`.
type AuditRow = (i64, String, String, Option<String>, Option<i64>, String);

struct ConversationRow {
    chat_id: i64,
    user_id: i64,
    lang: &'static str,
    state: String,
    updated_at: i64,
}

/// `[chat_id, update_id, event, intent, input, state_before, state_after, at]`.
type TurnRow = (
    i64,
    Option<i64>,
    &'static str,
    Option<&'static str>,
    Option<String>,
    &'static str,
    &'static str,
    i64,
);

struct QueuedRow {
    chat_id: i64,
    ticket_id: Option<i64>,
    json: String,
    payload: OutboxPayload,
    priority: i64,
    at: i64,
}

impl Deferred {
    fn has_held(&self) -> bool {
        !self.held.code_states.is_empty() || !self.held.requests.is_empty()
    }

    fn is_empty(&self) -> bool {
        !self.has_held()
            && self.stored.is_empty()
            && self.sent.is_empty()
            && self.conversations.is_empty()
            && self.turns.is_empty()
            && self.audit.is_empty()
            && self.inbox_done.is_empty()
            && self.codes_pending.is_empty()
            && self.outbox.is_empty()
    }

    /// The held writes' arguments (`$1`–`$6`), which it forgets.
    fn take_held(&mut self) -> Result<Vec<String>, StoreError> {
        let h = std::mem::take(&mut self.held);
        Ok(vec![
            json(&h.otp_issued)?,
            json(&h.otp_refunded)?,
            json(&h.otp_failed)?,
            json(&h.otp_locked)?,
            json(&h.otp_consumed)?,
            json(&h.requests)?,
        ])
    }

    /// The arguments `$7`–`$14`.
    fn appended(&self) -> Result<Vec<String>, StoreError> {
        // Updates applied in this transaction need not be stored at all
        // (their deletion stays, for an older copy).
        let applied: HashSet<i64> = self.inbox_done.iter().copied().collect();
        let stored: Vec<_> = self
            .stored
            .iter()
            .filter(|row| !applied.contains(&row.0))
            .collect();
        // The last save of each chat (PostgreSQL refuses to upsert one key
        // twice in a statement).
        let last: HashMap<i64, usize> = self
            .conversations
            .iter()
            .enumerate()
            .map(|(i, c)| (c.chat_id, i))
            .collect();
        let conversations: Vec<_> = self
            .conversations
            .iter()
            .enumerate()
            .filter(|(i, c)| last.get(&c.chat_id) == Some(i))
            .map(|(_, c)| (c.chat_id, c.user_id, c.lang, &c.state, c.updated_at))
            .collect();
        let outbox: Vec<_> = self
            .outbox
            .iter()
            .map(|q| (q.chat_id, q.ticket_id, &q.json, q.priority, q.at))
            .collect();
        Ok(vec![
            json(&stored)?,
            json(&self.sent)?,
            json(&conversations)?,
            json(&self.turns)?,
            json(&self.audit)?,
            json(&self.inbox_done)?,
            json(&self.codes_pending)?,
            json(&outbox)?,
        ])
    }
}

/// A stored conversation; a row written by a future or broken version
/// starts over rather than failing forever.
pub(super) fn decode_conversation(chat_id: i64, json: &str) -> Conversation {
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(chat_id, error = %e, "stored conversation unreadable, starting fresh");
        Conversation::default()
    })
}

const HOUR_MS: i64 = 3_600_000;

/// A row of `facts.sql`: the facts of (merchant, user).
fn facts_row<R: Row>(r: &R) -> Result<((String, i64), MerchantFacts), StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
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
    let listed: Vec<(String, String, i64)> =
        serde_json::from_str(&r.try_get::<String, _>("requests")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // Unreadable rows are skipped; newest first.
    let mut requests: Vec<RequestSummary> = listed
        .into_iter()
        .filter_map(|(reference, status, created_at)| {
            Some(RequestSummary {
                reference: Reference::parse(&reference)?,
                status: RequestStatus::parse(&status)?,
                created_at,
            })
        })
        .collect();
    requests.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let merchant_id = MerchantId::from_trusted(key_merchant.clone());
    Ok((
        (key_merchant, key_user),
        MerchantFacts {
            merchant_id,
            merchant,
            otp,
            user_sends_last_hour: count(r.try_get("user_sends")?),
            requests,
        },
    ))
}

/// What `Tx::claim_and_load` found.
#[derive(Debug, Default)]
pub struct ClaimedChats {
    /// Update ids claimed now (not applied before).
    pub fresh: HashSet<i64>,
    /// Stored conversations by chat.
    pub conversations: HashMap<i64, Conversation>,
    /// Open (or claimed) tickets by chat.
    pub tickets: HashMap<i64, TicketView>,
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
            facts: HashMap::new(),
            keeper: None,
        }
    }

    /// A transaction whose connection goes to `keeper` after a successful
    /// commit.
    pub(super) fn kept_by(mut self, keeper: std::sync::Arc<super::kept::ConnKeeper>) -> Tx {
        self.keeper = Some(keeper);
        self
    }

    fn is_postgres(&self) -> bool {
        matches!(self.conn, TxConn::Postgres(_))
    }

    /// Before a statement that may open the transaction: `true` if it must
    /// (SQLite's `BEGIN IMMEDIATE` goes with the statement, so the write
    /// lock is taken up front; PostgreSQL's `BEGIN` is sent now).
    async fn opening(&mut self) -> Result<bool, StoreError> {
        if self.begun {
            return Ok(false);
        }
        self.begun = true;
        if self.is_postgres() {
            self.raw("BEGIN").await?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Runs a statement with no arguments and no answer (`BEGIN`, `COMMIT`…).
    async fn raw(&mut self, sql: &'static str) -> Result<(), StoreError> {
        match &mut self.conn {
            TxConn::Sqlite(c, _) => sqlx::raw_sql(sql).execute(&mut **c).await.map(|_| ())?,
            TxConn::Postgres(c) => sqlx::raw_sql(sql).execute(&mut **c).await.map(|_| ())?,
            TxConn::Released => return Err(released()),
        }
        Ok(())
    }

    /// Opens the transaction if it is not yet.
    async fn begin(&mut self) -> Result<(), StoreError> {
        if self.opening().await? {
            self.raw("BEGIN IMMEDIATE").await?;
        }
        Ok(())
    }

    /// Writes the held unbinding writes now (one statement per kind; the
    /// rest of the rows wait for the commit).
    async fn write_held(&mut self) -> Result<(), StoreError> {
        if !self.deferred.has_held() {
            return Ok(());
        }
        self.begin().await?;
        let mut args = self.deferred.take_held()?;
        args.extend(Deferred::default().appended()?);
        batch!(self, t => t.rows, args, _rows => ());
        Ok(())
    }

    /// Before a statement of its own: the transaction is open, the held
    /// writes written (the statement sees them) and the facts read so far
    /// forgotten (the statement may change them).
    pub(super) async fn before_statement(&mut self) -> Result<(), StoreError> {
        self.facts.clear();
        self.write_held().await?;
        self.begin().await
    }

    /// Writes every row and commits. Returns the messages it queued (for
    /// handing them to the sender without reading them back).
    pub async fn commit(mut self) -> Result<Vec<OutboxRow>, StoreError> {
        let result = self.write_and_commit().await;
        if result.is_err() {
            self.rollback_now().await;
        }
        self.finished = true;
        if result.is_ok()
            && let Some(keeper) = self.keeper.take()
        {
            match std::mem::replace(&mut self.conn, TxConn::Released) {
                TxConn::Sqlite(conn, _write_lock) => {
                    keeper.keep(super::kept::KeptConn::Sqlite(conn))
                }
                TxConn::Postgres(conn) => keeper.keep(super::kept::KeptConn::Postgres(conn)),
                TxConn::Released => {}
            }
        }
        result
    }

    /// Rolls back (held rows are dropped with it).
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
        let rolled_back =
            matches!(self.conn, TxConn::Released) || self.raw("ROLLBACK").await.is_ok();
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

    /// Writes everything held and commits: SQLite in one round trip
    /// (`BEGIN` too if nothing ran before); PostgreSQL in two (the rows,
    /// then `COMMIT`), or one when nothing ran before (a single statement
    /// is a transaction of its own).
    async fn write_and_commit(&mut self) -> Result<Vec<OutboxRow>, StoreError> {
        let mut deferred = std::mem::take(&mut self.deferred);
        if deferred.is_empty() {
            if self.begun {
                self.finished = true;
                self.raw("COMMIT").await?;
            }
            return Ok(Vec::new());
        }
        let mut args = deferred.take_held()?;
        args.extend(deferred.appended()?);
        let opening = !self.begun;
        self.begun = true;
        let mut ids: Vec<i64> = batch!(self, t => if opening { t.begin_rows_commit } else { t.rows_commit }, args,
            rows => gathered(&rows, "queued_ids")?.unwrap_or_default());
        if self.is_postgres() && !opening {
            self.raw("COMMIT").await?;
        }
        self.finished = true;
        // Ids are handed out in the order of the rows (neither answer
        // promises an order).
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
        self.deferred.stored.extend(
            rows.iter()
                .map(|row| (row.update_id, row.chat_id, row.payload.clone(), now)),
        );
    }

    /// Marks messages sent (at commit).
    pub fn outbox_sent(&mut self, ids: &[i64], now: i64) {
        self.deferred.sent.extend(ids.iter().map(|id| (*id, now)));
    }

    /// Removes an applied update from the inbox (at commit).
    pub fn inbox_done(&mut self, update_id: i64) {
        self.deferred.inbox_done.push(update_id);
    }

    /// PostgreSQL: serialises turns of one chat across replicas until commit.
    /// SQLite: a no-op, the write lock already serialises everything.
    pub async fn lock_chat(&mut self, chat_id: i64) -> Result<(), StoreError> {
        self.lock_chats(&[chat_id]).await
    }

    /// `lock_chat` for several chats at once, taken in ascending order so two
    /// replicas locking overlapping sets cannot deadlock.
    pub async fn lock_chats(&mut self, chat_ids: &[i64]) -> Result<(), StoreError> {
        if self.is_postgres() && !chat_ids.is_empty() {
            self.before_statement().await?;
            batch!(self, t => t.lock, vec![json(chat_ids)?], _rows => ());
        }
        Ok(())
    }

    /// Opens a batch of turns: locks their chats (on PostgreSQL), claims
    /// their update ids (`updates`: update id, chat id) and loads their
    /// conversations and open (or claimed) tickets. Returns the update ids
    /// that were new, the conversations (new chats are absent) and the
    /// tickets. A ticket is only ever opened by a turn, which saves its
    /// chat's conversation in the same transaction, so a chat with no
    /// conversation has no ticket.
    pub async fn claim_and_load(
        &mut self,
        chat_ids: &[i64],
        updates: &[(i64, i64)],
        now: i64,
    ) -> Result<ClaimedChats, StoreError> {
        self.facts.clear();
        self.write_held().await?;
        self.lock_chats(chat_ids).await?;
        let opening = self.opening().await?;
        let claims: Vec<(i64, i64, i64)> = updates.iter().map(|(u, c)| (*u, *c, now)).collect();
        let args = vec![json(&claims)?, json(chat_ids)?];
        type Chat = (i64, String, Option<i64>, Option<String>);
        type Answer = (Option<Vec<i64>>, Option<HashSet<i64>>, Option<Vec<Chat>>);
        let (claimed, already, chats): Answer = batch!(self, t => if opening { t.begin_claim } else { t.claim }, args, rows => (
            gathered(&rows, "claimed")?,
            gathered(&rows, "already_applied")?,
            gathered(&rows, "chats")?,
        ));
        let mut found = ClaimedChats {
            // PostgreSQL answers the ids it claimed, SQLite those applied
            // before (under its write lock, the rest are claimed now).
            fresh: match (claimed, already) {
                (Some(claimed), _) => claimed.into_iter().collect(),
                (None, already) => {
                    let already = already.unwrap_or_default();
                    updates
                        .iter()
                        .map(|(u, _)| *u)
                        .filter(|u| !already.contains(u))
                        .collect()
                }
            },
            ..ClaimedChats::default()
        };
        let mut open = Vec::new();
        for (chat_id, json, ticket, assignee) in chats.unwrap_or_default() {
            found
                .conversations
                .insert(chat_id, decode_conversation(chat_id, &json));
            if let Some(ticket) = ticket {
                open.push((chat_id, ticket, assignee));
            }
        }
        for row in &self.deferred.conversations {
            if chat_ids.contains(&row.chat_id) {
                found
                    .conversations
                    .insert(row.chat_id, decode_conversation(row.chat_id, &row.state));
            }
        }
        for (chat_id, id, assignee) in open {
            let position = self.queue_position(id).await?;
            found.tickets.insert(
                chat_id,
                TicketView {
                    id,
                    assignee,
                    position,
                },
            );
        }
        Ok(found)
    }

    /// The conversation saved in this transaction for a chat, if any.
    pub(super) fn saved_conversation(&self, chat_id: i64) -> Option<(Conversation, Lang)> {
        let row = self
            .deferred
            .conversations
            .iter()
            .rev()
            .find(|row| row.chat_id == chat_id)?;
        Some((
            decode_conversation(chat_id, &row.state),
            Lang::parse(row.lang).unwrap_or_default(),
        ))
    }

    /// Saves a conversation (at commit).
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

    /// Appends a turn to the record (at commit).
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
        self.deferred.turns.push((
            chat_id,
            update_id,
            event,
            intent,
            input,
            state_before,
            state_after,
            now,
        ));
    }

    /// The inputs of this transaction's turns of a chat not written yet.
    pub(super) fn unwritten_inputs(&self, chat_id: i64) -> impl Iterator<Item = String> + '_ {
        self.deferred
            .turns
            .iter()
            .filter(move |t| t.0 == chat_id)
            .filter_map(|t| t.4.clone())
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

    /// Appends to the audit trail (at commit).
    pub async fn audit(
        &mut self,
        actor: &str,
        action: &str,
        merchant: Option<&str>,
        chat_id: Option<i64>,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.deferred.audit.push((
            now,
            actor.to_string(),
            action.to_string(),
            merchant.map(str::to_string),
            chat_id,
            detail.to_string(),
        ));
        Ok(())
    }

    /// Records a code on its way to the gateway (at commit, with the turn
    /// that issued it). `deadline`: after it, a row still here means the
    /// delivery's outcome was lost (a crash), and any replica may say so.
    pub async fn code_pending(
        &mut self,
        code: &super::PendingCode,
        owner: &str,
        deadline: i64,
    ) -> Result<(), StoreError> {
        self.deferred.codes_pending.push((
            code.merchant_id.clone(),
            code.issued_at,
            code.chat_id,
            code.user_id,
            owner.to_string(),
            deadline,
        ));
        Ok(())
    }

    /// Takes the pending rows of codes whose delivery outcome is being
    /// recorded, in one statement: answers those this transaction took. A
    /// code not among them had its outcome recorded already (by the
    /// delivery, or by the sweep after the process that sent it died), so
    /// it must not be recorded twice.
    pub async fn take_codes_pending(
        &mut self,
        codes: &[(&str, i64)],
    ) -> Result<HashSet<(String, i64)>, StoreError> {
        let mut taken = HashSet::new();
        let mut rest = Vec::new();
        for (merchant, issued_at) in codes {
            // Still held in this transaction: taken without a statement.
            let before = self.deferred.codes_pending.len();
            self.deferred
                .codes_pending
                .retain(|c| !(c.0 == *merchant && c.1 == *issued_at));
            if self.deferred.codes_pending.len() < before {
                taken.insert(((*merchant).to_string(), *issued_at));
            } else {
                rest.push((*merchant, *issued_at));
            }
        }
        if rest.is_empty() {
            return Ok(taken);
        }
        self.before_statement().await?;
        let removed: Vec<(String, i64)> = batch!(self, t => t.take_codes, vec![json(&rest)?], rows => rows
            .iter()
            .map(|r| Ok((r.try_get("merchant_id")?, r.try_get("issued_at")?)))
            .collect::<Result<_, sqlx::Error>>()?);
        taken.extend(removed);
        Ok(taken)
    }

    /// Everything the unbinding flow needs about a merchant number (from
    /// the facts already read in this transaction, if no write dropped them).
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
    /// one round trip, after the held writes (SQLite: in the same one), and
    /// keeps them for `merchant_facts`.
    pub async fn read_facts(
        &mut self,
        keys: &[(MerchantId, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        let keys: Vec<(&str, i64, i64)> = keys
            .iter()
            .filter(|(m, u)| !self.facts.contains_key(&(m.as_str().to_string(), *u)))
            .map(|(m, u)| (m.as_str(), *u, now - HOUR_MS))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let keys = json(&keys)?;
        let args = if self.is_postgres() {
            self.write_held().await?;
            vec![keys]
        } else {
            let mut args = self.deferred.take_held()?;
            args.push(keys);
            args
        };
        self.begin().await?;
        let found = batch!(self, t => t.facts, args,
            rows => rows.iter().map(facts_row).collect::<Result<Vec<_>, _>>()?);
        self.facts.extend(found);
        Ok(())
    }

    /// Applies one of the core's writes. The unbinding flow's writes are
    /// held until the next statement or the commit, except a second change
    /// of one merchant's code state: the first is written at once, so the
    /// two keep their order. Facts read before the write that name its
    /// merchant or its user are dropped.
    pub async fn apply(
        &mut self,
        write: &Write,
        chat_id: i64,
        user_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let (merchant, code_state) = match write {
            Write::OtpIssued { merchant, .. }
            | Write::OtpRefunded { merchant }
            | Write::OtpFailed { merchant }
            | Write::OtpLocked { merchant, .. }
            | Write::OtpConsumed { merchant } => (merchant.as_str(), true),
            Write::RequestCreated { merchant, .. } => (merchant.as_str(), false),
            Write::TicketWithdrawn { .. }
            | Write::TicketRated { .. }
            | Write::TicketComment { .. }
            | Write::Audit { .. } => return self.apply_at_once(write, chat_id, user_id, now).await,
        };
        if code_state && self.deferred.held.code_states.contains(merchant) {
            self.write_held().await?;
        }
        self.facts
            .retain(|(m, u), _| m != merchant && *u != user_id);
        let d = &mut self.deferred.held;
        let m = merchant.to_string();
        if code_state {
            d.code_states.insert(m.clone());
        }
        match write {
            Write::OtpIssued {
                code_hash,
                expires_at,
                ..
            } => d
                .otp_issued
                .push((m, code_hash.clone(), *expires_at, user_id, now)),
            Write::OtpRefunded { .. } => d.otp_refunded.push((m,)),
            Write::OtpFailed { .. } => d.otp_failed.push((m,)),
            Write::OtpLocked { until, .. } => d.otp_locked.push((m, *until)),
            Write::OtpConsumed { .. } => d.otp_consumed.push((m,)),
            Write::RequestCreated { reference, .. } => {
                d.requests
                    .push((reference.as_str().to_string(), m, chat_id, user_id, now))
            }
            _ => {}
        }
        Ok(())
    }
}
