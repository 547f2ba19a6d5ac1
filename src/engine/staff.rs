//! The interpreter of the ticket core: one staff action = one transaction
//! that claims the update id, loads the ticket, calls `tickets::step`, and
//! turns its effects into writes, outbox rows (topic messages, card edits,
//! topic changes, merchant messages) and merchant turns. Presentation comes
//! from `tickets::card`; decisions from `tickets::step`.

use crate::conversation::{Event, Msg, Outgoing, TicketReason};
use crate::domain::{Lang, MerchantId, Reference, RequestStatus};
use crate::i18n::{escape_html, strip_html};
use crate::redact;
use crate::storage::{OutboxPayload, Priority, StoreError, TicketRow, TopicOp, Tx};
use crate::tickets::card::{self, CardFacts, EarlierTicket};
use crate::tickets::{
    self, Agent, Effect, StaffCallback, StaffCommand, StaffEvent, Status, Ticket, ToMerchant, Write,
};

use super::{Engine, EngineError, Inbound, StatusChangeError, UserInfo};

/// How long an agent's next reply counts as a rejection reason.
const REASON_WAIT_MS: i64 = 10 * 60_000;

/// One input from the staff group.
#[derive(Debug, Clone)]
pub struct StaffRequest {
    /// Telegram's update id (applied once).
    pub update: Option<i64>,
    /// Who.
    pub actor: UserInfo,
    /// The forum topic it came from.
    pub thread: Option<i32>,
    /// The author of the message this one replies to, when it is a real
    /// reply (not the topic's first message): `(user, is_bot)`.
    pub reply_to: Option<(UserInfo, bool)>,
    /// What.
    pub input: StaffInput,
}

/// What a staff member did.
#[derive(Debug, Clone)]
pub enum StaffInput {
    /// Pressed a button.
    Button(StaffCallback),
    /// Sent a command.
    Command(StaffCommand),
    /// Wrote a message (text or media).
    Message {
        /// Its id, for copying it to the merchant.
        message_id: i32,
        /// Its text or caption.
        text: String,
        /// Its text with formatting, as Telegram HTML.
        html: Option<String>,
        /// Whether it carries media.
        media: bool,
    },
    /// Edited an earlier message: a text, or a media message's caption.
    Edited {
        /// Its id.
        message_id: i32,
        /// The new text or caption.
        text: String,
        /// The new text or caption with formatting, as Telegram HTML.
        html: Option<String>,
        /// Whether it carries media (the caption was edited).
        media: bool,
    },
}

/// What the staff channel should show the agent right away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffReply {
    /// Toast for a button press (plain text).
    pub toast: Option<String>,
}

/// Whether a card is posted anew or edited in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardMode {
    New,
    Edit,
}

impl Engine {
    /// A staff-group card or post rendered in the staff language: its
    /// lines as one HTML text, and its buttons.
    fn render_card(&self, card: card::Card) -> (String, Vec<Vec<(String, String)>>) {
        let lang = self.staff_lang();
        let html = card
            .lines
            .iter()
            .map(|line| self.texts.render(lang, line))
            .collect::<Vec<_>>()
            .join("\n");
        let buttons = self
            .texts
            .render_outgoing(
                lang,
                &Outgoing {
                    parts: Vec::new(),
                    keyboard: card.keyboard,
                },
            )
            .buttons;
        (html, buttons)
    }

    /// Whether `user` may act as staff: anyone in the staff group, or only the
    /// allow-list when one is configured.
    pub fn is_staff(&self, user_id: i64) -> bool {
        let allow = &self.settings.support.staff_user_ids;
        allow.is_empty() || allow.contains(&user_id)
    }

    /// What merchants see of an agent: an alias ("07": their place in the
    /// allow-list, else the last two digits of their id) or their name.
    pub fn agent(&self, user: &UserInfo) -> Agent {
        let shown = if self.settings.support.agent_names == "telegram" {
            user.name.clone()
        } else {
            let allow = &self.settings.support.staff_user_ids;
            let number = match allow.iter().position(|id| *id == user.id) {
                Some(i) => i as i64 + 1,
                None => user.id.rem_euclid(100),
            };
            format!("{number:02}")
        };
        Agent {
            id: user.id,
            name: user.name.clone(),
            shown,
        }
    }

    /// Begins a staff action's transaction and claims its update id in
    /// it; `None` when that update was applied before (a redelivery, or a
    /// replica's second copy): the action is not done twice.
    pub(crate) async fn begin_staff(&self, update: Option<i64>) -> Result<Option<Tx>, EngineError> {
        let mut tx = self.store.begin().await?;
        let now = self.now().timestamp_millis();
        if let Some(update_id) = update
            && !tx
                .claim_update(update_id, self.settings.support.staff_chat_id, now)
                .await?
        {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some(tx))
    }

