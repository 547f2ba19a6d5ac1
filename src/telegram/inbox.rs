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

/// An inbox row from a webhook request body: stored redacted, applied from
/// the body as received (held in memory).
pub fn row_from_json(body: &[u8]) -> Result<InboxRow, String> {
    let update: Update = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let original = String::from_utf8(body.to_vec()).map_err(|e| e.to_string())?;
    let mut json: serde_json::Value = serde_json::from_str(&original).map_err(|e| e.to_string())?;
    let changed = redact_update(&mut json);
    Ok(InboxRow {
        update_id: i64::from(update.id.0),
        chat_id: chat_key(&update),
        payload: json.to_string(),
        original: changed.then(|| original.into()),
    })
}

/// Stores updates as inbox rows, redacted (the poller also keeps the parsed
/// updates in memory for the processor; a redacted row carries its original
/// in memory in case that cache missed it).
pub fn rows_of(updates: &[Update]) -> Vec<InboxRow> {
    updates
        .iter()
        .filter_map(|u| {
            let mut json = serde_json::to_value(u).ok()?;
            let original = redact_update(&mut json).then(|| serde_json::to_string(u).ok());
            Some(InboxRow {
                update_id: i64::from(u.id.0),
                chat_id: chat_key(u),
                payload: json.to_string(),
                original: original.flatten().map(Into::into),
            })
        })
        .collect()
}

