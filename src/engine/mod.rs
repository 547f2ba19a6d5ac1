//! The driver around the pure core: one turn = one transaction that claims
//! the update id, loads the conversation, runs `step` (feeding back facts the
//! core asks for), applies its writes, renders its messages into the outbox
//! and saves the new state. After commit it wakes the sender and starts code
//! deliveries. Channels (Telegram, terminal, HTTP) call into this.

mod staff;
mod writer;

pub use staff::{StaffInput, StaffReply, StaffRequest};

use crate::metrics::{Counted, Tally};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::config::{Derived, Settings};
use crate::conversation::{
    self, Conversation, Ctx, Delivery, Effect, Event, Msg, Outgoing, TicketOpened, TicketReason,
    TicketView,
};
use crate::delivery::{OtpDelivery, OtpMessage};
use crate::domain::{Lang, MerchantId, Reference, RequestStatus};
use crate::i18n::{Texts, strip_html};
use crate::intents::Classifier;
use crate::redact;
use crate::storage::{OutboxPayload, PendingCode, Priority, Store, StoreError, Tx};

/// Which pending codes [`Engine::recover_lost_codes`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// Every one: at the start of the only process.
    All,
    /// Those past their deadline: with several replicas, and periodically.
    Overdue,
}

/// The person behind an input.
#[derive(Debug, Clone, Default)]
pub struct UserInfo {
    /// Telegram user id.
    pub id: i64,
    /// Telegram `language_code`.
    pub language_code: Option<String>,
    /// Display name.
    pub name: String,
}

/// One input from a channel.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The chat.
    pub chat_id: i64,
    /// Who.
    pub user: UserInfo,
    /// Telegram's update id, applied once.
    pub update_id: Option<i64>,
    /// The merchant's message id (for deletion and relay).
    pub message_id: Option<i32>,
    /// What.
    pub event: Event,
}

/// What the channel must do after the turn committed.
#[derive(Debug, Clone, Default)]
pub struct TurnOutcome {
    /// The update was applied before; nothing was done.
    pub duplicate: bool,
    /// Answer the button press with this toast (`Some(None)`: silently).
    pub toast: Option<Option<String>>,
    /// Delete the incoming message (it held a secret).
    pub delete_incoming: bool,
    /// The turn's counts, added to the metrics once it committed.
    pub tally: Tally,
}

/// What a committed turn leaves for its channel: the outcome and the codes to deliver.
pub(crate) type TurnDone = (TurnOutcome, Vec<OtpMessage>);

/// A failure of a turn.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed (after retries).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The shared application state.
pub struct Engine {
    /// Storage.
    pub store: Store,
    /// Texts.
    pub texts: Arc<Texts>,
    /// Intent classifier.
    pub classifier: Arc<Classifier>,
    /// Settings.
    pub settings: Arc<Settings>,
    /// Checked settings.
    pub derived: Arc<Derived>,
    /// Key of code hashes.
    hash_key: Vec<u8>,
    /// Wakes the outbox sender.
    pub outbox_signal: Arc<Notify>,
    /// Wakes the inbox processor (new updates stored).
    pub inbox_signal: Arc<Notify>,
    /// This process's name in chat leases (several replicas on PostgreSQL).
    pub replica_id: String,
    delivery: Arc<dyn OtpDelivery>,
    clock: Clock,
    /// Process counters.
    pub metrics: crate::metrics::Metrics,
    flood: std::sync::Mutex<FloodGuard>,
    /// Tickets whose card waits for the end of their merchant's burst.
    card_refresh: std::sync::Mutex<crate::tickets::refresh::CardRefresh>,
    /// Updates stored since the inbox processor last looked (handed over in
    /// memory; the processor also rereads the inbox table now and then).
    inbox_fresh: std::sync::Mutex<Vec<crate::storage::InboxRow>>,
    /// Messages committed since the sender last looked, once a sender is
    /// attached (`None`: no sender in this process, e.g. the terminal chat).
    outbox_fresh: std::sync::Mutex<Option<Vec<crate::storage::OutboxRow>>>,
    /// Wakes the sender for `outbox_fresh`.
    pub outbox_fresh_signal: Arc<Notify>,
    /// Queue of the group-commit writer (turns, sent marks, inbox clean-up).
    writer: tokio::sync::mpsc::UnboundedSender<writer::Job>,
    /// The connection the writer's transactions run on, kept between them.
    writer_conn: Arc<crate::storage::ConnKeeper>,
}

/// Per-chat input counting over one-minute windows (per process).
#[derive(Debug, Default)]
struct FloodGuard {
    windows: std::collections::HashMap<i64, (i64, u32)>,
}

/// What the flood guard says about one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flood {
    /// Within the limit.
    Pass,
    /// Just went over: one polite notice.
    Notice,
    /// Still over: dropped.
    Drop,
}