    /// Applies one staff input, once per update id.
    #[tracing::instrument(skip_all, fields(update_id = request.update))]
    pub async fn staff(&self, request: StaffRequest) -> Result<StaffReply, EngineError> {
        let Some(mut tx) = self.begin_staff(request.update).await? else {
            return Ok(StaffReply::default());
        };
        let now_ms = self.now().timestamp_millis();
        let actor = self.agent(&request.actor);
        let is_staff = self.is_staff(actor.id);
        let via_button = matches!(request.input, StaffInput::Button(_));
        let in_topic = match request.thread {
            Some(thread) => tx.ticket_by_thread(i64::from(thread)).await?,
            None => None,
        };
        let found = match &request.input {
            StaffInput::Button(data) => {
                let row = match data.ticket() {
                    Some(id) => tx.ticket(id).await?,
                    None => in_topic,
                };
                match (row, button_event(data)) {
                    (Some(row), Some(event)) => Some((row, event)),
                    (
                        None,
                        Some(
                            event
                            @ (StaffEvent::SetRequest { .. } | StaffEvent::AskRejectReason(_)),
                        ),
                    ) => {
                        // A request's post in the requests topic: no ticket.
                        let reply = self
                            .request_outside(
                                &mut tx,
                                event,
                                &actor,
                                is_staff,
                                request.thread,
                                now_ms,
                            )
                            .await?;
                        self.commit(tx).await?;
                        self.outbox_signal.notify_one();
                        return Ok(reply);
                    }
                    _ => {
                        let msg = match data {
                            StaffCallback::Invalid => Msg::new("callback-expired"),
                            _ if !is_staff => Msg::new("staff-not-staff"),
                            _ => Msg::new("staff-not-in-ticket"),
                        };
                        // Recorded as applied: a redelivery is not answered twice.
                        self.commit(tx).await?;
                        return Ok(self.toast(msg));
                    }
                }
            }
            StaffInput::Command(command @ (StaffCommand::Tickets | StaffCommand::Stats)) => {
                let ticket = in_topic.map(|row| row.id);
                self.outside_topic(&mut tx, command, ticket, is_staff, now_ms)
                    .await?;
                None
            }
            StaffInput::Command(command) => match in_topic {
                Some(row) => match self.command_event(command, &request, is_staff) {
                    Ok(event) => Some((row, event)),
                    Err(answer) => {
                        self.answer_in(&mut tx, Some(row.id), answer, now_ms)?;
                        None
                    }
                },
                None => {
                    self.outside_topic(&mut tx, command, None, is_staff, now_ms)
                        .await?;
                    None
                }
            },
            StaffInput::Edited { text, .. } => {
                in_topic.map(|row| (row, StaffEvent::EditedReply { text: text.clone() }))
            }
            StaffInput::Message { text, media, .. } => {
                let reason = match (&request.reply_to, *media) {
                    (Some((_, true)), false) => tx.take_reason(actor.id, now_ms).await?,
                    _ => None,
                };
                match (reason, in_topic) {
                    (Some((reference, ticket)), row) => {
                        let row = match (ticket, row) {
                            (Some(id), _) => tx.ticket(id).await?,
                            (None, row) => row,
                        };
                        match (row, Reference::parse(&reference)) {
                            (Some(row), Some(reference)) => Some((
                                row,
                                StaffEvent::Reject {
                                    reference,
                                    reason: text.clone(),
                                },
                            )),
                            (None, Some(reference)) => {
                                let event = StaffEvent::Reject {
                                    reference,
                                    reason: text.clone(),
                                };
                                let reply = self
                                    .request_outside(
                                        &mut tx,
                                        event,
                                        &actor,
                                        is_staff,
                                        request.thread,
                                        now_ms,
                                    )
                                    .await?;
                                if let (Some(toast), Some(thread)) = (reply.toast, request.thread) {
                                    self.to_thread(&mut tx, i64::from(thread), &toast, now_ms)?;
                                }
                                None
                            }
                            (_, None) => None,
                        }
                    }
                    (None, Some(row)) if text.trim_start().to_lowercase().starts_with("#note") => {
                        Some((row, StaffEvent::Note(text.clone())))
                    }
                    (None, Some(row)) => Some((
                        row,
                        StaffEvent::Reply {
                            text: text.clone(),
                            media: *media,
                        },
                    )),
                    // Chatter outside ticket topics is none of our business.
                    (None, None) => None,
                }
            }
        };
        let Some((row, event)) = found else {
            self.commit(tx).await?;
            self.outbox_signal.notify_one();
            return Ok(StaffReply::default());
        };
        tx.lock_chat(row.chat_id).await?;
        let ticket = ticket_of(&row)?;
        let other_active = match event {
            StaffEvent::Reopen => tx.other_active_ticket(row.chat_id, row.id).await?,
            _ => false,
        };
        let ctx = tickets::Ctx {
            now_ms,
            actor: &actor,
            is_staff,
            other_active,
            faq: self.classifier.faq(),
        };
        let transition = tickets::step(&ticket, event, &ctx);
        let answer = self
            .apply_ticket(&mut tx, &row, &ticket, transition, &request, &actor, now_ms)
            .await?;
        let reply = match (answer, via_button) {
            (Some(msg), true) => self.toast(msg),
            (Some(msg), false) => {
                self.answer_in(&mut tx, Some(row.id), msg, now_ms)?;
                StaffReply::default()
            }
            (None, true) => StaffReply {
                toast: Some(String::new()),
            },
            (None, false) => StaffReply::default(),
        };
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        Ok(reply)
    }

