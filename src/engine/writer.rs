//! Group commit. One task writes for the whole process: while a transaction
//! is being written, work of other chats queues up, and the next
//! transaction takes it all — updates to store, sent marks, applied updates
//! to clear, and turns (one per chat, in arrival order) — so a busy bot pays
//! for one commit and a handful of multi-row statements per batch instead of
//! a dozen database round trips per turn. An idle bot writes each at once.

use std::collections::{HashSet, VecDeque};
use std::sync::Weak;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::oneshot;

use super::{Engine, Inbound, TurnDone};
use crate::storage::{InboxRow, StoreError};

/// Work for the writer.
pub(crate) enum Job {
    /// Apply a turn; reply when committed.
    Turn {
        inbound: Inbound,
        reply: oneshot::Sender<Result<TurnDone, StoreError>>,
    },
    /// Store updates in the inbox; reply when committed.
    Store {
        rows: Vec<InboxRow>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Mark outbox messages sent (several when they went out as one
    /// merged message: all in the same transaction); reply when committed.
    Sent {
        ids: Vec<i64>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Remove an applied update from the inbox (no reply).
    InboxDone(i64),
}

/// The writes that ride along with a batch of turns.
#[derive(Default)]
pub(crate) struct Chores {
    /// Updates to store in the inbox.
    pub updates: Vec<InboxRow>,
    /// Outbox messages to mark sent.
    pub sent: Vec<i64>,
    /// Applied updates to remove from the inbox.
    pub applied: Vec<i64>,
}

/// Who waits for the chores.
#[derive(Default)]
struct ChoreReplies {
    stored: Vec<oneshot::Sender<Result<(), StoreError>>>,
    sent: Vec<oneshot::Sender<Result<(), StoreError>>>,
}

impl ChoreReplies {
    fn answer(self, result: &Result<(), String>) {
        for reply in self.stored.into_iter().chain(self.sent) {
            let _ = reply.send(match result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Transient(e.clone())),
            });
        }
    }
}

/// Turns per transaction at most.
const MAX_TURNS: usize = 256;

type Waiting = (Inbound, oneshot::Sender<Result<TurnDone, StoreError>>);

/// Starts the writer on a thread of its own, so its next statement never
/// waits in the shared runtime's queue behind hundreds of chat tasks: each
/// turn in the process waits for this one task. (On the caller's runtime if
/// the thread cannot be started.)
pub(crate) fn start(engine: Weak<Engine>, jobs: UnboundedReceiver<Job>) {
    let (engine_slot, jobs_slot) = (
        std::sync::Arc::new(std::sync::Mutex::new(Some(engine))),
        std::sync::Arc::new(std::sync::Mutex::new(Some(jobs))),
    );
    let taken = (engine_slot.clone(), jobs_slot.clone());
    let started = std::thread::Builder::new()
        .name("posdesk-writer".into())
        .spawn(move || {
            let (Some(engine), Some(jobs)) = (
                taken.0.lock().ok().and_then(|mut e| e.take()),
                taken.1.lock().ok().and_then(|mut j| j.take()),
            ) else {
                return;
            };
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(run(engine, jobs)),
                Err(e) => tracing::error!(error = %e, "the writer's runtime did not start"),
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "no writer thread; writing on the shared runtime");
        if let (Some(engine), Some(jobs)) = (
            engine_slot.lock().ok().and_then(|mut e| e.take()),
            jobs_slot.lock().ok().and_then(|mut j| j.take()),
        ) {
            tokio::spawn(run(engine, jobs));
        }
    }
}

/// Runs until the engine is dropped.
pub(crate) async fn run(engine: Weak<Engine>, mut jobs: UnboundedReceiver<Job>) {
    let mut waiting: VecDeque<Waiting> = VecDeque::new();
    loop {
        let mut chores = Chores::default();
        let mut replies = ChoreReplies::default();
        if waiting.is_empty() {
            match jobs.recv().await {
                Some(job) => sort(job, &mut waiting, &mut chores, &mut replies),
                None => return,
            }
        }
        while waiting.len() < MAX_TURNS * 4
            && let Ok(job) = jobs.try_recv()
        {
            sort(job, &mut waiting, &mut chores, &mut replies);
        }
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let batch = next_batch(&mut waiting);
        write(&engine, chores, replies, batch).await;
    }
}

fn sort(
    job: Job,
    waiting: &mut VecDeque<Waiting>,
    chores: &mut Chores,
    replies: &mut ChoreReplies,
) {
    match job {
        Job::Turn { inbound, reply } => waiting.push_back((inbound, reply)),
        Job::Store { rows, reply } => {
            chores.updates.extend(rows);
            replies.stored.push(reply);
        }
        Job::Sent { ids, reply } => {
            chores.sent.extend(ids);
            replies.sent.push(reply);
        }
        Job::InboxDone(id) => chores.applied.push(id),
    }
}

/// The next transaction's turns: the first waiting turn of each chat, in
/// arrival order; a chat's later turns wait for the next batch.
fn next_batch(waiting: &mut VecDeque<Waiting>) -> Vec<Waiting> {
    let mut batch = Vec::new();
    let mut chats = HashSet::new();
    let mut rest = VecDeque::with_capacity(waiting.len());
    for item in waiting.drain(..) {
        if batch.len() < MAX_TURNS && chats.insert(item.0.chat_id) {
            batch.push(item);
        } else {
            chats.insert(item.0.chat_id);
            rest.push_back(item);
        }
    }
    *waiting = rest;
    batch
}

/// Writes chores and turns in one transaction; if that fails for a reason
/// other than a busy database, writes the chores alone and each turn alone,
/// so one bad turn holds up nobody else.
async fn write(engine: &Engine, chores: Chores, replies: ChoreReplies, batch: Vec<Waiting>) {
    let inbounds: Vec<&Inbound> = batch.iter().map(|(inbound, _)| inbound).collect();
    let started = std::time::Instant::now();
    let written = engine.write_batch(&chores, &inbounds).await;
    tracing::debug!(
        turns = inbounds.len(),
        stored = chores.updates.len(),
        sent = chores.sent.len(),
        micros = started.elapsed().as_micros(),
        ok = written.is_ok(),
        "batch written"
    );
    let error = match written {
        Ok(results) => {
            replies.answer(&Ok(()));
            for ((_, reply), result) in batch.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
            return;
        }
        Err(e) => e,
    };
    if error.is_transient() {
        // The database is busy or away: everyone retries after a pause.
        let message = error.to_string();
        replies.answer(&Err(message.clone()));
        for (_, reply) in batch {
            let _ = reply.send(Err(StoreError::Transient(message.clone())));
        }
        return;
    }
    tracing::warn!(error = %error, turns = batch.len(), "a batch failed; writing its parts one by one");
    let chores_alone = engine
        .write_batch(&chores, &[])
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    replies.answer(&chores_alone);
    for (inbound, reply) in batch {
        let result = engine.turn_batch(&[&inbound]).await.and_then(|mut r| {
            r.pop()
                .ok_or_else(|| StoreError::Corrupt("a turn gave no result".into()))
        });
        let _ = reply.send(result);
    }
}