impl FloodGuard {
    fn check(&mut self, chat_id: i64, now_ms: i64, per_minute: u32) -> Flood {
        if per_minute == 0 {
            return Flood::Pass;
        }
        if self.windows.len() > 50_000 {
            self.windows
                .retain(|_, (start, _)| now_ms - *start < 60_000);
        }
        let entry = self.windows.entry(chat_id).or_insert((now_ms, 0));
        if now_ms - entry.0 >= 60_000 {
            *entry = (now_ms, 0);
        }
        entry.1 += 1;
        match entry.1.cmp(&per_minute) {
            std::cmp::Ordering::Less | std::cmp::Ordering::Equal => Flood::Pass,
            std::cmp::Ordering::Greater if entry.1 == per_minute + 1 => Flood::Notice,
            std::cmp::Ordering::Greater => Flood::Drop,
        }
    }
}

/// Where time comes from: the system, or a fixed offset for tests and demos.
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
}

impl Clock {
    fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
        }
    }
}

const MAX_FOLLOW_UPS: usize = 4;

/// A turn's first step, taken before the turn runs (see `write_batch`).
struct FirstStep {
    transition: conversation::Transition,
    classified: Option<(String, crate::intents::Intent)>,
    now: DateTime<Utc>,
}

impl Engine {
    /// Builds an engine over a migrated store.
    pub async fn new(
        store: Store,
        settings: Settings,
        texts: Texts,
        classifier: Classifier,
        delivery: Arc<dyn OtpDelivery>,
    ) -> Result<Arc<Engine>, crate::Error> {
        let derived = settings.derive()?;
        let hash_key = if settings.otp.hash_key.is_empty() {
            store
                .secret("otp_hash_key", || hex::encode(random_bytes::<32>()))
                .await?
        } else {
            settings.otp.hash_key.expose().to_string()
        };
        let metrics = crate::metrics::Metrics::default();
        metrics.know_topics(classifier.faq());
        Ok(Arc::new_cyclic(|engine| {
            let (jobs, queue) = tokio::sync::mpsc::unbounded_channel();
            writer::start(engine.clone(), queue);
            Engine {
                store,
                texts: Arc::new(texts),
                classifier: Arc::new(classifier),
                settings: Arc::new(settings),
                derived: Arc::new(derived),
                hash_key: hash_key.into_bytes(),
                outbox_signal: Arc::new(Notify::new()),
                inbox_signal: Arc::new(Notify::new()),
                replica_id: format!(
                    "{}-{}",
                    std::process::id(),
                    hex::encode(random_bytes::<4>())
                ),
                delivery,
                clock: Clock::System,
                metrics,
                flood: std::sync::Mutex::new(FloodGuard::default()),
                card_refresh: std::sync::Mutex::new(Default::default()),
                inbox_fresh: std::sync::Mutex::new(Vec::new()),
                outbox_fresh: std::sync::Mutex::new(None),
                outbox_fresh_signal: Arc::new(Notify::new()),
                writer: jobs,
                writer_conn: Arc::default(),
            }
        }))
    }