/// Redacts every text and caption of an update's JSON (the message, the
/// message it replies to, a quote, …) with the one redactor, a bare
/// one-time-code-like number included, before it is stored; the entities of
/// a changed text go (their offsets no longer fit). Ids (the message id
/// needed to delete it) stay. A card number or password masked here is
/// recognised by the core when the row is applied from the table. Says
/// whether anything changed.
pub fn redact_update(json: &mut serde_json::Value) -> bool {
    let mut changed = false;
    match json {
        serde_json::Value::Object(map) => {
            for (field, entities) in [("text", "entities"), ("caption", "caption_entities")] {
                let Some(serde_json::Value::String(text)) = map.get(field) else {
                    continue;
                };
                let stored = crate::redact::for_storage(text);
                if stored != *text {
                    map.insert(field.to_string(), serde_json::Value::String(stored));
                    map.remove(entities);
                    changed = true;
                }
            }
            for value in map.values_mut() {
                changed |= redact_update(value);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                changed |= redact_update(item);
            }
        }
        _ => {}
    }
    changed
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
    /// The worker read the chat's stored updates and applied all of them.
    drained: bool,
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
        if let Some(queue) = self.waiting.get_mut(&report.chat) {
            // Rows queued here meanwhile that the worker found in the store
            // and applied already.
            queue.retain(|r| !report.applied.contains(&r.update_id));
        }
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
    // Chats with updates stored before this start: their workers read the
    // store first, so an update left by the last run is never overtaken by
    // a newer one handed over in memory (the first scan reads only the
    // oldest rows of the whole inbox).
    let mut backlog = loop {
        match engine.store.inbox_chats().await {
            Ok(chats) => break chats,
            Err(e) => {
                tracing::warn!(error = %e, "reading the inbox failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    };
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
            let source = match several_replicas(&engine) || backlog.contains(&chat) {
                true => Source::Store,
                false => Source::InHand,
            };
            tasks
                .spawn(async move { apply_chat(&bot, &engine, &parsed, chat, rows, source).await });
        }
        tokio::select! {
            _ = notified => {}
            Some(report) = tasks.join_next(), if !tasks.is_empty() => {
                let mut reports: Vec<ChatReport> = report.into_iter().collect();
                while let Some(Ok(report)) = tasks.try_join_next() {
                    reports.push(report);
                }
                for report in reports {
                    if report.drained && !several_replicas(&engine) {
                        backlog.remove(&report.chat);
                    }
                    queues.report(report);
                }
            }
            _ = rescan.tick() => scan_due = true,
            _ = stop.changed() => {}
        }
    }
}

/// Where a chat's worker finds the updates it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The rows handed over in memory are all there is: one process, and
    /// the chat had nothing stored before this start.
    InHand,
    /// The store: under the chat's lease, every stored and unapplied update
    /// of the chat, in update order, whichever replica (or earlier run)
    /// stored it. The rows in hand only say that there is work.
    Store,
}

/// How many of a chat's stored updates one read takes.
const CHAT_READ: i64 = 200;

/// Applies one chat's updates in order; stops at the first failure.
async fn apply_chat(
    bot: &Bot,
    engine: &Arc<Engine>,
    parsed: &Parsed,
    chat: i64,
    rows: Vec<InboxRow>,
    source: Source,
) -> ChatReport {
    let mut report = ChatReport {
        chat,
        applied: Vec::new(),
        unapplied: Vec::new(),
        retry: true,
        drained: false,
    };
    if source == Source::InHand {
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            if !apply(bot, engine, parsed.take(row.update_id), &row).await {
                // Keep this and later updates of the chat; try again shortly.
                tokio::time::sleep(Duration::from_secs(2)).await;
                report.unapplied.push(row);
                report.unapplied.extend(rows);
                break;
            }
            report.applied.push(row.update_id);
        }
        return report;
    }
    let leases = several_replicas(engine);
    let mut in_hand = rows;
    let mut last_applied = i64::MIN;
    loop {
        if leases && !lease_patiently(engine, chat).await {
            // Another replica holds the chat: it reads these rows from the
            // store before it lets go (and the rescan is a backstop).
            report.retry = false;
            report.unapplied = in_hand;
            return report;
        }
        let stored = match engine.store.inbox_of_chat(chat, CHAT_READ).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(chat_id = chat, error = %e, "reading a chat's stored updates failed; retrying");
                release(engine, chat).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
                report.unapplied = in_hand;
                return report;
            }
        };
        let complete = stored.len() < CHAT_READ as usize;
        // The store's rows and the ones in hand, in update order. A row in
        // hand the store does not list is either being stored in the very
        // transaction that will apply it (this replica's writer stores an
        // update and may apply it in one commit) or applied already (then
        // applying it again changes nothing): either way it follows every
        // earlier stored update of the chat.
        // A row in hand wins over its stored copy: it may carry the
        // original text in memory (what is stored is redacted).
        let mut due: BTreeMap<i64, InboxRow> = in_hand
            .drain(..)
            .filter(|r| r.update_id > last_applied)
            .map(|r| (r.update_id, r))
            .collect();
        for row in stored {
            if row.update_id > last_applied {
                due.entry(row.update_id).or_insert(row);
            }
        }
        if due.is_empty() {
            release(engine, chat).await;
            if leases && complete && stored_after(engine, chat, last_applied).await {
                // Stored while we held the lease by a replica that then gave
                // up on the chat: take it again rather than leave it to the
                // rescan.
                continue;
            }
            report.drained = complete;
            return report;
        }
        let mut due = due.into_values();
        while let Some(row) = due.next() {
            // Renew the lease for each update (a long chat must not lose it).
            if leases && !lease_once(engine, chat).await {
                report.retry = false;
                report.unapplied.push(row);
                report.unapplied.extend(due);
                return report;
            }
            if !apply(bot, engine, parsed.take(row.update_id), &row).await {
                release(engine, chat).await;
                tokio::time::sleep(Duration::from_secs(2)).await;
                report.unapplied.push(row);
                report.unapplied.extend(due);
                return report;
            }
            last_applied = row.update_id;
            report.applied.push(row.update_id);
        }
    }
}

/// Takes or renews this replica's lease on a chat's updates.
async fn lease_once(engine: &Engine, chat: i64) -> bool {
    let now = engine.now().timestamp_millis();
    engine
        .store
        .lease_chat("inbox", chat, &engine.replica_id, now, now + LEASE_MS)
        .await
        .unwrap_or(false)
}

