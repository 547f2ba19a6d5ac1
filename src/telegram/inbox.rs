//! Long polling that loses nothing: each batch from getUpdates is stored in
//! the inbox before the next getUpdates acknowledges it; a processor applies
//! stored updates one chat at a time in update order (different chats in
//! parallel) and deletes each once applied. After a crash, whatever was
//! stored and not applied is applied on the next start.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::Update;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::engine::Engine;
use crate::storage::InboxRow;

/// How long a replica's claim on a chat's updates lasts without renewal; a
/// replica that dies mid-chat delays that chat by at most this.
const LEASE_MS: i64 = 15_000;

/// Long-poll timeout asked of Telegram, seconds.
const POLL_TIMEOUT: u32 = 10;

/// The chat an update belongs to (0 for none).
pub fn chat_key(update: &Update) -> i64 {
    update.chat().map(|c| c.id.0).unwrap_or(0)
}

/// An inbox row from a webhook request body (kept byte for byte).
pub fn row_from_json(body: &[u8]) -> Result<InboxRow, String> {
    let update: Update = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let payload = String::from_utf8(body.to_vec()).map_err(|e| e.to_string())?;
    Ok(InboxRow {
        update_id: i64::from(update.id.0),
        chat_id: chat_key(&update),
        payload,
    })
}

/// Stores updates as inbox rows.
pub fn rows_of(updates: &[Update]) -> Vec<InboxRow> {
    updates
        .iter()
        .filter_map(|u| {
            let payload = serde_json::to_string(u).ok()?;
            Some(InboxRow {
                update_id: i64::from(u.id.0),
                chat_id: chat_key(u),
                payload,
            })
        })
        .collect()
}

/// Updates the poller already parsed, by update id, so the processor need
/// not parse their stored JSON again. Bounded; a miss just means parsing.
#[derive(Clone, Default)]
pub struct Parsed(Arc<std::sync::Mutex<std::collections::HashMap<i64, Update>>>);

impl Parsed {
    const MAX: usize = 10_000;

    fn keep(&self, updates: Vec<Update>) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() + updates.len() > Self::MAX {
                map.clear();
            }
            for update in updates {
                map.insert(i64::from(update.id.0), update);
            }
        }
    }

    fn take(&self, update_id: i64) -> Option<Update> {
        self.0.lock().ok()?.remove(&update_id)
    }
}

