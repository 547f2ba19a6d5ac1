//! Long polling that loses nothing: each batch from getUpdates is stored in
//! the inbox before the next getUpdates acknowledges it; a processor applies
//! stored updates one chat at a time in update order (different chats in
//! parallel) and deletes each once applied. After a crash, whatever was
//! stored and not applied is applied on the next start.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
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

/// Polls Telegram until `stop`, storing every batch before acknowledging it.
pub async fn poll(
    bot: Bot,
    engine: Arc<Engine>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
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
                engine
                    .metrics
                    .inc("posdesk_telegram_errors_total", "method=\"getUpdates\"");
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
        loop {
            match engine
                .store
                .inbox_put(&rows, engine.now().timestamp_millis())
                .await
            {
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
        if let Some(last) = updates.last() {
            offset = i32::try_from(last.id.0).ok().map(|id| id.saturating_add(1));
        }
        wake.notify_one();
    }
}

/// Applies stored updates until `stop`; then finishes the turns in hand.
pub async fn process(
    bot: Bot,
    engine: Arc<Engine>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let in_flight: Arc<Mutex<HashSet<i64>>> = Arc::new(Mutex::new(HashSet::new()));
    let mut tasks = JoinSet::new();
    loop {
        let notified = wake.notified();
        if *stop.borrow() {
            while tasks.join_next().await.is_some() {}
            return;
        }
        match engine.store.inbox_due(2000).await {
            Ok(rows) => {
                let mut by_chat: BTreeMap<i64, Vec<InboxRow>> = BTreeMap::new();
                for row in rows {
                    by_chat.entry(row.chat_id).or_default().push(row);
                }
                for (chat, rows) in by_chat {
                    let claimed = in_flight
                        .lock()
                        .map(|mut f| f.insert(chat))
                        .unwrap_or(false);
                    if !claimed {
                        continue;
                    }
                    let (bot, engine, wake, in_flight) =
                        (bot.clone(), engine.clone(), wake.clone(), in_flight.clone());
                    tasks.spawn(async move {
                        for row in rows {
                            // Several replicas: hold (or renew) this chat's lease
                            // for the next update; another replica has it otherwise.
                            let now = engine.now().timestamp_millis();
                            let leased = engine
                                .store
                                .lease_chat("inbox", chat, &engine.replica_id, now, now + LEASE_MS)
                                .await
                                .unwrap_or(false);
                            if !leased {
                                break;
                            }
                            if !apply(&bot, &engine, &row).await {
                                // Keep this and later updates of the chat; try again shortly.
                                tokio::time::sleep(Duration::from_secs(2)).await;
                                break;
                            }
                        }
                        let _ = engine
                            .store
                            .release_chat("inbox", chat, &engine.replica_id)
                            .await;
                        if let Ok(mut f) = in_flight.lock() {
                            f.remove(&chat);
                        }
                        wake.notify_one();
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the inbox failed"),
        }
        tokio::select! {
            _ = notified => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Applies one stored update; `false` if it must be tried again.
async fn apply(bot: &Bot, engine: &Arc<Engine>, row: &InboxRow) -> bool {
    match serde_json::from_str::<Update>(&row.payload) {
        Ok(update) => {
            if !super::handle_update(bot.clone(), update, engine.clone()).await {
                return false;
            }
        }
        Err(e) => {
            tracing::warn!(update_id = row.update_id, error = %e, "stored update unreadable; skipped")
        }
    }
    if let Err(e) = engine.store.inbox_done(row.update_id).await {
        // Applied but still stored: it will be offered again and recognised
        // as already applied by its update id.
        tracing::warn!(update_id = row.update_id, error = %e, "could not clear an applied update");
    }
    true
}