    /// Closes the store (after letting go of the writer's connection: the
    /// pool waits for every connection to come back).
    pub async fn close(&self) {
        self.writer_conn.close();
        self.store.close().await;
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Hands a turn to the group-commit writer and waits for its commit
    /// (or applies it directly if the writer is gone).
    async fn queue_turn(&self, inbound: &Inbound) -> Result<TurnDone, StoreError> {
        let (reply, done) = tokio::sync::oneshot::channel();
        let job = writer::Job::Turn {
            inbound: inbound.clone(),
            reply,
        };
        if self.writer.send(job).is_ok()
            && let Ok(result) = done.await
        {
            return result;
        }
        let mut results = self.turn_batch(&[inbound]).await?;
        results
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a turn gave no result".into()))
    }

    /// Takes in new updates: queues them for storing in the inbox and hands
    /// them to the processor at once, so a turn can be applied in the same
    /// transaction that stores its update. Returns once they are committed
    /// (only then may Telegram be told they arrived). Queued before they are
    /// handed over, so no turn is written before its update is stored.
    pub async fn take_in(&self, rows: Vec<crate::storage::InboxRow>) -> Result<(), StoreError> {
        let (reply, done) = tokio::sync::oneshot::channel();
        let job = writer::Job::Store {
            rows: rows.clone(),
            reply,
        };
        if self.writer.send(job).is_ok() {
            self.inbox_stored(rows.clone());
            if let Ok(result) = done.await {
                return result;
            }
        }
        self.store
            .inbox_put(&rows, self.now().timestamp_millis())
            .await?;
        self.inbox_stored(rows);
        Ok(())
    }

    /// Records that Telegram accepted outbox messages (one, or several that
    /// went out merged as one message: marked in the same transaction),
    /// batched with other writes; returns once it is committed.
    pub async fn mark_sent(&self, outbox_ids: &[i64], at: i64) -> Result<(), StoreError> {
        let (reply, done) = tokio::sync::oneshot::channel();
        let job = writer::Job::Sent {
            ids: outbox_ids.to_vec(),
            reply,
        };
        if self.writer.send(job).is_ok()
            && let Ok(result) = done.await
        {
            return result;
        }
        self.store.outbox_sent(outbox_ids, at).await
    }

    /// Commits a transaction and hands the messages it queued to the sender.
    pub(crate) async fn commit(&self, tx: Tx) -> Result<(), StoreError> {
        let queued = tx.commit().await?;
        if queued.is_empty() {
            return Ok(());
        }
        let handed = self
            .outbox_fresh
            .lock()
            .map(|mut fresh| match fresh.as_mut() {
                // Bounded: past this the sender finds them in the table.
                Some(rows) if rows.len() < 100_000 => {
                    rows.extend(queued);
                    true
                }
                _ => false,
            })
            .unwrap_or(false);
        if handed {
            self.outbox_fresh_signal.notify_one();
        } else {
            self.outbox_signal.notify_one();
        }
        Ok(())
    }

    /// Starts handing committed messages to this process's sender.
    pub fn attach_sender(&self) {
        if let Ok(mut fresh) = self.outbox_fresh.lock()
            && fresh.is_none()
        {
            *fresh = Some(Vec::new());
        }
    }

    /// Takes the messages committed since the last call.
    pub fn take_outbox_fresh(&self) -> Vec<crate::storage::OutboxRow> {
        self.outbox_fresh
            .lock()
            .ok()
            .and_then(|mut fresh| fresh.as_mut().map(std::mem::take))
            .unwrap_or_default()
    }

    /// Hands updates just stored in the inbox to the processor.
    pub fn inbox_stored(&self, rows: Vec<crate::storage::InboxRow>) {
        if let Ok(mut fresh) = self.inbox_fresh.lock() {
            fresh.extend(rows);
        }
        self.inbox_signal.notify_one();
    }

    /// Takes the updates stored since the last call.
    pub fn take_inbox_stored(&self) -> Vec<crate::storage::InboxRow> {
        self.inbox_fresh
            .lock()
            .map(|mut fresh| std::mem::take(&mut *fresh))
            .unwrap_or_default()
    }

    /// Removes an applied update from the inbox with the writer's next batch
    /// (if that fails, the update is offered again and recognised as applied).
    pub fn inbox_done_later(&self, update_id: i64) {
        if self.writer.send(writer::Job::InboxDone(update_id)).is_err() {
            tracing::debug!(
                update_id,
                "writer gone; the update is cleared on the next start"
            );
        }
    }

    /// Applies one input, retrying transient database failures.
    #[tracing::instrument(skip_all, fields(chat_id = inbound.chat_id, update_id = inbound.update_id))]
    pub async fn handle(self: &Arc<Self>, inbound: Inbound) -> Result<TurnOutcome, EngineError> {
        if inbound.event.is_user_input() {
            let per_minute = self.settings.limits.inputs_per_minute;
            let now_ms = self.now().timestamp_millis();
            let verdict = self
                .flood
                .lock()
                .map(|mut f| f.check(inbound.chat_id, now_ms, per_minute))
                .unwrap_or(Flood::Pass);
            if verdict != Flood::Pass {
                self.metrics.flood_dropped();
                return self.flooded(&inbound, verdict == Flood::Notice).await;
            }
        }
        let mut attempt = 0;
        let started = std::time::Instant::now();
        self.metrics.update(inbound.event.kind());
        loop {
            match self.queue_turn(&inbound).await {
                Ok((outcome, deliveries)) => {
                    self.metrics.observe_turn(started.elapsed());
                    // Counted here, once the turn committed: a retried turn
                    // counts once.
                    self.metrics.add(&outcome.tally);
                    self.metrics.codes_sent(deliveries.len());
                    for message in deliveries {
                        self.spawn_delivery(inbound.chat_id, inbound.user.clone(), message);
                    }
                    return Ok(outcome);
                }
                Err(e) if e.is_transient() && attempt < 5 => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "transient database error, retrying the turn");
                    tokio::time::sleep(Duration::from_millis(20 * (1 << attempt))).await;
                }
                Err(e) => {
                    self.metrics.turn_failed();
                    return Err(e.into());
                }
            }
        }
    }

    /// An input over the flood limit: applied as seen (its update id is
    /// claimed) but not processed; the first one gets a polite notice.
    async fn flooded(&self, inbound: &Inbound, notice: bool) -> Result<TurnOutcome, EngineError> {
        let now_ms = self.now().timestamp_millis();
        let mut tx = self.store.begin().await?;
        if let Some(update_id) = inbound.update_id
            && !tx.claim_update(update_id, inbound.chat_id, now_ms).await?
        {
            tx.rollback().await?;
            return Ok(TurnOutcome {
                duplicate: true,
                ..TurnOutcome::default()
            });
        }
        if notice {
            let lang = match inbound.user.language_code.as_deref() {
                Some(code) => Lang::negotiate(Some(code)),
                None => tx.chat_lang(inbound.chat_id).await?,
            };
            let html = self.texts.render(lang, &Msg::new("flood-notice"));
            let payload = OutboxPayload::Text {
                html,
                buttons: Vec::new(),
            };
            tx.enqueue(
                inbound.chat_id,
                None,
                &payload,
                Priority::Interactive,
                now_ms,
            )?;
        }
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        let toast = matches!(inbound.event, Event::Callback(_)).then_some(None);
        Ok(TurnOutcome {
            toast,
            ..TurnOutcome::default()
        })
    }

    fn spawn_delivery(self: &Arc<Self>, chat_id: i64, user: UserInfo, message: OtpMessage) {
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            let delivered = match engine.delivery.deliver(&message).await {
                Ok(()) => true,
                Err(e) => {
                    engine.metrics.code_failed();
                    tracing::warn!(merchant = %message.merchant, error = %e, "one-time code not delivered");
                    false
                }
            };
            let inbound = Inbound {
                chat_id,
                user,
                update_id: None,
                message_id: None,
                event: Event::OtpDelivery {
                    merchant: message.merchant.clone(),
                    issued_at: message.issued_at,
                    outcome: if delivered {
                        Delivery::Delivered
                    } else {
                        Delivery::Failed
                    },
                },
            };
            if let Err(e) = engine.handle(inbound).await {
                tracing::error!(error = %e, "recording a code delivery result failed");
            }
        });
    }

    /// Applies turns of different chats in one transaction (group commit):
    /// claims their update ids, loads their conversations and tickets, runs
    /// each, and commits once. One result per input, in order.
    pub(crate) async fn turn_batch(&self, batch: &[&Inbound]) -> Result<Vec<TurnDone>, StoreError> {
        self.write_batch(&writer::Chores::default(), batch).await
    }

    /// `turn_batch` after the writer's chores (updates to store, messages
    /// to mark sent, applied updates to remove), all in one transaction.
    pub(crate) async fn write_batch(
        &self,
        chores: &writer::Chores,
        batch: &[&Inbound],
    ) -> Result<Vec<TurnDone>, StoreError> {
        let t0 = std::time::Instant::now();
        let now_ms = self.now().timestamp_millis();
        let mut tx = self.store.begin_kept(&self.writer_conn).await?;
        tx.inbox_put_many(&chores.updates, now_ms);
        tx.outbox_sent(&chores.sent, now_ms);
        for update_id in &chores.applied {
            tx.inbox_done(*update_id);
        }
        if batch.is_empty() {
            self.commit(tx).await?;
            return Ok(Vec::new());
        }
        let chats: Vec<i64> = batch.iter().map(|i| i.chat_id).collect();
        let claims: Vec<(i64, i64)> = batch
            .iter()
            .filter_map(|i| i.update_id.map(|u| (u, i.chat_id)))
            .collect();
        let crate::storage::ClaimedChats {
            fresh,
            mut conversations,
            mut tickets,
        } = tx.claim_and_load(&chats, &claims, now_ms).await?;
        let t_claim = std::time::Instant::now();
        // Every turn's first step is pure: take them all now, so the
        // merchant facts they ask for are read in one round trip.
        let now = self.now();
        let mut firsts = Vec::with_capacity(batch.len());
        let mut wanted = Vec::new();
        // A code's outcome is recorded once: by its delivery, or by the
        // sweep after the process that sent it died (the first of them).
        let codes: Vec<(&str, i64)> = batch
            .iter()
            .filter_map(|inbound| match &inbound.event {
                Event::OtpDelivery {
                    merchant,
                    issued_at,
                    ..
                } => Some((merchant.as_str(), *issued_at)),
                _ => None,
            })
            .collect();
        let mut taken = tx.take_codes_pending(&codes).await?;
        for inbound in batch {
            let mut applies = inbound.update_id.is_none_or(|u| fresh.contains(&u));
            if let Event::OtpDelivery {
                merchant,
                issued_at,
                ..
            } = &inbound.event
            {
                applies = taken.remove(&(merchant.as_str().to_string(), *issued_at));
            }
            if !applies {
                firsts.push(None);
                continue;
            }
            let before = conversations.remove(&inbound.chat_id).unwrap_or_default();
            let ticket = tickets.remove(&inbound.chat_id);
            let first = self.first_step(&before, inbound, ticket.clone(), now);
            for effect in &first.transition.effects {
                if let Effect::Fetch { merchant, .. } = effect {
                    wanted.push((merchant.clone(), inbound.user.id));
                }
            }
            firsts.push(Some((before, ticket, first)));
        }
        let t_codes = std::time::Instant::now();
        tx.read_facts(&wanted, now_ms).await?;
        let t_facts = std::time::Instant::now();
        let mut results = Vec::with_capacity(batch.len());
        for (inbound, first) in batch.iter().zip(firsts) {
            let Some((before, ticket, first)) = first else {
                results.push((
                    TurnOutcome {
                        duplicate: true,
                        ..TurnOutcome::default()
                    },
                    Vec::new(),
                ));
                continue;
            };
            results.push(
                self.turn_with(&mut tx, inbound, before, ticket, Some(first))
                    .await?,
            );
            if let Some(update_id) = inbound.update_id
                && !matches!(inbound.event, Event::Callback(_))
            {
                // Applied: off the inbox in the same transaction. A button
                // press stays until its answerCallbackQuery went out (the
                // channel removes it then): after a crash in between, it is
                // met again as already applied and answered then.
                tx.inbox_done(update_id);
            }
        }
        let t_steps = std::time::Instant::now();
        self.commit(tx).await?;
        let t_commit = std::time::Instant::now();
        tracing::debug!(
            claim = (t_claim - t0).as_micros(),
            codes = (t_codes - t_claim).as_micros(),
            facts = (t_facts - t_codes).as_micros(),
            steps = (t_steps - t_facts).as_micros(),
            commit = (t_commit - t_steps).as_micros(),
            "batch phases"
        );
        Ok(results)
    }

    /// Runs one turn inside a transaction the caller commits (staff actions
    /// use it to change a merchant's conversation atomically with the ticket).
    pub(crate) async fn turn_in(
        &self,
        tx: &mut Tx,
        inbound: &Inbound,
    ) -> Result<TurnDone, StoreError> {
        let before = tx
            .load_conversation(inbound.chat_id)
            .await?
            .unwrap_or_default();
        let ticket = tx.open_ticket_of_chat(inbound.chat_id).await?;
        self.turn_with(tx, inbound, before, ticket, None).await
    }

    /// The context of a step.
    fn ctx(&self, now: DateTime<Utc>, ticket: Option<TicketView>, inbound: &Inbound) -> Ctx<'_> {
        Ctx {
            client_lang: inbound
                .user
                .language_code
                .as_deref()
                .map(|code| Lang::negotiate(Some(code))),
            now,
            random: random_bytes::<32>(),
            settings: &self.settings,
            derived: &self.derived,
            classifier: &self.classifier,
            hash_key: &self.hash_key,
            ticket,
            classified: Default::default(),
        }
    }

    /// The first step of a turn (pure), taken ahead of the turn itself.
    fn first_step(
        &self,
        before: &Conversation,
        inbound: &Inbound,
        ticket: Option<TicketView>,
        now: DateTime<Utc>,
    ) -> FirstStep {
        let ctx = self.ctx(now, ticket, inbound);
        let transition = conversation::step(before, inbound.event.clone(), &ctx);
        FirstStep {
            transition,
            classified: ctx.classified.take(),
            now,
        }
    }

    /// Runs one turn from its loaded conversation and open ticket (and its
    /// first step, if already taken).
    async fn turn_with(
        &self,
        tx: &mut Tx,
        inbound: &Inbound,
        before: Conversation,
        mut ticket: Option<TicketView>,
        first: Option<FirstStep>,
    ) -> Result<TurnDone, StoreError> {
        let now = first.as_ref().map_or_else(|| self.now(), |f| f.now);
        let now_ms = now.timestamp_millis();
        let chat_id = inbound.chat_id;
        let mut conv = before.clone();
        let mut event = inbound.event.clone();
        let mut outcome = TurnOutcome::default();
        let mut sends: Vec<Outgoing> = Vec::new();
        let mut toast: Option<Option<Msg>> = None;
        let mut deliveries = Vec::new();
        let mut classified = None;
        let mut first = first;
        let mut typed: Option<String> = None;
        for step in 0..MAX_FOLLOW_UPS {
            let transition = match first.take() {
                Some(first) => {
                    classified = first.classified;
                    first.transition
                }
                None => {
                    let ctx = self.ctx(now, ticket.clone(), inbound);
                    let transition = conversation::step(&conv, event, &ctx);
                    if classified.is_none() {
                        classified = ctx.classified.take();
                    }
                    transition
                }
            };
            if step == 0 {
                typed = transition.input;
            }
            conv = transition.next;
            let mut follow_up = None;
            for effect in transition.effects {
                match effect {
                    Effect::Send(out) => {
                        if let Some(first) = out.parts.first() {
                            outcome.tally.add(Counted::Reply(first.id));
                        }
                        sends.push(out)
                    }
                    Effect::Toast(msg) => toast = Some(msg),
                    Effect::DeleteIncoming => outcome.delete_incoming = true,
                    Effect::Fetch { merchant, then } => {
                        let facts = tx
                            .merchant_facts(&merchant, inbound.user.id, now_ms)
                            .await?;
                        follow_up = Some(Event::Facts {
                            facts: Box::new(facts),
                            then,
                        });
                    }
                    Effect::DeliverOtp {
                        merchant,
                        phone,
                        code,
                        expires_at,
                    } => {
                        // Committed with the turn: if this process dies
                        // before the gateway's answer is recorded, the row
                        // outlives it and the merchant is told (no merchant
                        // is left believing a code is on its way).
                        let pending = PendingCode {
                            merchant_id: merchant.as_str().to_string(),
                            issued_at: now_ms,
                            chat_id,
                            user_id: inbound.user.id,
                        };
                        tx.code_pending(&pending, &self.replica_id, self.code_deadline(now_ms))
                            .await?;
                        deliveries.push(OtpMessage {
                            merchant,
                            phone,
                            code,
                            expires_at,
                            issued_at: now_ms,
                        })
                    }
                    Effect::OpenTicket { reason } => {
                        outcome.tally.add(Counted::Handoff(reason.as_str()));
                        // A merchant locked out while entering codes is not verified,
                        // but staff need the number they tried (to unlock it).
                        let asked = before
                            .merchant_in_question(now_ms)
                            .map(|m| m.as_str().to_string());
                        let opened = match self.reopen_recent(tx, inbound.chat_id, now_ms).await? {
                            Some(reopened) => reopened,
                            None => {
                                self.open_ticket(tx, inbound, &conv, asked, reason, now_ms)
                                    .await?
                            }
                        };
                        ticket = Some(TicketView {
                            id: opened.id,
                            assignee: None,
                            position: opened.position,
                        });
                        follow_up = Some(Event::TicketOpened(opened));
                    }
                    Effect::RelayToStaff { ticket } => {
                        self.relay_to_staff(tx, inbound, ticket, now_ms).await?
                    }
                    Effect::RelayEditToStaff { ticket, edited } => {
                        let staff_lang = self.staff_lang();
                        let original = match inbound.message_id {
                            Some(id) => tx.ticket_message_body(ticket, i64::from(id)).await?,
                            None => None,
                        };
                        let html = self.texts.render(
                            staff_lang,
                            &Msg::new("staff-merchant-edited")
                                .arg("original", original.unwrap_or_else(|| "—".into()))
                                .arg("edited", edited.as_str()),
                        );
                        tx.ticket_message_with_id(
                            ticket,
                            "edit",
                            &inbound.user.name,
                            &edited,
                            inbound.message_id.map(i64::from),
                            now_ms,
                        )
                        .await?;
                        if self.settings.support.staff_chat_id != 0 {
                            self.card_shows_old_messages(ticket, now_ms);
                            let payload = OutboxPayload::Text {
                                html,
                                buttons: Vec::new(),
                            };
                            tx.enqueue(
                                self.settings.support.staff_chat_id,
                                Some(ticket),
                                &payload,
                                Priority::Staff,
                                now_ms,
                            )?;
                        }
                    }
                    Effect::Write(write) => {
                        tx.apply(&write, chat_id, inbound.user.id, now_ms).await?;
                        self.tell_staff_about(tx, &write, now_ms).await?;
                    }
                }
            }
            match follow_up {
                Some(next) => event = next,
                None => break,
            }
        }
        let lang = match (conv.lang, inbound.user.language_code.as_deref()) {
            (Some(lang), _) => lang,
            (None, Some(code)) => Lang::negotiate(Some(code)),
            (None, None) => tx.chat_lang(chat_id).await?,
        };
        for out in &sends {
            let rendered = self.texts.render_outgoing(lang, out);
            let payload = OutboxPayload::Text {
                html: rendered.html,
                buttons: rendered.buttons,
            };
            tx.enqueue(chat_id, None, &payload, Priority::Interactive, now_ms)?;
        }
        outcome.toast = toast.map(|m| m.map(|m| strip_html(&self.texts.render(lang, &m))));
        let (intent, input) = match &inbound.event {
            Event::Text(text) => {
                let intent = match &classified {
                    Some((seen, intent)) if seen == text => intent.name(),
                    _ => self.classifier.classify(text).name(),
                };
                outcome.tally.add(Counted::Intent(intent));
                (Some(intent), typed)
            }
            Event::Edited(_) => (None, typed),
            Event::Callback(data) => (None, Some(format!("[button {}]", data.to_data()))),
            Event::Media(kind) => (None, Some(format!("[{kind:?}]"))),
            Event::Command(c) => (None, Some(format!("[command {c:?}]"))),
            _ => (None, None),
        };
        tx.save_conversation(chat_id, inbound.user.id, &conv, lang, now_ms)?;
        tx.record_turn(
            chat_id,
            inbound.update_id,
            inbound.event.kind(),
            intent,
            input,
            before.state.name(),
            conv.state.name(),
            now_ms,
        );
        Ok((outcome, deliveries))
    }

    /// Keeps the ticket's topic informed of what the merchant did after
    /// staff were involved: withdrew the ticket, rated it, commented.
    async fn tell_staff_about(
        &self,
        tx: &mut Tx,
        write: &conversation::Write,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        use conversation::Write;
        if let Write::RequestCreated {
            reference,
            merchant,
        } = write
        {
            let facts = self
                .request_facts(
                    tx,
                    reference,
                    merchant.as_str(),
                    RequestStatus::Submitted,
                    None,
                    now_ms,
                    now_ms,
                )
                .await?;
            return self.post_request(tx, facts, false, now_ms).await;
        }
        let (ticket, msg) = match write {
            Write::TicketWithdrawn { ticket } => (
                *ticket,
                Msg::new("staff-ticket-withdrawn").arg("ticket", *ticket),
            ),
            Write::TicketRated { ticket, score } => (
                *ticket,
                Msg::new("staff-ticket-rated")
                    .arg("ticket", *ticket)
                    .arg("rating", i64::from(*score)),
            ),
            Write::TicketComment { ticket, comment } => (
                *ticket,
                Msg::new("staff-ticket-comment")
                    .arg("ticket", *ticket)
                    .arg("comment", comment.as_str()),
            ),
            _ => return Ok(()),
        };
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 {
            return Ok(());
        }
        let html = self.texts.render(self.staff_lang(), &msg);
        let payload = OutboxPayload::Text {
            html,
            buttons: Vec::new(),
        };
        tx.enqueue(staff_chat, Some(ticket), &payload, Priority::Staff, now_ms)?;
        if matches!(write, Write::TicketWithdrawn { .. }) {
            self.ticket_ended_by_merchant(tx, ticket, now_ms).await?;
        }
        Ok(())
    }

    /// Language of the staff group.
    pub fn staff_lang(&self) -> Lang {
        Lang::parse(&self.settings.support.staff_lang).unwrap_or_default()
    }

    async fn open_ticket(
        &self,
        tx: &mut Tx,
        inbound: &Inbound,
        conv: &Conversation,
        asked: Option<String>,
        reason: TicketReason,
        now_ms: i64,
    ) -> Result<TicketOpened, StoreError> {
        let staff_chat = self.settings.support.staff_chat_id;
        let merchant = conv
            .verified
            .as_ref()
            .filter(|v| v.until > now_ms)
            .map(|v| v.merchant.as_str().to_string())
            .or(asked);
        let lang = conv
            .lang
            .unwrap_or_else(|| Lang::negotiate(inbound.user.language_code.as_deref()));
        let opened = tx
            .open_ticket(
                inbound.chat_id,
                inbound.user.id,
                &inbound.user.name,
                merchant.as_deref(),
                lang,
                reason,
                staff_chat != 0,
                now_ms,
            )
            .await?;
        tx.audit(
            &format!("user:{}", inbound.user.id),
            "ticket.opened",
            merchant.as_deref(),
            Some(inbound.chat_id),
            &format!("ticket {} ({})", opened.id, reason.as_str()),
            now_ms,
        )
        .await?;
        if staff_chat == 0 {
            return Ok(opened);
        }
        self.post_new_card(tx, opened.id, now_ms).await?;
        Ok(opened)
    }

    async fn relay_to_staff(
        &self,
        tx: &mut Tx,
        inbound: &Inbound,
        ticket: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let body = match &inbound.event {
            Event::Text(text) => redact::redacted(text),
            Event::Media(kind) => format!("[{kind:?}]"),
            Event::Command(c) => format!("[command {c:?}]"),
            _ => String::new(),
        };
        tx.ticket_message_with_id(
            ticket,
            "in",
            &inbound.user.name,
            &body,
            inbound.message_id.map(i64::from),
            now_ms,
        )
        .await?;
        let staff_chat = self.settings.support.staff_chat_id;
        let (true, Some(message_id)) = (staff_chat != 0, inbound.message_id) else {
            return Ok(());
        };
        self.card_shows_old_messages(ticket, now_ms);
        // A text carries its redacted words, so that the sender can merge
        // it with the ticket's next ones when they queue for the group.
        let payload = match &inbound.event {
            Event::Text(_) => OutboxPayload::FromMerchant {
                from_chat: inbound.chat_id,
                message_id,
                sender: inbound.user.name.clone(),
                at: now_ms,
                text: body,
            },
            _ => OutboxPayload::Copy {
                from_chat: inbound.chat_id,
                message_id,
            },
        };
        tx.enqueue(staff_chat, Some(ticket), &payload, Priority::Staff, now_ms)?;
        Ok(())
    }

    /// Changes a request's status (back office) and notifies the merchant in
    /// their language. Errors name what is wrong.
    pub async fn set_request_status(
        &self,
        reference: &str,
        status: RequestStatus,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<(), StatusChangeError> {
        let Some(reference) = Reference::parse(reference) else {
            return Err(StatusChangeError::BadReference);
        };
        // A reason that cannot fit in a Telegram message would change the
        // status and leave the merchant untold: refuse it up front.
        if let Some(reason) = reason
            && reason.chars().count() > MAX_REASON_CHARS
        {
            return Err(StatusChangeError::ReasonTooLong {
                max: MAX_REASON_CHARS,
            });
        }
        let now_ms = self.now().timestamp_millis();
        let mut tx = self.store.begin().await?;
        match self
            .request_status_in(&mut tx, &reference, status, reason, actor, now_ms)
            .await
        {
            Ok(()) => {}
            Err(e) => {
                tx.rollback().await?;
                return Err(e);
            }
        }
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        Ok(())
    }

    /// `set_request_status` inside a transaction the caller commits (staff
    /// buttons use it with their own action); on an error nothing was written.
    pub(crate) async fn request_status_in(
        &self,
        tx: &mut Tx,
        reference: &Reference,
        status: RequestStatus,
        reason: Option<&str>,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StatusChangeError> {
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
            return Err(StatusChangeError::ReasonTooLong {
                max: MAX_REASON_CHARS,
            });
        }
        let reason = reason.map(redact::redacted);
        let Some(row) = tx.request_for_update(reference.as_str()).await? else {
            return Err(StatusChangeError::NotFound);
        };
        let current = RequestStatus::parse(&row.status)
            .ok_or_else(|| StatusChangeError::Store(StoreError::Corrupt(row.status.clone())))?;
        if current == status {
            return Err(StatusChangeError::Unchanged(current));
        }
        if !current.can_become(status) {
            return Err(StatusChangeError::NotAllowed(current, status));
        }
        tx.lock_chat(row.chat_id).await?;
        tx.set_request_status(
            reference.as_str(),
            status.as_str(),
            reason.as_deref(),
            now_ms,
        )
        .await?;
        tx.audit(
            actor,
            "unbind.status",
            Some(&row.merchant_id),
            Some(row.chat_id),
            &format!("{reference}: {} -> {}", current.as_str(), status.as_str()),
            now_ms,
        )
        .await?;
        if let Some(out) = conversation::notification_for_status(
            reference,
            status,
            reason.as_deref(),
            self.classifier.faq(),
        ) {
            let lang = tx.chat_lang(row.chat_id).await?;
            let rendered = self.texts.render_outgoing(lang, &out);
            let payload = OutboxPayload::Text {
                html: rendered.html,
                buttons: rendered.buttons,
            };
            tx.enqueue(row.chat_id, None, &payload, Priority::Bulk, now_ms)?;
        }
        let facts = self
            .request_facts(
                tx,
                reference,
                &row.merchant_id,
                status,
                reason,
                row.created_at,
                now_ms,
            )
            .await?;
        self.post_request(tx, facts, true, now_ms).await?;
        // The merchant's active ticket shows the new status on its card.
        if let Some(view) = tx.open_ticket_of_chat(row.chat_id).await? {
            self.ticket_changed(tx, view.id, now_ms).await?;
        }
        Ok(())
    }

    /// When a code issued at `issued_ms` counts as lost if its delivery's
    /// outcome is still unrecorded: well past the gateway's timeout.
    fn code_deadline(&self, issued_ms: i64) -> i64 {
        let timeout_ms = i64::try_from(
            self.settings
                .otp
                .webhook_timeout_seconds
                .saturating_mul(1000),
        )
        .unwrap_or(i64::MAX / 4);
        issued_ms
            .saturating_add(timeout_ms.saturating_mul(2))
            .saturating_add(30_000)
    }

    /// Tells merchants whose code's delivery died with a process (a crash
    /// between the commit and the gateway's answer) that it may not have
    /// arrived; the send is not counted and a new code may be asked for at
    /// once. `Sweep::All` at the start of the only process (nothing else can
    /// be sending them); `Sweep::Overdue` otherwise.
    pub async fn recover_lost_codes(self: &Arc<Self>, sweep: Sweep) -> Result<usize, EngineError> {
        let before = match sweep {
            Sweep::All => i64::MAX,
            Sweep::Overdue => self.now().timestamp_millis(),
        };
        let lost = self.store.codes_pending_overdue(before, 200).await?;
        for code in &lost {
            tracing::warn!(
                merchant = %code.merchant_id,
                chat_id = code.chat_id,
                "a one-time code's delivery was cut off (restart); the merchant is told to ask for a new one"
            );
            self.metrics.code_failed();
            let inbound = Inbound {
                chat_id: code.chat_id,
                user: UserInfo {
                    id: code.user_id,
                    ..UserInfo::default()
                },
                update_id: None,
                message_id: None,
                event: Event::OtpDelivery {
                    merchant: MerchantId::from_trusted(code.merchant_id.clone()),
                    issued_at: code.issued_at,
                    outcome: Delivery::Unknown,
                },
            };
            self.handle(inbound).await?;
        }
        Ok(lost.len())
    }

    /// Expires flows idle past the timeout, telling each merchant once.
    pub async fn expire_idle_flows(self: &Arc<Self>) -> Result<usize, EngineError> {
        let timeout_ms = self.settings.unbind.flow_timeout_minutes * 60_000;
        let before = self.now().timestamp_millis() - timeout_ms;
        let chats = self.store.chats_idle_in_flow(before, 200).await?;
        let count = chats.len();
        for chat_id in chats {
            let inbound = Inbound {
                chat_id,
                user: UserInfo::default(),
                update_id: None,
                message_id: None,
                event: Event::Tick,
            };
            self.handle(inbound).await?;
        }
        Ok(count)
    }
}