    /// A request action from its post in the requests topic (no ticket):
    /// the same rules as everywhere; the answer is a toast.
    async fn request_outside(
        &self,
        tx: &mut Tx,
        event: StaffEvent,
        actor: &Agent,
        is_staff: bool,
        thread: Option<i32>,
        now_ms: i64,
    ) -> Result<StaffReply, EngineError> {
        if !is_staff {
            return Ok(self.toast(Msg::new("staff-not-staff")));
        }
        let actor_tag = format!("staff:{}", actor.id);
        let (reference, status, reason) = match event {
            StaffEvent::SetRequest { reference, status } => (reference, status, None),
            StaffEvent::Reject { reference, reason } => {
                (reference, RequestStatus::Rejected, Some(reason))
            }
            StaffEvent::AskRejectReason(reference) => {
                tx.await_reason(actor.id, reference.as_str(), None, now_ms + REASON_WAIT_MS)
                    .await?;
                if let Some(thread) = thread {
                    let ask = Msg::new("staff-reject-ask")
                        .arg("reference", reference.as_str())
                        .arg("agent", actor.name.as_str());
                    let html = self.texts.render(self.staff_lang(), &ask);
                    self.to_thread_html(tx, i64::from(thread), html, now_ms)?;
                }
                return Ok(StaffReply {
                    toast: Some(String::new()),
                });
            }
            _ => return Ok(StaffReply::default()),
        };
        let result = self
            .request_status_in(
                tx,
                &reference,
                status,
                reason.as_deref(),
                &actor_tag,
                now_ms,
            )
            .await;
        if let Err(StatusChangeError::ReasonTooLong { .. }) = &result {
            // Nothing changed; the agent's next reply still counts.
            tx.await_reason(actor.id, reference.as_str(), None, now_ms + REASON_WAIT_MS)
                .await?;
        }
        let msg = status_answer(&reference, status, result)?;
        Ok(self.toast(msg))
    }

    /// A plain line into a topic without a ticket.
    fn to_thread(
        &self,
        tx: &mut Tx,
        thread: i64,
        text: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.to_thread_html(tx, thread, escape_html(text), now_ms)
    }

    fn to_thread_html(
        &self,
        tx: &mut Tx,
        thread: i64,
        html: String,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 {
            return Ok(());
        }
        tx.enqueue(
            staff_chat,
            None,
            &OutboxPayload::ToThread { thread, html },
            Priority::Staff,
            now_ms,
        )?;
        Ok(())
    }

    /// Posts a request to the requests topic (`support.requests_topic`),
    /// or edits its post after a change.
    pub(crate) async fn post_request(
        &self,
        tx: &mut Tx,
        facts: card::RequestFacts,
        edit: bool,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 || self.settings.support.requests_topic == 0 {
            return Ok(());
        }
        let post = card::request_post(&facts);
        let (html, buttons) = self.render_card(post);
        let reference = facts.reference.as_str().to_string();
        let payload = match edit {
            false => OutboxPayload::RequestPost {
                reference,
                html,
                buttons,
            },
            true => OutboxPayload::EditRequestPost {
                reference,
                html,
                buttons,
            },
        };
        tx.enqueue(staff_chat, None, &payload, Priority::Staff, now_ms)?;
        Ok(())
    }

