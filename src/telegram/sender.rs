//! Drains the outbox to the Bot API: per chat in order, chats in parallel,
//! within the rate limits. 429 waits `retry_after`; network errors and 5xx
//! retry with backoff and jitter; 403 (blocked) stops the chat; other 4xx are
//! logged and dropped. Staff-topic messages create their ticket's topic on
//! first use and recreate it if it was deleted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode, ThreadId,
};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::engine::{Engine, random_bytes};
use crate::storage::{OutboxPayload, OutboxRow, StoreError};

use super::limiter::RateLimiter;

const BATCH: i64 = 500;
/// With Telegram's limits on, a third of a second of sending: an interactive reply
/// committed meanwhile waits at most that long behind bulk notifications.
const THROTTLED_BATCH: i64 = 10;
const MAX_ATTEMPTS: i64 = 12;
/// Chats sent to at once. Telegram allows ~30 messages/s overall, so a few
/// chats in parallel cover any round-trip time; it also bounds how many
/// messages a crash can catch between "accepted" and "marked sent".
pub const PARALLEL_CHATS: usize = 64;
/// How long a replica's claim on a chat's sending lasts without renewal (it
/// is renewed before every message); a replica that dies mid-chat delays that
/// chat by at most this.
const LEASE_MS: i64 = 15_000;

/// The outbox sender.
#[derive(Clone)]
pub struct Sender {
    bot: Bot,
    engine: Arc<Engine>,
    limiter: Arc<Mutex<RateLimiter>>,
    topics: Arc<Mutex<Vec<Instant>>>,
}

/// How a failed call is handled.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    RetryAfter(Duration),
    Transient(String),
    Blocked(String),
    ThreadGone,
    Permanent(String),
}

fn classify(error: &RequestError) -> Failure {
    match error {
        RequestError::RetryAfter(seconds) => Failure::RetryAfter(seconds.duration()),
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => {
            Failure::Transient(error.to_string())
        }
        RequestError::Api(api) => {
            let text = api.to_string();
            let lower = text.to_lowercase();
            if lower.contains("thread not found")
                || lower.contains("topic_deleted")
                || lower.contains("topic_closed")
            {
                Failure::ThreadGone
            } else if lower.starts_with("forbidden")
                || lower.contains("bot was blocked")
                || lower.contains("user is deactivated")
            {
                Failure::Blocked(text)
            } else if lower.starts_with("bad request")
                || lower.contains("not found")
                || lower.contains("can't")
            {
                Failure::Permanent(text)
            } else {
                // Unknown descriptions include 5xx bodies: worth another try.
                Failure::Transient(text)
            }
        }
        RequestError::MigrateToChatId(_) => Failure::Permanent(error.to_string()),
    }
}

