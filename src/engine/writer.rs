//! Group commit. One task writes for the whole process: while a transaction
//! is being written, turns of other chats queue up, and the next
//! transaction takes them all (one per chat, in arrival order), so a busy
//! bot pays for one commit and a handful of multi-row statements per batch
//! instead of a dozen database round trips per turn. Sent marks and inbox
//! clean-up ride along the same way. An idle bot writes each turn at once.

use std::collections::{HashSet, VecDeque};
use std::sync::Weak;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::oneshot;

use super::{Engine, Inbound, TurnDone};
use crate::storage::StoreError;

/// Work for the writer.
pub(crate) enum Job {
    /// Apply a turn; reply when committed.
    Turn {
        inbound: Inbound,
        reply: oneshot::Sender<Result<TurnDone, StoreError>>,
    },
    /// Mark an outbox message sent; reply when committed.
    Sent {
        id: i64,
        at: i64,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Remove an applied update from the inbox (no reply).
    InboxDone(i64),
}

/// Turns per transaction at most.
const MAX_TURNS: usize = 256;

type Waiting = (Inbound, oneshot::Sender<Result<TurnDone, StoreError>>);

/// Runs until the engine is dropped.
pub(crate) async fn run(engine: Weak<Engine>, mut jobs: UnboundedReceiver<Job>) {
    let mut waiting: VecDeque<Waiting> = VecDeque::new();
    loop {
        let mut marks = Vec::new();
        let mut done = Vec::new();
        if waiting.is_empty() {
            match jobs.recv().await {
                Some(job) => sort(job, &mut waiting, &mut marks, &mut done),
                None => return,
            }
        }
        while waiting.len() < MAX_TURNS * 4
            && let Ok(job) = jobs.try_recv()
        {
            sort(job, &mut waiting, &mut marks, &mut done);
        }
        let Some(engine) = engine.upgrade() else {
            return;
        };
        if !marks.is_empty() {
            write_marks(&engine, marks).await;
        }
        if !done.is_empty()
            && let Err(e) = engine.store.inbox_done(&done).await
        {
            tracing::warn!(error = %e, "could not clear applied updates (they will be recognised as applied)");
        }
        let batch = next_batch(&mut waiting);
        if !batch.is_empty() {
            write_turns(&engine, batch).await;
        }
    }
}

fn sort(
    job: Job,
    waiting: &mut VecDeque<Waiting>,
    marks: &mut Vec<(i64, i64, oneshot::Sender<Result<(), StoreError>>)>,
    done: &mut Vec<i64>,
) {
    match job {
        Job::Turn { inbound, reply } => waiting.push_back((inbound, reply)),
        Job::Sent { id, at, reply } => marks.push((id, at, reply)),
        Job::InboxDone(id) => done.push(id),
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

async fn write_marks(
    engine: &Engine,
    marks: Vec<(i64, i64, oneshot::Sender<Result<(), StoreError>>)>,
) {
    let ids: Vec<i64> = marks.iter().map(|(id, _, _)| *id).collect();
    let at = marks.iter().map(|(_, at, _)| *at).max().unwrap_or_default();
    let result = engine.store.outbox_sent(&ids, at).await;
    let failure = result.err().map(|e| e.to_string());
    for (_, _, reply) in marks {
        let _ = reply.send(match &failure {
            None => Ok(()),
            Some(e) => Err(StoreError::Transient(e.clone())),
        });
    }
}

async fn write_turns(engine: &Engine, batch: Vec<Waiting>) {
    let inbounds: Vec<&Inbound> = batch.iter().map(|(inbound, _)| inbound).collect();
    match engine.turn_batch(&inbounds).await {
        Ok(results) => {
            for ((_, reply), result) in batch.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Err(e) if batch.len() == 1 => {
            for (_, reply) in batch {
                let _ = reply.send(Err(e));
                break;
            }
        }
        Err(e) if e.is_transient() => {
            // The database is busy or away: every turn retries after a pause.
            let message = e.to_string();
            for (_, reply) in batch {
                let _ = reply.send(Err(StoreError::Transient(message.clone())));
            }
        }
        Err(e) => {
            // One turn may be at fault: apply each alone so the rest go through.
            tracing::warn!(error = %e, turns = batch.len(), "a batch failed; applying its turns one by one");
            for (inbound, reply) in batch {
                let result = engine.turn_batch(&[&inbound]).await.and_then(|mut r| {
                    r.pop()
                        .ok_or_else(|| StoreError::Corrupt("a turn gave no result".into()))
                });
                let _ = reply.send(result);
            }
        }
    }
}
