//! Drains the outbox to the Bot API: per chat in order, chats in parallel,
//! within the rate limits. 429 waits `retry_after`; network errors and 5xx
//! retry with backoff and jitter; 403 (blocked) stops the chat; other 4xx are
//! logged and dropped. Staff-topic messages create their ticket's topic on
//! first use and recreate it if it was deleted.

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
use crate::storage::{OutboxPayload, OutboxRow, StoreError, TopicOp};

use crate::conversation::Msg;

use super::limiter::RateLimiter;
use super::merge;
use super::send_queue::{Ended, Next, SendQueue};

/// Pending messages read from the table at once.
const READ_LIMIT: i64 = 500;
/// How often the table is read for messages not handed over in memory.
const REREAD: Duration = Duration::from_millis(500);
const MAX_ATTEMPTS: i64 = 12;
/// Chats sent to at once without Telegram's limits (a local Bot API
/// server). Each message is marked sent before its slot frees, so this also
/// bounds how many messages a crash can catch between "accepted" and
/// "marked sent".
pub const PARALLEL_CHATS: usize = 64;
/// Bot API calls in flight at once (the rest of the chats wait for their
/// sent marks, which cost no connection).
const CALLS_IN_FLIGHT: usize = 16;
/// Chats sent to at once under Telegram's limits (~30 messages/s): a few
/// cover any round-trip time, and an interactive reply waits for at most
/// this many messages before it takes the next free slot.
const THROTTLED_PARALLEL: usize = 4;
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
    calls: Arc<tokio::sync::Semaphore>,
    /// An interactive message waits for a slot.
    urgent: Arc<std::sync::atomic::AtomicBool>,
    /// Turns at the overall rate limit, first come first served (a task
    /// that kept losing the race for the next token would wait for seconds).
    rate_turn: Arc<tokio::sync::Mutex<()>>,
}