/// Takes a chat's lease, waiting a little while another replica finishes
/// with the chat (it usually holds it for one or two turns).
async fn lease_patiently(engine: &Engine, chat: i64) -> bool {
    let mut wait = Duration::from_millis(10);
    let mut waited = Duration::ZERO;
    loop {
        if lease_once(engine, chat).await {
            return true;
        }
        if waited >= LEASE_PATIENCE {
            return false;
        }
        tokio::time::sleep(wait).await;
        waited += wait;
        wait = (wait * 2).min(Duration::from_millis(200));
    }
}

/// How long a worker waits for a chat's lease before leaving the chat to
/// the replica that holds it.
const LEASE_PATIENCE: Duration = Duration::from_millis(1500);

/// Gives the chat's lease back (several replicas).
async fn release(engine: &Engine, chat: i64) {
    if several_replicas(engine) {
        let _ = engine
            .store
            .release_chat("inbox", chat, &engine.replica_id)
            .await;
    }
}

/// Whether the chat has a stored, unapplied update after `after`.
async fn stored_after(engine: &Engine, chat: i64, after: i64) -> bool {
    match engine.store.inbox_of_chat(chat, CHAT_READ).await {
        Ok(rows) => rows.iter().any(|r| r.update_id > after),
        Err(_) => false,
    }
}

/// Whether several processes share the database (`telegram.replicas`), so
/// chats are leased; a single process skips the round trips.
pub(crate) fn several_replicas(engine: &Engine) -> bool {
    engine.settings.telegram.replicas > 1
}

/// Applies one stored update; `false` if it must be tried again.
async fn apply(bot: &Bot, engine: &Arc<Engine>, parsed: Option<Update>, row: &InboxRow) -> bool {
    let update = match (parsed, &row.original) {
        (Some(update), _) => Ok(update),
        (None, Some(original)) => serde_json::from_str::<Update>(original),
        (None, None) => serde_json::from_str::<Update>(&row.payload),
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

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::UpdateKind;

    #[test]
    fn a_webhook_update_is_stored_redacted_and_applied_as_received() {
        let body = serde_json::json!({
            "update_id": 7,
            "message": {
                "message_id": 31, "date": 1_700_000_000,
                "chat": { "id": 42, "type": "private", "first_name": "A" },
                "from": { "id": 42, "is_bot": false, "first_name": "A" },
                "text": "卡号 4111\u{a0}1111\u{a0}1111\u{a0}1111 密码 Mima#778899",
                "entities": [{ "type": "bold", "offset": 0, "length": 2 }],
                "reply_to_message": {
                    "message_id": 30, "date": 1_700_000_000,
                    "chat": { "id": 42, "type": "private", "first_name": "A" },
                    "text": "654321"
                }
            }
        })
        .to_string();
        let row = row_from_json(body.as_bytes()).expect("a valid update"); // ok: a test
        assert_eq!((row.update_id, row.chat_id), (7, 42));
        assert_eq!(row.original.as_deref(), Some(body.as_str()));
        for secret in ["1111\u{a0}1111", "Mima#778899", "654321"] {
            assert!(!row.payload.contains(secret), "{}", row.payload);
        }
        let stored: Update = serde_json::from_str(&row.payload).expect("still an update"); // ok: a test
        let UpdateKind::Message(message) = stored.kind else {
            panic!("a message"); // ok: a test
        };
        assert_eq!(message.id.0, 31, "the id needed to delete it stays");
        assert_eq!(message.text(), Some("卡号 4111 **** **** 1111 密码 ******"));
        let polled = rows_of(&[serde_json::from_str::<Update>(&body).expect("update")]); // ok: a test
        assert!(!polled[0].payload.contains("Mima#778899"));
        assert!(!polled[0].payload.contains("1111\u{a0}1111"));
        assert!(
            polled[0]
                .original
                .as_deref()
                .is_some_and(|o| o.contains("Mima#778899"))
        );
        let plain = body
            .replace(
                "卡号 4111\u{a0}1111\u{a0}1111\u{a0}1111 密码 Mima#778899",
                "你好",
            )
            .replace("654321", "好");
        let row = row_from_json(plain.as_bytes()).expect("a valid update"); // ok: a test
        assert!(
            row.original.is_none(),
            "nothing to hold when nothing was masked"
        );
    }
}