/// Polls Telegram until `stop`, storing every batch before acknowledging it.
pub async fn poll(bot: Bot, engine: Arc<Engine>, parsed: Parsed, mut stop: watch::Receiver<bool>) {
    if let Err(e) = bot.delete_webhook().await {
        tracing::warn!(error = %e, "deleteWebhook failed (polling may be refused while a webhook is set)");
    }
    let mut offset: Option<i32> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        if *stop.borrow() {
            return;
        }
        let mut request = bot
            .get_updates()
            .timeout(POLL_TIMEOUT)
            .allowed_updates(super::allowed_updates());
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        let result = tokio::select! {
            result = request.send() => result,
            _ = stop.changed() => return,
        };
        let updates = match result {
            Ok(updates) => {
                backoff = Duration::from_secs(1);
                updates
            }
            Err(e) => {
                engine.metrics.telegram_error("getUpdates", "network");
                tracing::warn!(error = %e, ?backoff, "getUpdates failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        if updates.is_empty() {
            continue;
        }
        let rows = rows_of(&updates);
        let next_offset = updates
            .last()
            .and_then(|last| i32::try_from(last.id.0).ok())
            .map(|id| id.saturating_add(1));
        parsed.keep(updates);
        loop {
            match engine.take_in(rows.clone()).await {
                Ok(()) => break,
                Err(e) => {
                    // Not acknowledged yet: Telegram keeps them until we can store them.
                    tracing::error!(error = %e, "cannot store updates; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if *stop.borrow() {
                        return;
                    }
                }
            }
        }
        if next_offset.is_some() {
            offset = next_offset;
        }
    }
}

/// How often the inbox table is read again for updates not handed over in
/// memory: left by a crash, stored by another replica, or put back after a
/// failed turn.
const RESCAN: Duration = Duration::from_millis(500);

/// Updates remembered as applied, so a reread of the inbox that raced with
/// their deletion does not offer them again.
const RECENT_DONE: usize = 20_000;

/// What a chat's worker reports back.
struct ChatReport {
    chat: i64,
    /// Applied (or skipped as unreadable).
    applied: Vec<i64>,
    /// Not applied: a turn failed (retried after a pause) or another replica
    /// holds the chat (left to it).
    unapplied: Vec<InboxRow>,
    /// Whether `unapplied` should be tried again here.
    retry: bool,
}

/// The processor's view of updates waiting in memory.
#[derive(Default)]
struct Queues {
    /// Update ids queued or being applied.
    known: HashSet<i64>,
    /// Recently applied ids, oldest first.
    recent: std::collections::VecDeque<i64>,
    recent_set: HashSet<i64>,
    /// Per chat, in update order.
    waiting: BTreeMap<i64, Vec<InboxRow>>,
    /// Chats with a worker.
    running: HashSet<i64>,
}

impl Queues {
    /// Queues rows not seen yet; returns the ids of rows already applied
    /// (stored again after the turn that applied them: to be cleared).
    fn offer(&mut self, rows: Vec<InboxRow>) -> Vec<i64> {
        let mut applied = Vec::new();
        for row in rows {
            if self.recent_set.contains(&row.update_id) {
                applied.push(row.update_id);
                continue;
            }
            if !self.known.insert(row.update_id) {
                continue;
            }
            let queue = self.waiting.entry(row.chat_id).or_default();
            let at = queue.partition_point(|r| r.update_id < row.update_id);
            queue.insert(at, row);
        }
        applied
    }

    fn report(&mut self, report: ChatReport) {
        self.running.remove(&report.chat);
        for id in report.applied {
            self.known.remove(&id);
            if self.recent_set.insert(id) {
                self.recent.push_back(id);
            }
        }
        while self.recent.len() > RECENT_DONE {
            if let Some(old) = self.recent.pop_front() {
                self.recent_set.remove(&old);
            }
        }
        if report.retry {
            let queue = self.waiting.entry(report.chat).or_default();
            let mut rows = report.unapplied;
            rows.append(queue);
            *queue = rows;
        } else {
            for row in report.unapplied {
                self.known.remove(&row.update_id);
            }
        }
    }

    /// Chats with waiting updates and no worker, with their updates.
    fn startable(&mut self) -> Vec<(i64, Vec<InboxRow>)> {
        let chats: Vec<i64> = self
            .waiting
            .keys()
            .filter(|chat| !self.running.contains(chat))
            .copied()
            .collect();
        chats
            .into_iter()
            .filter_map(|chat| {
                let rows = self.waiting.remove(&chat)?;
                if rows.is_empty() {
                    return None;
                }
                self.running.insert(chat);
                Some((chat, rows))
            })
            .collect()
    }
}

/// Applies stored updates until `stop`; then finishes the turns in hand.
/// Updates arrive in memory from the poller or the webhook right after they
/// are stored; the inbox table is reread every half second for the rest.
/// One worker per chat applies its updates in order; chats run in parallel.
pub async fn process(
    bot: Bot,
    engine: Arc<Engine>,
    wake: Arc<Notify>,
    parsed: Parsed,
    mut stop: watch::Receiver<bool>,
) {
    let mut queues = Queues::default();
    let mut tasks: JoinSet<ChatReport> = JoinSet::new();
    let mut rescan = tokio::time::interval(RESCAN);
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut scan_due = true;
    loop {
        let notified = wake.notified();
        if *stop.borrow() {
            while tasks.join_next().await.is_some() {}
            return;
        }
        queues.offer(engine.take_inbox_stored());
        if scan_due {
            scan_due = false;
            match engine.store.inbox_due(2000).await {
                Ok(rows) => {
                    for update_id in queues.offer(rows) {
                        engine.inbox_done_later(update_id);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the inbox failed"),
            }
        }
        for (chat, rows) in queues.startable() {
            let (bot, engine, parsed) = (bot.clone(), engine.clone(), parsed.clone());
            tasks.spawn(async move { apply_chat(&bot, &engine, &parsed, chat, rows).await });
        }
        tokio::select! {
            _ = notified => {}
            Some(report) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(report) = report {
                    queues.report(report);
                }
                while let Some(Ok(report)) = tasks.try_join_next() {
                    queues.report(report);
                }
            }
            _ = rescan.tick() => scan_due = true,
            _ = stop.changed() => {}
        }
    }
}

/// Applies one chat's updates in order, holding its lease (several
/// replicas); stops at the first failure.
async fn apply_chat(
    bot: &Bot,
    engine: &Arc<Engine>,
    parsed: &Parsed,
    chat: i64,
    rows: Vec<InboxRow>,
) -> ChatReport {
    let mut report = ChatReport {
        chat,
        applied: Vec::new(),
        unapplied: Vec::new(),
        retry: true,
    };
    let mut rows = rows.into_iter();
    while let Some(row) = rows.next() {
        // Several replicas: hold (or renew) this chat's lease for the next
        // update; another replica has it otherwise. One process needs none.
        let now = engine.now().timestamp_millis();
        let leased = !several_replicas(engine)
            || engine
                .store
                .lease_chat("inbox", chat, &engine.replica_id, now, now + LEASE_MS)
                .await
                .unwrap_or(false);
        if !leased {
            report.retry = false;
            report.unapplied.push(row);
            report.unapplied.extend(rows);
            return report;
        }
        if !apply(bot, engine, parsed.take(row.update_id), &row).await {
            // Keep this and later updates of the chat; try again shortly.
            tokio::time::sleep(Duration::from_secs(2)).await;
            report.unapplied.push(row);
            report.unapplied.extend(rows);
            break;
        }
        report.applied.push(row.update_id);
    }
    if several_replicas(engine) {
        let _ = engine
            .store
            .release_chat("inbox", chat, &engine.replica_id)
            .await;
    }
    report
}

/// Whether several processes share the database (`telegram.replicas`), so
/// chats are leased; a single process skips the round trips.
pub(super) fn several_replicas(engine: &Engine) -> bool {
    engine.settings.telegram.replicas > 1
}

/// Applies one stored update; `false` if it must be tried again.
async fn apply(bot: &Bot, engine: &Arc<Engine>, parsed: Option<Update>, row: &InboxRow) -> bool {
    let update = match parsed {
        Some(update) => Ok(update),
        None => serde_json::from_str::<Update>(&row.payload),
    };
    match update {
        Ok(update) => {
            if !super::handle_update(bot.clone(), update, engine.clone()).await {
                return false;
            }
        }
        Err(e) => {
            tracing::warn!(update_id = row.update_id, error = %e, "stored update unreadable; skipped")
        }
    }
    // A merchant's turn removed it already; staff actions and skipped
    // updates are removed with the writer's next batch.
    engine.inbox_done_later(row.update_id);
    true
}