    /// The facts of a request's post.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn request_facts(
        &self,
        tx: &mut Tx,
        reference: &Reference,
        merchant: &str,
        status: RequestStatus,
        reason: Option<String>,
        created_at: i64,
        now_ms: i64,
    ) -> Result<card::RequestFacts, StoreError> {
        let record = tx
            .merchant_facts(&MerchantId::from_trusted(merchant.to_string()), 0, now_ms)
            .await?
            .merchant;
        Ok(card::RequestFacts {
            reference: reference.clone(),
            merchant: merchant.to_string(),
            record,
            status,
            reason,
            created_at,
        })
    }

    /// The ticket event of a command in a ticket's topic, or a one-line answer.
    fn command_event(
        &self,
        command: &StaffCommand,
        request: &StaffRequest,
        is_staff: bool,
    ) -> Result<StaffEvent, Msg> {
        Ok(match command {
            StaffCommand::Info => StaffEvent::Info,
            StaffCommand::Faq => StaffEvent::FaqList,
            StaffCommand::Claim => StaffEvent::Claim,
            StaffCommand::Unclaim => StaffEvent::Unclaim,
            StaffCommand::Close => StaffEvent::Close,
            StaffCommand::Reopen => StaffEvent::Reopen,
            StaffCommand::Unlock => StaffEvent::Unlock,
            StaffCommand::Block(reason) => StaffEvent::Block {
                reason: reason.clone(),
            },
            StaffCommand::Unblock => StaffEvent::Unblock,
            StaffCommand::Assign(arg) => {
                let target = match (&request.reply_to, arg.trim().parse::<i64>()) {
                    (Some((user, false)), _) => user.clone(),
                    (_, Ok(id)) if id > 0 => UserInfo {
                        id,
                        language_code: None,
                        name: format!("id {id}"),
                    },
                    _ if !is_staff => return Err(Msg::new("staff-not-staff")),
                    _ => return Err(Msg::new("staff-assign-how")),
                };
                StaffEvent::Assign {
                    is_staff: self.is_staff(target.id),
                    to: self.agent(&target),
                }
            }
            StaffCommand::Help | StaffCommand::Tickets | StaffCommand::Stats => {
                return Err(Msg::new("staff-help"));
            }
            StaffCommand::Unknown(name) => {
                return Err(Msg::new("staff-unknown-command").arg("command", format!("/{name}")));
            }
        })
    }

    /// A command that needs no ticket (or was sent outside any ticket's
    /// topic); answered in the ticket's topic when asked from one.
    async fn outside_topic(
        &self,
        tx: &mut Tx,
        command: &StaffCommand,
        ticket: Option<i64>,
        is_staff: bool,
        now_ms: i64,
    ) -> Result<(), EngineError> {
        let parts = match (command, is_staff) {
            (StaffCommand::Tickets, true) => self.ticket_list(now_ms).await?,
            (StaffCommand::Stats, true) => {
                let days = 7;
                let rows = self
                    .store
                    .ticket_stat_rows(now_ms - days * 86_400_000)
                    .await?;
                tickets::stats::lines(&tickets::stats::compute(&rows), days)
            }
            _ => match tickets::outside(command, is_staff) {
                Some(msg) => vec![msg],
                None => return Ok(()),
            },
        };
        let rendered = self.texts.render_outgoing(
            self.staff_lang(),
            &Outgoing {
                parts,
                keyboard: Vec::new(),
            },
        );
        let payload = OutboxPayload::Text {
            html: rendered.html,
            buttons: rendered.buttons,
        };
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 {
            return Ok(());
        }
        tx.enqueue(staff_chat, ticket, &payload, Priority::Staff, now_ms)?;
        Ok(())
    }

    /// The open tickets, one line each.
    async fn ticket_list(&self, now_ms: i64) -> Result<Vec<Msg>, EngineError> {
        let rows = self.store.list_tickets(true, 50).await?;
        if rows.is_empty() {
            return Ok(vec![Msg::new("staff-tickets-none")]);
        }
        let mut parts = vec![Msg::new("staff-tickets-header").arg("count", rows.len() as i64)];
        for row in rows.iter().rev() {
            let ticket = ticket_of(row)?;
            parts.push(card::ticket_line(
                &ticket,
                (now_ms - row.opened_at) / 60_000,
            ));
        }
        Ok(parts)
    }

    /// Interprets a ticket transition; returns the answer for the actor.
    #[allow(clippy::too_many_arguments)]
    async fn apply_ticket(
        &self,
        tx: &mut Tx,
        row: &TicketRow,
        before: &Ticket,
        transition: tickets::Transition,
        request: &StaffRequest,
        actor: &Agent,
        now_ms: i64,
    ) -> Result<Option<Msg>, EngineError> {
        let next = transition.next;
        if next != *before {
            tx.save_ticket(&next, now_ms).await?;
        }
        let mut answer = None;
        let mut posted = false;
        let mut refresh = false;
        let mut close_topic = false;
        let actor_tag = format!("staff:{}", actor.id);
        for effect in transition.effects {
            match effect {
                Effect::Answer(msg) => answer = Some(msg),
                Effect::Topic(out) => {
                    posted = true;
                    self.to_topic(tx, row.id, &out, now_ms)?;
                }
                Effect::Merchant(event) => self.merchant_event(tx, row, event).await?,
                Effect::ToMerchant(message) => {
                    self.to_merchant(tx, row, message, request, actor, now_ms)
                        .await?
                }
                Effect::Write(Write::Transcript { direction, body }) => {
                    tx.ticket_message(
                        row.id,
                        direction,
                        &actor.name,
                        &redact::redacted(&body),
                        now_ms,
                    )
                    .await?
                }
                Effect::Write(Write::UnlockCodes(merchant)) => tx.unlock_codes(&merchant).await?,
                Effect::Write(Write::AwaitReason(reference)) => {
                    tx.await_reason(
                        actor.id,
                        reference.as_str(),
                        Some(row.id),
                        now_ms + REASON_WAIT_MS,
                    )
                    .await?
                }
                Effect::Audit { action, detail } => {
                    tx.audit(
                        &actor_tag,
                        action,
                        row.merchant_id.as_deref(),
                        Some(row.chat_id),
                        &detail,
                        now_ms,
                    )
                    .await?
                }
                Effect::SetRequest {
                    reference,
                    status,
                    reason,
                } => {
                    let result = self
                        .request_status_in(
                            tx,
                            &reference,
                            status,
                            reason.as_deref(),
                            &actor_tag,
                            now_ms,
                        )
                        .await;
                    answer = Some(status_answer(&reference, status, result)?);
                }
                Effect::ShowCard => {
                    posted = true;
                    self.post_card(tx, row, &next, CardMode::New, now_ms)
                        .await?
                }
                Effect::Refresh => refresh = true,
                Effect::CloseTopic => close_topic = true,
                Effect::ReopenTopic => self.topic_op(tx, row.id, TopicOp::Reopen, now_ms)?,
            }
        }
        if refresh {
            self.post_card(tx, row, &next, CardMode::Edit, now_ms)
                .await?;
            let name = self.render_topic_name(&next, &row.user_name);
            self.topic_op(tx, row.id, TopicOp::Rename { name }, now_ms)?;
        }
        if close_topic {
            self.topic_op(tx, row.id, TopicOp::Close, now_ms)?;
        }
        Ok(match posted {
            // The topic already shows what happened; a button still gets its toast.
            true if !matches!(request.input, StaffInput::Button(_)) => None,
            _ => answer,
        })
    }

    /// A message for the merchant from staff (or the bot on staff's behalf).
    async fn to_merchant(
        &self,
        tx: &mut Tx,
        row: &TicketRow,
        message: ToMerchant,
        request: &StaffRequest,
        actor: &Agent,
        now_ms: i64,
    ) -> Result<(), EngineError> {
        let lang = tx.chat_lang(row.chat_id).await?;
        let signature = self.settings.support.sign_replies.then(|| {
            self.texts.render(
                lang,
                &Msg::new("reply-signature").arg("agent", actor.shown.as_str()),
            )
        });
        let signed = |body: String| match &signature {
            Some(sig) => format!("{sig}\n{body}"),
            None => body,
        };
        let payloads = match message {
            ToMerchant::Notice(msg) => vec![OutboxPayload::Text {
                html: self.texts.render(lang, &msg),
                buttons: Vec::new(),
            }],
            ToMerchant::Canned(faq) => {
                match crate::conversation::faq_message(faq, self.classifier.faq(), &self.settings) {
                    Some(msg) => vec![OutboxPayload::Text {
                        html: signed(self.texts.render(lang, &msg)),
                        buttons: Vec::new(),
                    }],
                    None => Vec::new(),
                }
            }
            ToMerchant::Edit { text } => match &request.input {
                StaffInput::Edited {
                    message_id,
                    html,
                    media: false,
                    ..
                } => vec![OutboxPayload::EditRelay {
                    html: signed(html.clone().unwrap_or_else(|| escape_html(&text))),
                    staff_message: *message_id,
                }],
                // A media message's copy carries the caption alone (its
                // signature went as a message of its own).
                StaffInput::Edited {
                    message_id,
                    html,
                    media: true,
                    ..
                } => vec![OutboxPayload::EditRelayCaption {
                    html: html.clone().unwrap_or_else(|| escape_html(&text)),
                    staff_message: *message_id,
                }],
                _ => Vec::new(),
            },
            ToMerchant::Reply { text, media } => {
                let (message_id, html) = match &request.input {
                    StaffInput::Message {
                        message_id, html, ..
                    } => (*message_id, html.clone()),
                    _ => (0, None),
                };
                match (media, text.is_empty()) {
                    // Staff formatting (bold, links, code) survives.
                    (false, false) => vec![OutboxPayload::Relay {
                        html: signed(html.unwrap_or_else(|| escape_html(&text))),
                        staff_message: message_id,
                    }],
                    _ => {
                        let mut payloads = Vec::new();
                        if let Some(sig) = &signature {
                            payloads.push(OutboxPayload::Text {
                                html: sig.clone(),
                                buttons: Vec::new(),
                            });
                        }
                        payloads.push(OutboxPayload::Copy {
                            from_chat: self.settings.support.staff_chat_id,
                            message_id,
                        });
                        payloads
                    }
                }
            }
        };
        for payload in payloads {
            tx.enqueue(row.chat_id, None, &payload, Priority::Interactive, now_ms)?;
        }
        Ok(())
    }

    /// Runs a turn of the ticket's merchant conversation in this transaction.
    async fn merchant_event(
        &self,
        tx: &mut Tx,
        ticket: &TicketRow,
        event: Event,
    ) -> Result<(), EngineError> {
        let inbound = Inbound {
            chat_id: ticket.chat_id,
            user: UserInfo {
                id: ticket.user_id,
                language_code: None,
                name: ticket.user_name.clone(),
            },
            update_id: None,
            message_id: None,
            event,
        };
        let (outcome, _) = self.turn_in(tx, &inbound).await?;
        self.metrics.add(&outcome.tally);
        Ok(())
    }

    /// A message in a ticket's topic.
    fn to_topic(
        &self,
        tx: &mut Tx,
        ticket: i64,
        out: &Outgoing,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 {
            return Ok(());
        }
        let rendered = self.texts.render_outgoing(self.staff_lang(), out);
        let payload = OutboxPayload::Text {
            html: rendered.html,
            buttons: rendered.buttons,
        };
        tx.enqueue(staff_chat, Some(ticket), &payload, Priority::Staff, now_ms)?;
        Ok(())
    }

    /// A one-line answer in a ticket's topic (or the general topic).
    fn answer_in(
        &self,
        tx: &mut Tx,
        ticket: Option<i64>,
        msg: Msg,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 {
            return Ok(());
        }
        let payload = OutboxPayload::Text {
            html: self.texts.render(self.staff_lang(), &msg),
            buttons: Vec::new(),
        };
        tx.enqueue(staff_chat, ticket, &payload, Priority::Staff, now_ms)?;
        Ok(())
    }

    /// A change to a ticket's forum topic.
    fn topic_op(
        &self,
        tx: &mut Tx,
        ticket: i64,
        op: TopicOp,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 {
            return Ok(());
        }
        tx.enqueue(
            staff_chat,
            Some(ticket),
            &OutboxPayload::Topic { op },
            Priority::Staff,
            now_ms,
        )?;
        Ok(())
    }

    /// Loads what the card shows and posts it (the first message of a
    /// topic, or `/info`) or edits the one at the top of the topic.
    async fn post_card(
        &self,
        tx: &mut Tx,
        row: &TicketRow,
        ticket: &Ticket,
        mode: CardMode,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 {
            return Ok(());
        }
        let facts = self.card_facts(tx, row, ticket, now_ms).await?;
        let card = card::card(&facts, now_ms);
        let (html, buttons) = self.render_card(card);
        let payload = match mode {
            CardMode::New => OutboxPayload::Card { html, buttons },
            CardMode::Edit => OutboxPayload::EditCard { html, buttons },
        };
        tx.enqueue(staff_chat, Some(row.id), &payload, Priority::Staff, now_ms)?;
        Ok(())
    }

    async fn card_facts(
        &self,
        tx: &mut Tx,
        row: &TicketRow,
        ticket: &Ticket,
        now_ms: i64,
    ) -> Result<CardFacts, StoreError> {
        let conversation = tx.load_conversation(row.chat_id).await?.unwrap_or_default();
        let facts = match &row.merchant_id {
            Some(m) => Some(
                tx.merchant_facts(&MerchantId::from_trusted(m.clone()), row.user_id, now_ms)
                    .await?,
            ),
            None => None,
        };
        let earlier = tx
            .earlier_tickets(row.chat_id, row.id, 5)
            .await?
            .into_iter()
            .map(|(id, status, thread_id)| EarlierTicket {
                id,
                status: Status::parse(&status).unwrap_or(Status::Closed),
                thread_id,
            })
            .collect();
        let recent = tx.recent_inputs(row.chat_id, 8).await?;
        let (merchant, locked_until, requests) = match facts {
            Some(f) => (f.merchant, f.otp.locked_until, f.requests),
            None => (None, None, Vec::new()),
        };
        Ok(CardFacts {
            ticket: ticket.clone(),
            user_name: row.user_name.clone(),
            user_id: row.user_id,
            lang: Lang::parse(&row.lang).unwrap_or_default(),
            merchant,
            locked_until,
            state: conversation.state.name(),
            blocked: conversation.blocked.is_some(),
            requests,
            earlier,
            recent,
            staff_chat: self.settings.support.staff_chat_id,
        })
    }

    /// A merchant asking for a person again within `support.reopen_days`
    /// of a close gets that ticket back (same topic, waiting for an agent);
    /// `None` when a new ticket is due.
    pub(crate) async fn reopen_recent(
        &self,
        tx: &mut Tx,
        chat_id: i64,
        now_ms: i64,
    ) -> Result<Option<crate::conversation::TicketOpened>, StoreError> {
        let Some(row) = tx.last_ticket_of_chat(chat_id).await? else {
            return Ok(None);
        };
        let ticket = ticket_of(&row)?;
        let Some(next) =
            tickets::reopen_on_request(&ticket, now_ms, self.settings.support.reopen_days)
        else {
            return Ok(None);
        };
        tx.save_ticket(&next, now_ms).await?;
        tx.audit(
            &format!("user:{}", row.user_id),
            "ticket.reopened",
            row.merchant_id.as_deref(),
            Some(chat_id),
            &format!("ticket {} (asked again)", row.id),
            now_ms,
        )
        .await?;
        self.topic_op(tx, row.id, TopicOp::Reopen, now_ms)?;
        self.answer_in(
            tx,
            Some(row.id),
            Msg::new("staff-ticket-asked-again").arg("ticket", row.id),
            now_ms,
        )?;
        self.refresh(tx, &row, &next, now_ms).await?;
        let position = tx
            .open_ticket_of_chat(chat_id)
            .await?
            .map_or(1, |t| t.position);
        Ok(Some(crate::conversation::TicketOpened {
            id: row.id,
            position,
            staff_chat: self.settings.support.staff_chat_id != 0,
        }))
    }

    /// The merchant withdrew the ticket: its card, name and topic follow.
    pub(crate) async fn ticket_ended_by_merchant(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let Some(row) = tx.ticket(ticket_id).await? else {
            return Ok(());
        };
        let ticket = ticket_of(&row)?;
        self.refresh(tx, &row, &ticket, now_ms).await?;
        self.topic_op(tx, row.id, TopicOp::Close, now_ms)
    }

    /// Something the card shows changed outside the ticket (a request's
    /// status): the card is edited.
    pub(crate) async fn ticket_changed(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let Some(row) = tx.ticket(ticket_id).await? else {
            return Ok(());
        };
        let ticket = ticket_of(&row)?;
        self.post_card(tx, &row, &ticket, CardMode::Edit, now_ms)
            .await
    }

    /// Edits a ticket's card and renames its topic after a change.
    async fn refresh(
        &self,
        tx: &mut Tx,
        row: &TicketRow,
        ticket: &Ticket,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.post_card(tx, row, ticket, CardMode::Edit, now_ms)
            .await?;
        let name = self.render_topic_name(ticket, &row.user_name);
        self.topic_op(tx, row.id, TopicOp::Rename { name }, now_ms)
    }

    /// Posts a new ticket's card (the first message of its topic).
    pub(crate) async fn post_new_card(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let Some(row) = tx.ticket(ticket_id).await? else {
            return Ok(());
        };
        let ticket = ticket_of(&row)?;
        self.post_card(tx, &row, &ticket, CardMode::New, now_ms)
            .await
    }

    fn render_topic_name(&self, ticket: &Ticket, user_name: &str) -> String {
        let name = strip_html(
            &self
                .texts
                .render(self.staff_lang(), &card::topic_name(ticket, user_name)),
        );
        // Telegram limits topic names to 128 characters.
        name.chars().take(120).collect()
    }

    /// The forum-topic title of a ticket.
    pub fn topic_name(&self, row: &TicketRow) -> String {
        match ticket_of(row) {
            Ok(ticket) => self.render_topic_name(&ticket, &row.user_name),
            Err(_) => format!("#{}", row.id),
        }
    }

    /// The merchant of `ticket` wrote: its card's last messages are behind
    /// (edited once their burst is over, by `refresh_cards`). Noted before
    /// the turn commits; a turn that fails costs one needless edit.
    pub(crate) fn card_shows_old_messages(&self, ticket: i64, now_ms: i64) {
        if let Ok(mut refresh) = self.card_refresh.lock() {
            refresh.note(ticket, now_ms);
        }
    }

    /// Edits the cards whose merchant's burst is over (one edit a burst,
    /// and at least every few seconds while they keep writing); returns
    /// how many, and when to look again (Unix ms).
    pub async fn refresh_cards(&self) -> Result<(usize, Option<i64>), EngineError> {
        let now_ms = self.now().timestamp_millis();
        let (due, next) = match self.card_refresh.lock() {
            Ok(mut refresh) => (refresh.take_due(now_ms), refresh.next_due()),
            Err(_) => (Vec::new(), None),
        };
        if due.is_empty() || self.settings.support.staff_chat_id == 0 {
            return Ok((0, next));
        }
        let mut tx = self.store.begin().await?;
        let mut edited = 0;
        for id in &due {
            let Some(row) = tx.ticket(*id).await? else {
                continue;
            };
            let ticket = ticket_of(&row)?;
            if !ticket.status.is_active() {
                continue;
            }
            self.post_card(&mut tx, &row, &ticket, CardMode::Edit, now_ms)
                .await?;
            edited += 1;
        }
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        Ok((edited, next))
    }

    /// Re-announces unclaimed tickets older than `support.remind_after_minutes`, once each.
    pub async fn remind_unclaimed_tickets(&self) -> Result<usize, EngineError> {
        let minutes = i64::from(self.settings.support.remind_after_minutes);
        if self.settings.support.staff_chat_id == 0 || minutes == 0 {
            return Ok(0);
        }
        let now = self.now().timestamp_millis();
        let rows = self
            .store
            .take_tickets_to_remind(now - minutes * 60_000)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.begin().await?;
        for row in &rows {
            let ticket = ticket_of(row)?;
            let out = Outgoing {
                parts: vec![
                    Msg::new("staff-reminder")
                        .arg("ticket", row.id)
                        .arg("minutes", (now - row.opened_at) / 60_000),
                ],
                keyboard: card::buttons(&ticket, &[]),
            };
            self.to_topic(&mut tx, row.id, &out, now)?;
        }
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        Ok(rows.len())
    }

    fn toast(&self, msg: Msg) -> StaffReply {
        StaffReply {
            toast: Some(strip_html(&self.texts.render(self.staff_lang(), &msg))),
        }
    }
}