/// How sending a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Telegram has it, and it is marked sent.
    Yes,
    /// Not now: the chat stops until the retry (order is kept).
    Stopped,
    /// Refused for good (marked failed), or, for a merged relay, refused as
    /// one message (nothing marked); the chat goes on.
    Rejected,
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
            calls: Arc::new(tokio::sync::Semaphore::new(CALLS_IN_FLIGHT)),
            urgent: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            rate_turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Chats sent to at once: a few under Telegram's limits (the most
    /// urgent message takes the next free slot), more against a local Bot
    /// API server.
    fn parallel(&self) -> usize {
        if self.engine.settings.telegram.throttle {
            THROTTLED_PARALLEL
        } else {
            PARALLEL_CHATS
        }
    }

    /// Runs until `stop` turns true, then flushes what is due (for at most
    /// a few seconds) and returns. Messages come in memory right after the
    /// commit that queued them; the table is read at start, every half
    /// second and when `outbox_signal` says so (retries, other processes,
    /// other replicas). One message per chat at a time, the most urgent
    /// first, each marked sent before its chat's next one goes.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        self.engine.attach_sender();
        let mut queue = SendQueue::default();
        let mut tasks: JoinSet<(i64, i64, Ended)> = JoinSet::new();
        let mut reread = tokio::time::interval(REREAD);
        reread.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut read_due = true;
        let mut deadline: Option<Instant> = None;
        loop {
            let told = self.engine.outbox_signal.notified();
            let fresh = self.engine.outbox_fresh_signal.notified();
            queue.offer_fresh(self.engine.take_outbox_fresh());
            if read_due {
                read_due = false;
                let now = self.engine.now().timestamp_millis();
                match self.engine.store.due_outbox(now, READ_LIMIT).await {
                    Ok(rows) => {
                        let cut = rows.len() as i64 >= READ_LIMIT;
                        queue.offer_read(rows, cut);
                    }
                    Err(e) => tracing::warn!(error = %e, "outbox read failed"),
                }
            }
            while tasks.len() < self.parallel() {
                let Some(next) = queue.next() else { break };
                let sender = self.clone();
                tasks.spawn(async move {
                    let (chat, id) = (next.row.chat_id, next.row.id);
                    (chat, id, sender.send_next(next).await)
                });
            }
            self.urgent.store(
                queue.interactive_waiting(),
                std::sync::atomic::Ordering::Release,
            );
            if *stop.borrow() {
                let deadline =
                    *deadline.get_or_insert_with(|| Instant::now() + Duration::from_secs(5));
                if queue.is_idle() || Instant::now() >= deadline {
                    while let Some(Ok((chat, id, ended))) = tasks.join_next().await {
                        queue.finished(chat, id, ended);
                    }
                    return;
                }
            }
            tokio::select! {
                _ = told => read_due = true,
                _ = fresh => {}
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Ok((chat, id, ended)) = done {
                        queue.finished(chat, id, ended);
                    }
                    while let Some(Ok((chat, id, ended))) = tasks.try_join_next() {
                        queue.finished(chat, id, ended);
                    }
                }
                _ = reread.tick() => read_due = true,
                _ = stop.changed(), if !*stop.borrow() => read_due = true,
                _ = tokio::time::sleep(Duration::from_millis(100)), if *stop.borrow() => read_due = true,
            }
        }
    }

    /// Sends one message under the chat's lease, after checking no earlier
    /// message of the chat is pending unseen.
    async fn send_next(&self, next: Next) -> Ended {
        let store = &self.engine.store;
        let row = next.row;
        let now = self.engine.now().timestamp_millis();
        let owner = &self.engine.replica_id;
        let several = super::inbox::several_replicas(&self.engine);
        if several
            && !store
                .lease_chat("outbox", row.chat_id, owner, now, now + LEASE_MS)
                .await
                .unwrap_or(false)
        {
            // Another replica is sending to this chat.
            return Ended::Stopped;
        }
        let chat = row.chat_id;
        let ended = self.send_leased(row, next.check_order, several).await;
        if several && let Err(e) = store.release_chat("outbox", chat, owner).await {
            tracing::debug!(error = %e, "lease release failed (it expires by itself)");
        }
        ended
    }

    async fn send_leased(&self, row: OutboxRow, check_order: bool, several: bool) -> Ended {
        let store = &self.engine.store;
        let chat = row.chat_id;
        let now = self.engine.now().timestamp_millis();
        let row = match several {
            true => {
                // Read again under the lease: another replica may have sent
                // it (or queued an earlier one) meanwhile.
                match store.due_outbox_for_chat(chat, now, 1).await {
                    Ok(mut fresh) if fresh.first().map(|r| r.id) == Some(row.id) => fresh.remove(0),
                    Ok(_) => return Ended::Stopped,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox read failed");
                        return Ended::Stopped;
                    }
                }
            }
            false => {
                if check_order {
                    match store.has_earlier_pending(chat, row.id).await {
                        Ok(false) => {}
                        Ok(true) => return Ended::Stopped,
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox read failed");
                            return Ended::Stopped;
                        }
                    }
                }
                row
            }
        };
        if !self.wait_for_rate(&row).await {
            return Ended::Yielded(Box::new(row));
        }
        // The token is ours: whatever of the ticket's texts queued behind
        // this one meanwhile goes with it.
        if let Some((merged, also)) = self.merged_relay(&row).await {
            match self.send_row(&merged, &also).await {
                Ok(Sent::Yes) => return Ended::Merged(also),
                Ok(Sent::Stopped) => return Ended::Stopped,
                // Refused as one message: the first goes alone, as a copy.
                Ok(Sent::Rejected) => {
                    if !self.wait_for_rate(&row).await {
                        return Ended::Yielded(Box::new(row));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "outbox bookkeeping failed");
                    return Ended::Stopped;
                }
            }
        }
        match self.send_row(&row, &[]).await {
            Ok(Sent::Yes | Sent::Rejected) => Ended::Done,
            Ok(Sent::Stopped) => Ended::Stopped,
            Err(e) => {
                tracing::warn!(error = %e, "outbox bookkeeping failed");
                Ended::Stopped
            }
        }
    }

    /// `head` (a merchant's text for its ticket's topic) merged with the
    /// ticket's texts queued behind it, as one text message, and the ids of
    /// those later rows; `None` when nothing waits behind it (or when
    /// the table cannot be read: it then goes alone).
    async fn merged_relay(&self, head: &OutboxRow) -> Option<(OutboxRow, Vec<i64>)> {
        merge::part(head)?;
        let now = self.engine.now().timestamp_millis();
        let pending = match self
            .engine
            .store
            .due_outbox_for_chat(head.chat_id, now, merge::LOOK_AHEAD)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::debug!(error = %e, "outbox read failed; the relay goes alone");
                return None;
            }
        };
        let run = merge::run(head, &pending);
        if run.len() < 2 {
            return None;
        }
        let parts: Vec<String> = run
            .iter()
            .filter_map(|row| merge::part(row))
            .map(|(sender, at, text)| self.relay_part(sender, at, text))
            .collect();
        let fit = merge::fitting(&parts);
        if fit < 2 {
            return None;
        }
        let also: Vec<i64> = run[1..fit].iter().map(|row| row.id).collect();
        let html = parts[..fit].join(merge::SEPARATOR);
        self.engine.metrics.relays_merged(also.len() as u64);
        let merged = OutboxRow {
            payload: OutboxPayload::Text {
                html,
                buttons: Vec::new(),
            },
            ..head.clone()
        };
        Some((merged, also))
    }

    /// One part of a merged relay: who wrote it and when (in the support
    /// hours' time zone), then the text.
    fn relay_part(&self, sender: &str, at: i64, text: &str) -> String {
        let time = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at)
            .map(|t| {
                t.with_timezone(&self.engine.derived.support_tz)
                    .format("%H:%M")
                    .to_string()
            })
            .unwrap_or_default();
        self.engine.texts.render(
            self.engine.staff_lang(),
            &Msg::new("staff-relay-part")
                .arg("name", sender)
                .arg("time", time)
                .arg("text", text),
        )
    }

    /// Waits until the rate limits allow sending `row`; `false` if it is not
    /// an interactive reply and one is waiting for a slot (it then goes first).
    async fn wait_for_rate(&self, row: &OutboxRow) -> bool {
        if !self.engine.settings.telegram.throttle {
            return true;
        }
        let yields = || row.priority > 0 && self.urgent.load(std::sync::atomic::Ordering::Acquire);
        let edit = row.payload.is_edit();
        // The chat's own limit first, without holding up other chats
        // (an edit has none).
        loop {
            if edit {
                break;
            }
            let wait = self
                .limiter
                .lock()
                .map(|mut l| l.chat_wait(row.chat_id, Instant::now()))
                .unwrap_or(Duration::ZERO);
            if wait.is_zero() {
                break;
            }
            if yields() {
                return false;
            }
            tokio::time::sleep(wait).await;
        }
        let _turn = self.rate_turn.lock().await;
        loop {
            let wait = self
                .limiter
                .lock()
                .map(|mut l| match edit {
                    true => l.acquire_edit(Instant::now()),
                    false => l.acquire(row.chat_id, Instant::now()),
                })
                .unwrap_or(Duration::ZERO);
            if wait.is_zero() {
                return true;
            }
            if yields() {
                return false;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends one row (with `also`, later rows merged into it: marked sent
    /// with it, in the same transaction); `Sent::Stopped` stops the chat
    /// for now (order is kept).
    async fn send_row(&self, row: &OutboxRow, also: &[i64]) -> Result<Sent, StoreError> {
        let store = &self.engine.store;
        let thread = match self.thread_for(row).await {
            Ok(thread) => thread,
            Err(Some(delay)) => {
                let at = self.engine.now().timestamp_millis() + delay.as_millis() as i64;
                store
                    .outbox_retry(row.id, at, "waiting to create a forum topic")
                    .await?;
                return Ok(Sent::Stopped);
            }
            Err(None) => None,
        };
        let result = {
            let _slot = self.calls.acquire().await;
            self.call(row, thread).await
        };
        let now = self.engine.now().timestamp_millis();
        match result {
            Ok(()) => {
                // Telegram has it: keep trying to record that, since giving up
                // here means sending it again later.
                let ids: Vec<i64> = std::iter::once(row.id)
                    .chain(also.iter().copied())
                    .collect();
                let mut tries = 0;
                while let Err(e) = self.engine.mark_sent(&ids, now).await {
                    tries += 1;
                    if tries >= 20 {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "could not mark a sent message; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(Sent::Yes)
            }
            Err(error) => match self.count(classify(&error)) {
                Failure::RetryAfter(wait) => {
                    tracing::info!(chat_id = row.chat_id, ?wait, "Telegram asked to slow down");
                    store
                        .outbox_retry(row.id, now + wait.as_millis() as i64, "429")
                        .await?;
                    Ok(Sent::Stopped)
                }
                Failure::ThreadGone => {
                    if let Some(ticket) = row.ticket_id {
                        tracing::warn!(ticket, "staff topic is gone; recreating it");
                        store.set_ticket_thread(ticket, None).await?;
                    }
                    store.outbox_retry(row.id, now, "topic gone").await?;
                    Ok(Sent::Stopped)
                }
                Failure::Blocked(text) => {
                    tracing::info!(
                        chat_id = row.chat_id,
                        "chat unreachable ({text}); dropping its messages"
                    );
                    store.outbox_fail_chat(row.chat_id, &text).await?;
                    Ok(Sent::Stopped)
                }
                // A merged relay refused: its rows stay pending, and the
                // first one goes alone.
                Failure::Permanent(text) if !also.is_empty() => {
                    tracing::warn!(chat_id = row.chat_id, "merged relay rejected: {text}");
                    Ok(Sent::Rejected)
                }
                Failure::Permanent(text) => {
                    tracing::warn!(
                        chat_id = row.chat_id,
                        outbox_id = row.id,
                        "message rejected: {text}"
                    );
                    store.outbox_failed(row.id, &text).await?;
                    Ok(Sent::Rejected)
                }
                Failure::Transient(text) => {
                    if row.attempts + 1 >= MAX_ATTEMPTS {
                        tracing::error!(
                            chat_id = row.chat_id,
                            "giving up after {MAX_ATTEMPTS} attempts: {text}"
                        );
                        store.outbox_failed(row.id, &text).await?;
                        return Ok(Sent::Rejected);
                    }
                    let backoff = backoff_ms(row.attempts);
                    tracing::info!(
                        chat_id = row.chat_id,
                        backoff,
                        "send failed, will retry: {text}"
                    );
                    store.outbox_retry(row.id, now + backoff, &text).await?;
                    Ok(Sent::Stopped)
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
        self.engine.metrics.telegram_error("send", kind);
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
            OutboxPayload::Text { html, buttons } => self
                .send_text(chat, thread, html, buttons)
                .await
                .map(|_| ()),
            OutboxPayload::ToThread { thread, html } => {
                let thread = i32::try_from(*thread).ok().map(|t| ThreadId(MessageId(t)));
                self.send_text(chat, thread, html, &[]).await.map(|_| ())
            }
            OutboxPayload::RequestPost {
                reference,
                html,
                buttons,
            } => {
                let topic = i32::try_from(self.engine.settings.support.requests_topic)
                    .ok()
                    .filter(|t| *t != 0)
                    .map(|t| ThreadId(MessageId(t)));
                let sent = self.send_text(chat, topic, html, buttons).await?;
                if let Err(e) = self
                    .engine
                    .store
                    .set_request_post(reference, i64::from(sent.0))
                    .await
                {
                    tracing::warn!(error = %e, "could not remember a request's post (its edits will not follow)");
                }
                Ok(())
            }
            OutboxPayload::EditRequestPost {
                reference,
                html,
                buttons,
            } => {
                let post = self
                    .engine
                    .store
                    .request_post(reference)
                    .await
                    .ok()
                    .flatten();
                let Some(post) = post.and_then(|id| i32::try_from(id).ok()) else {
                    return Ok(());
                };
                self.edit_in_place(chat, post, html, buttons).await
            }
            OutboxPayload::Relay {
                html,
                staff_message,
            } => {
                let sent = self.send_text(chat, thread, html, &[]).await?;
                if let Err(e) = self
                    .engine
                    .store
                    .remember_relay(i64::from(*staff_message), row.chat_id, i64::from(sent.0))
                    .await
                {
                    tracing::warn!(error = %e, "could not remember a relayed reply (its edits will not follow)");
                }
                Ok(())
            }
            OutboxPayload::EditRelay {
                html,
                staff_message,
            } => {
                let Some(copy) = self.relay_copy(*staff_message).await else {
                    return Ok(());
                };
                let request = self
                    .bot
                    .edit_message_text(chat, MessageId(copy), html.clone())
                    .parse_mode(ParseMode::Html);
                not_modified_is_done(request.await.map(|_| ()))
            }
            OutboxPayload::EditRelayCaption {
                html,
                staff_message,
            } => {
                let Some(copy) = self.relay_copy(*staff_message).await else {
                    return Ok(());
                };
                let request = self
                    .bot
                    .edit_message_caption(chat, MessageId(copy))
                    .caption(html.clone())
                    .parse_mode(ParseMode::Html);
                not_modified_is_done(request.await.map(|_| ()))
            }
            OutboxPayload::Card { html, buttons } => {
                let sent = self.send_text(chat, thread, html, buttons).await?;
                if let Some(ticket) = row.ticket_id {
                    if let Err(e) = self
                        .engine
                        .store
                        .set_ticket_card(ticket, i64::from(sent.0))
                        .await
                    {
                        tracing::error!(error = %e, ticket, "could not remember a ticket's card");
                    }
                    // Pinned so it stays in reach; a group without the
                    // right to pin still gets the card.
                    if let Err(e) = self
                        .bot
                        .pin_chat_message(chat, sent)
                        .disable_notification(true)
                        .await
                    {
                        tracing::debug!(error = %e, ticket, "could not pin a ticket's card");
                    }
                }
                Ok(())
            }
            OutboxPayload::EditCard { html, buttons } => {
                let card = match row.ticket_id {
                    Some(ticket) => self.engine.store.ticket_card(ticket).await.ok().flatten(),
                    None => None,
                };
                let Some(card) = card.and_then(|id| i32::try_from(id).ok()) else {
                    return Ok(());
                };
                self.edit_in_place(chat, card, html, buttons).await
            }
            OutboxPayload::Topic { op } => {
                let Some(thread) = thread else {
                    return Ok(());
                };
                let result = match op {
                    TopicOp::Rename { name } => self
                        .bot
                        .edit_forum_topic(chat, thread)
                        .name(name.clone())
                        .await
                        .map(|_| ()),
                    TopicOp::Close => self.bot.close_forum_topic(chat, thread).await.map(|_| ()),
                    TopicOp::Reopen => self.bot.reopen_forum_topic(chat, thread).await.map(|_| ()),
                };
                match result {
                    // Already so (a repeated close, an unchanged name).
                    Err(RequestError::Api(e))
                        if e.to_string().to_lowercase().contains("not_modified")
                            || e.to_string().to_lowercase().contains("not modified") =>
                    {
                        Ok(())
                    }
                    other => other,
                }
            }
            OutboxPayload::Copy {
                from_chat,
                message_id,
            }
            | OutboxPayload::FromMerchant {
                from_chat,
                message_id,
                ..
            } => {
                let mut request =
                    self.bot
                        .copy_message(chat, ChatId(*from_chat), MessageId(*message_id));
                if let Some(thread) = thread {
                    request = request.message_thread_id(thread);
                }
                let sent = request.await?;
                // An agent's media for a merchant: remembered, so that a
                // caption edit follows.
                let staff_chat = self.engine.settings.support.staff_chat_id;
                if *from_chat == staff_chat
                    && row.chat_id != staff_chat
                    && let Err(e) = self
                        .engine
                        .store
                        .remember_relay(i64::from(*message_id), row.chat_id, i64::from(sent.0))
                        .await
                {
                    tracing::warn!(error = %e, "could not remember a relayed media message (its caption edits will not follow)");
                }
                Ok(())
            }
        }
    }

    async fn send_text(
        &self,
        chat: ChatId,
        thread: Option<ThreadId>,
        html: &str,
        buttons: &[Vec<(String, String)>],
    ) -> Result<MessageId, RequestError> {
        let mut request = self
            .bot
            .send_message(chat, html.to_string())
            .parse_mode(ParseMode::Html);
        if !buttons.is_empty() {
            request = request.reply_markup(keyboard(buttons));
        }
        if let Some(thread) = thread {
            request = request.message_thread_id(thread);
        }
        request.await.map(|m| m.id)
    }
}

impl Sender {
    /// Edits a message the bot posted (a card, a request post) to `html`
    /// and `buttons`; the same text again ("not modified", two changes that
    /// look alike) is not a failure.
    async fn edit_in_place(
        &self,
        chat: ChatId,
        message: i32,
        html: &str,
        buttons: &[Vec<(String, String)>],
    ) -> Result<(), RequestError> {
        let request = self
            .bot
            .edit_message_text(chat, MessageId(message), html.to_string())
            .parse_mode(ParseMode::Html)
            .reply_markup(keyboard(buttons));
        not_modified_is_done(request.await.map(|_| ()))
    }

    /// The merchant's copy of the agent's message `staff_message`, if it
    /// was sent and remembered.
    async fn relay_copy(&self, staff_message: i32) -> Option<i32> {
        let copy = self
            .engine
            .store
            .relay_of(i64::from(staff_message))
            .await
            .ok()
            .flatten();
        copy.and_then(|(_, id)| i32::try_from(id).ok())
    }
}

/// An edit to the same text again ("message is not modified": two changes
/// that look alike, a repeated edit) is done, not failed.
fn not_modified_is_done(result: Result<(), RequestError>) -> Result<(), RequestError> {
    match result {
        Err(RequestError::Api(e)) if e.to_string().to_lowercase().contains("not modified") => {
            Ok(())
        }
        other => other,
    }
}

fn keyboard(buttons: &[Vec<(String, String)>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(buttons.iter().map(|r| {
        r.iter()
            .map(|(label, data)| InlineKeyboardButton::callback(label.clone(), data.clone()))
            .collect::<Vec<_>>()
    }))
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