impl Sender {
    /// A sender over `bot`.
    pub fn new(bot: Bot, engine: Arc<Engine>) -> Sender {
        let throttle = engine.settings.telegram.throttle;
        let replicas = engine.settings.telegram.replicas;
        Sender {
            bot,
            engine,
            limiter: Arc::new(Mutex::new(RateLimiter::new(throttle, replicas))),
            topics: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs until `stop` turns true, then flushes what is due and returns.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let signal = self.engine.outbox_signal.clone();
        loop {
            let notified = signal.notified();
            let handled = match self.drain_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox read failed");
                    0
                }
            };
            if *stop.borrow() {
                // Flush: keep going while there is work due, at most a few seconds.
                let deadline = Instant::now() + Duration::from_secs(5);
                while Instant::now() < deadline && matches!(self.drain_once().await, Ok(n) if n > 0)
                {
                }
                return;
            }
            if handled == 0 {
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }

    /// Sends what is due once; returns how many rows were handled.
    pub async fn drain_once(&self) -> Result<usize, StoreError> {
        let now = self.engine.now().timestamp_millis();
        let batch = if self.engine.settings.telegram.throttle {
            THROTTLED_BATCH
        } else {
            BATCH
        };
        let rows = self.engine.store.due_outbox(now, batch).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let batch_full = rows.len() as i64 >= batch;
        let mut by_chat: BTreeMap<i64, Vec<OutboxRow>> = BTreeMap::new();
        for row in rows {
            by_chat.entry(row.chat_id).or_default().push(row);
        }
        let mut handled = 0;
        let mut tasks = JoinSet::new();
        for (chat_id, mut rows) in by_chat {
            rows.sort_by_key(|r| r.id);
            // `due_outbox` leaves out a chat's messages queued behind one that
            // waits for a retry, so a chat's order holds. A batch may still
            // end inside a chat's queue: its first row must be the chat's
            // oldest pending one.
            if batch_full
                && let Some(first) = rows.first()
                && self
                    .engine
                    .store
                    .has_earlier_pending(chat_id, first.id)
                    .await?
            {
                continue;
            }
            while tasks.len() >= PARALLEL_CHATS {
                if let Some(Ok(n)) = tasks.join_next().await {
                    handled += n;
                }
            }
            let owner = self.engine.replica_id.clone();
            if !self
                .engine
                .store
                .lease_chat("outbox", chat_id, &owner, now, now + LEASE_MS)
                .await?
            {
                // Another replica is sending to this chat.
                continue;
            }
            let rows = match self.engine.store {
                crate::storage::Store::Postgres(_) => {
                    // Read again under the lease: another replica may have
                    // sent some of these since the batch was read.
                    let fresh = self
                        .engine
                        .store
                        .due_outbox_for_chat(chat_id, now, batch)
                        .await?;
                    drop(rows);
                    fresh
                }
                crate::storage::Store::Sqlite(_) => rows,
            };
            let sender = self.clone();
            tasks.spawn(async move {
                let n = sender.send_chat(rows).await;
                if let Err(e) = sender
                    .engine
                    .store
                    .release_chat("outbox", chat_id, &owner)
                    .await
                {
                    tracing::debug!(error = %e, "lease release failed (it expires by itself)");
                }
                n
            });
        }
        while let Some(result) = tasks.join_next().await {
            if let Ok(n) = result {
                handled += n;
            }
        }
        Ok(handled)
    }

    async fn send_chat(&self, rows: Vec<OutboxRow>) -> usize {
        let mut handled = 0;
        for row in rows {
            handled += 1;
            let now = self.engine.now().timestamp_millis();
            let renewed = self
                .engine
                .store
                .lease_chat(
                    "outbox",
                    row.chat_id,
                    &self.engine.replica_id,
                    now,
                    now + LEASE_MS,
                )
                .await
                .unwrap_or(false);
            if !renewed {
                break;
            }
            match self.send_row(&row).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox bookkeeping failed");
                    break;
                }
            }
        }
        handled
    }

    /// Sends one row; `Ok(false)` stops the chat for now (order is kept).
    async fn send_row(&self, row: &OutboxRow) -> Result<bool, StoreError> {
        let store = &self.engine.store;
        loop {
            let wait = self
                .limiter
                .lock()
                .map(|mut l| l.acquire(row.chat_id, Instant::now()))
                .unwrap_or(Duration::ZERO);
            if wait.is_zero() {
                break;
            }
            tokio::time::sleep(wait).await;
        }
        let thread = match self.thread_for(row).await {
            Ok(thread) => thread,
            Err(Some(delay)) => {
                let at = self.engine.now().timestamp_millis() + delay.as_millis() as i64;
                store
                    .outbox_retry(row.id, at, "waiting to create a forum topic")
                    .await?;
                return Ok(false);
            }
            Err(None) => None,
        };
        let result = self.call(row, thread).await;
        let now = self.engine.now().timestamp_millis();
        match result {
            Ok(()) => {
                // Telegram has it: keep trying to record that, since giving up
                // here means sending it again later.
                let mut tries = 0;
                while let Err(e) = self.engine.mark_sent(row.id, now).await {
                    tries += 1;
                    if tries >= 20 {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "could not mark a sent message; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(true)
            }
            Err(error) => match self.count(classify(&error)) {
                Failure::RetryAfter(wait) => {
                    tracing::info!(chat_id = row.chat_id, ?wait, "Telegram asked to slow down");
                    store
                        .outbox_retry(row.id, now + wait.as_millis() as i64, "429")
                        .await?;
                    Ok(false)
                }
                Failure::ThreadGone => {
                    if let Some(ticket) = row.ticket_id {
                        tracing::warn!(ticket, "staff topic is gone; recreating it");
                        store.set_ticket_thread(ticket, None).await?;
                    }
                    store.outbox_retry(row.id, now, "topic gone").await?;
                    Ok(false)
                }
                Failure::Blocked(text) => {
                    tracing::info!(
                        chat_id = row.chat_id,
                        "chat unreachable ({text}); dropping its messages"
                    );
                    store.outbox_fail_chat(row.chat_id, &text).await?;
                    Ok(false)
                }
                Failure::Permanent(text) => {
                    tracing::warn!(
                        chat_id = row.chat_id,
                        outbox_id = row.id,
                        "message rejected: {text}"
                    );
                    store.outbox_failed(row.id, &text).await?;
                    Ok(true)
                }
                Failure::Transient(text) => {
                    if row.attempts + 1 >= MAX_ATTEMPTS {
                        tracing::error!(
                            chat_id = row.chat_id,
                            "giving up after {MAX_ATTEMPTS} attempts: {text}"
                        );
                        store.outbox_failed(row.id, &text).await?;
                        return Ok(true);
                    }
                    let backoff = backoff_ms(row.attempts);
                    tracing::info!(
                        chat_id = row.chat_id,
                        backoff,
                        "send failed, will retry: {text}"
                    );
                    store.outbox_retry(row.id, now + backoff, &text).await?;
                    Ok(false)
                }
            },
        }
    }

    fn count(&self, failure: Failure) -> Failure {
        let kind = match &failure {
            Failure::RetryAfter(_) => "429",
            Failure::Transient(_) => "transient",
            Failure::Blocked(_) => "403",
            Failure::ThreadGone => "thread_gone",
            Failure::Permanent(_) => "400",
        };
        self.engine
            .metrics
            .inc("posdesk_telegram_errors_total", format!("kind=\"{kind}\""));
        failure
    }

    /// The forum topic for a staff-chat row: `Ok(None)` for none,
    /// `Err(Some(delay))` to try later (topic-creation limit).
    async fn thread_for(&self, row: &OutboxRow) -> Result<Option<i32>, Option<Duration>> {
        let staff_chat = self.engine.settings.support.staff_chat_id;
        let (Some(ticket_id), true) = (row.ticket_id, row.chat_id == staff_chat && staff_chat != 0)
        else {
            return Ok(None);
        };
        let ticket = match self.engine.store.ticket(ticket_id).await {
            Ok(Some(ticket)) => ticket,
            _ => return Ok(None),
        };
        if let Some(thread) = ticket.thread_id {
            return Ok(i32::try_from(thread).ok());
        }
        if !self.may_create_topic() {
            return Err(Some(Duration::from_secs(5)));
        }
        let name = self.engine.topic_name(&ticket);
        match self.bot.create_forum_topic(ChatId(staff_chat), name).await {
            Ok(topic) => {
                let thread = topic.thread_id.0.0;
                if let Err(e) = self
                    .engine
                    .store
                    .set_ticket_thread(ticket_id, Some(i64::from(thread)))
                    .await
                {
                    tracing::error!(error = %e, "could not remember a new forum topic");
                }
                Ok(Some(thread))
            }
            Err(e) => match classify(&e) {
                Failure::RetryAfter(wait) => Err(Some(wait)),
                Failure::Transient(_) => {
                    Err(Some(Duration::from_millis(backoff_ms(row.attempts) as u64)))
                }
                _ => {
                    tracing::warn!(error = %e, "cannot create forum topics in the staff chat; posting without topics");
                    Ok(None)
                }
            },
        }
    }

    fn may_create_topic(&self) -> bool {
        let limit = self
            .engine
            .settings
            .support
            .max_new_tickets_per_minute
            .max(1) as usize;
        let Ok(mut created) = self.topics.lock() else {
            return true;
        };
        let now = Instant::now();
        created.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
        if created.len() >= limit {
            return false;
        }
        created.push(now);
        true
    }

    async fn call(&self, row: &OutboxRow, thread: Option<i32>) -> Result<(), RequestError> {
        let chat = ChatId(row.chat_id);
        let thread = thread.map(|t| ThreadId(MessageId(t)));
        match &row.payload {
            OutboxPayload::Text { html, buttons } => {
                let mut request = self
                    .bot
                    .send_message(chat, html.clone())
                    .parse_mode(ParseMode::Html);
                if !buttons.is_empty() {
                    let rows = buttons.iter().map(|r| {
                        r.iter()
                            .map(|(label, data)| {
                                InlineKeyboardButton::callback(label.clone(), data.clone())
                            })
                            .collect::<Vec<_>>()
                    });
                    request = request.reply_markup(InlineKeyboardMarkup::new(rows));
                }
                if let Some(thread) = thread {
                    request = request.message_thread_id(thread);
                }
                request.await.map(|_| ())
            }
            OutboxPayload::Copy {
                from_chat,
                message_id,
            } => {
                let mut request =
                    self.bot
                        .copy_message(chat, ChatId(*from_chat), MessageId(*message_id));
                if let Some(thread) = thread {
                    request = request.message_thread_id(thread);
                }
                request.await.map(|_| ())
            }
        }
    }
}

/// Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 30 s, ±25 %.
fn backoff_ms(attempts: i64) -> i64 {
    let base = 500i64.saturating_mul(1 << attempts.clamp(0, 6)).min(30_000);
    let jitter = i64::from(u16::from_le_bytes(random_bytes::<2>())) % (base / 2 + 1);
    base * 3 / 4 + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempts in 0..20 {
            let b = backoff_ms(attempts);
            assert!((375..=37_500).contains(&b), "{attempts}: {b}");
        }
        assert!(backoff_ms(0) <= 625);
    }
}