pub use crate::domain::MAX_REASON_CHARS;

/// Why a status change was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatusChangeError {
    /// Not a reference.
    #[error("not a valid reference (expected UB-YYYYMMDD-XXXXX)")]
    BadReference,
    /// The reason would not fit in the merchant's notice.
    #[error(
        "the reason is longer than {max} characters (it must fit in the merchant's Telegram message)"
    )]
    ReasonTooLong {
        /// The limit.
        max: usize,
    },
    /// Unknown reference.
    #[error("no request with this reference")]
    NotFound,
    /// Already in that status.
    #[error("the request is already {}", .0.as_str())]
    Unchanged(RequestStatus),
    /// Not a permitted transition.
    #[error("a request that is {} cannot become {}", .0.as_str(), .1.as_str())]
    NotAllowed(RequestStatus, RequestStatus),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Fresh bytes from the OS generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if let Err(e) = getrandom::fill(&mut bytes) {
        // The OS generator failing is not recoverable for a security product.
        panic!("the operating system's random generator failed: {e}");
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_guard_notices_once_then_drops_and_resets() {
        let mut guard = FloodGuard::default();
        for _ in 0..3 {
            assert_eq!(guard.check(1, 0, 3), Flood::Pass);
        }
        assert_eq!(guard.check(1, 10, 3), Flood::Notice);
        assert_eq!(guard.check(1, 20, 3), Flood::Drop);
        assert_eq!(guard.check(2, 20, 3), Flood::Pass);
        assert_eq!(guard.check(1, 60_000, 3), Flood::Pass);
        assert_eq!(guard.check(1, 0, 0), Flood::Pass);
    }
}