/// The answer to a request status change.
fn status_answer(
    reference: &Reference,
    status: RequestStatus,
    result: Result<(), StatusChangeError>,
) -> Result<Msg, EngineError> {
    use crate::conversation::Arg;
    Ok(match result {
        Ok(()) => Msg::new("staff-request-updated")
            .arg("reference", reference.as_str())
            .arg("status", Arg::Ref(status.message_id())),
        Err(StatusChangeError::Store(e)) => return Err(e.into()),
        Err(StatusChangeError::Unchanged(current)) => Msg::new("staff-request-unchanged")
            .arg("reference", reference.as_str())
            .arg("status", Arg::Ref(current.message_id())),
        Err(StatusChangeError::NotAllowed(current, _)) => Msg::new("staff-request-not-allowed")
            .arg("reference", reference.as_str())
            .arg("status", Arg::Ref(current.message_id())),
        Err(StatusChangeError::ReasonTooLong { max }) => {
            Msg::new("staff-request-reason-too-long").arg("max", max as i64)
        }
        Err(StatusChangeError::BadReference | StatusChangeError::NotFound) => {
            Msg::new("staff-request-not-found").arg("reference", reference.as_str())
        }
    })
}

/// The ticket event of a button, if it is one.
fn button_event(data: &StaffCallback) -> Option<StaffEvent> {
    Some(match data {
        StaffCallback::Claim(_) => StaffEvent::Claim,
        StaffCallback::Unclaim(_) => StaffEvent::Unclaim,
        StaffCallback::Close(_) => StaffEvent::Close,
        StaffCallback::Reopen(_) => StaffEvent::Reopen,
        StaffCallback::Unlock(_) => StaffEvent::Unlock,
        StaffCallback::Info(_) => StaffEvent::Info,
        StaffCallback::Canned(faq, _) => StaffEvent::Canned(*faq),
        StaffCallback::Request(RequestStatus::Rejected, reference) => {
            StaffEvent::AskRejectReason(reference.clone())
        }
        StaffCallback::Request(status, reference) => StaffEvent::SetRequest {
            reference: reference.clone(),
            status: *status,
        },
        StaffCallback::Invalid => return None,
    })
}

/// The core's view of a stored ticket.
fn ticket_of(row: &TicketRow) -> Result<Ticket, StoreError> {
    let status = Status::parse(&row.status)
        .ok_or_else(|| StoreError::Corrupt(format!("ticket status {}", row.status)))?;
    let assignee = match (status, row.assignee_id, &row.assignee_name) {
        (Status::Claimed, Some(id), Some(name)) => Some(Agent {
            id,
            name: name.clone(),
            shown: name.clone(),
        }),
        (Status::Claimed, None, Some(name)) => Some(Agent {
            id: 0,
            name: name.clone(),
            shown: name.clone(),
        }),
        _ => None,
    };
    Ok(Ticket {
        id: row.id,
        chat_id: row.chat_id,
        merchant: row.merchant_id.clone(),
        reason: TicketReason::parse(&row.reason).unwrap_or(TicketReason::UserRequest),
        status,
        assignee,
        closed_at: row.closed_at,
    })
}
