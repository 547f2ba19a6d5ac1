//! The staff side of human handoff: claim, close, list, relay of staff
//! replies, internal notes, reminders. Staff work in one forum supergroup,
//! one topic per ticket. Every action changes the ticket and the merchant's
//! conversation in one transaction.

use chrono::{DateTime, Utc};

use crate::conversation::{Arg, Button, CallbackData, Event, Msg, Outgoing, TicketReason};
use crate::engine::{Engine, EngineError, Inbound, UserInfo};
use crate::i18n::{escape_html, strip_html};
use crate::redact;
use crate::storage::{OutboxPayload, Priority, TicketRow, Tx};

/// Claim and close buttons of a ticket.
pub fn ticket_buttons(ticket: i64) -> Vec<Vec<Button>> {
    vec![vec![
        Button::new("btn-claim", CallbackData::TicketClaim(ticket)),
        Button::new("btn-close", CallbackData::TicketClose(ticket)),
    ]]
}

/// What the staff channel should show the agent right away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffReply {
    /// Toast for a button press (plain text).
    pub toast: Option<String>,
}

/// A staff message posted in the staff group.
#[derive(Debug, Clone)]
pub struct StaffMessage {
    /// Forum topic it was posted in.
    pub thread_id: Option<i32>,
    /// Its id, for copying it to the merchant.
    pub message_id: i32,
    /// Its text or caption.
    pub text: Option<String>,
    /// Whether it carries media (photo, document, voice…).
    pub has_media: bool,
}

impl Engine {
    /// Whether `user` may act as staff: anyone in the staff group, or only the
    /// allow-list when one is configured.
    pub fn is_staff(&self, user_id: i64) -> bool {
        let allow = &self.settings.support.staff_user_ids;
        allow.is_empty() || allow.contains(&user_id)
    }

    fn staff_text(&self, msg: Msg) -> String {
        self.texts.render(self.staff_lang(), &msg)
    }

    async fn to_staff(
        &self,
        tx: &mut Tx,
        ticket: Option<i64>,
        out: Outgoing,
        now: i64,
    ) -> Result<(), EngineError> {
        let staff_chat = self.settings.support.staff_chat_id;
        if staff_chat == 0 {
            return Ok(());
        }
        let rendered = self.texts.render_outgoing(self.staff_lang(), &out);
        let payload = OutboxPayload::Text {
            html: rendered.html,
            buttons: rendered.buttons,
        };
        tx.enqueue(staff_chat, ticket, &payload, Priority::Staff, now)?;
        Ok(())
    }

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

    /// Claims a ticket for `agent`.
    pub async fn staff_claim(
        &self,
        ticket_id: i64,
        agent: &UserInfo,
    ) -> Result<StaffReply, EngineError> {
        if !self.is_staff(agent.id) {
            return Ok(self.toast("staff-not-staff"));
        }
        let now = self.now().timestamp_millis();
        let mut tx = self.store.begin().await?;
        let Some(ticket) = tx.ticket(ticket_id).await? else {
            tx.rollback().await?;
            return Ok(self.toast("staff-not-in-ticket"));
        };
        tx.lock_chat(ticket.chat_id).await?;
        if ticket.status == "claimed" {
            tx.rollback().await?;
            let agent = ticket.assignee_name.unwrap_or_default();
            let msg = Msg::new("staff-ticket-claimed")
                .arg("ticket", ticket_id)
                .arg("agent", agent);
            return Ok(StaffReply {
                toast: Some(strip_html(&self.staff_text(msg))),
            });
        }
        if !tx
            .claim_ticket(ticket_id, agent.id, &agent.name, now)
            .await?
        {
            tx.rollback().await?;
            return Ok(self.toast("staff-not-in-ticket"));
        }
        let event = Event::TicketClaimed {
            agent: agent.name.clone(),
        };
        self.finish_staff_action(
            tx,
            &ticket,
            agent,
            event,
            "staff-ticket-claimed",
            "ticket.claimed",
            now,
        )
        .await
    }

    /// Closes a ticket; the merchant is asked for a rating.
    pub async fn staff_close(
        &self,
        ticket_id: i64,
        agent: &UserInfo,
    ) -> Result<StaffReply, EngineError> {
        if !self.is_staff(agent.id) {
            return Ok(self.toast("staff-not-staff"));
        }
        let now = self.now().timestamp_millis();
        let mut tx = self.store.begin().await?;
        let Some(ticket) = tx.ticket(ticket_id).await? else {
            tx.rollback().await?;
            return Ok(self.toast("staff-not-in-ticket"));
        };
        tx.lock_chat(ticket.chat_id).await?;
        if !tx.close_ticket(ticket_id, now).await? {
            tx.rollback().await?;
            return Ok(self.toast("staff-not-in-ticket"));
        }
        let event = Event::TicketClosed { ticket: ticket_id };
        self.finish_staff_action(
            tx,
            &ticket,
            agent,
            event,
            "staff-ticket-closed",
            "ticket.closed",
            now,
        )
        .await
    }

    /// The common end of claim and close: the merchant's turn, the note in
    /// the topic, the audit line, one commit, and the agent's toast.
    #[allow(clippy::too_many_arguments)]
    async fn finish_staff_action(
        &self,
        mut tx: Tx,
        ticket: &TicketRow,
        agent: &UserInfo,
        event: Event,
        note_id: &'static str,
        action: &'static str,
        now: i64,
    ) -> Result<StaffReply, EngineError> {
        self.merchant_event(&mut tx, ticket, event).await?;
        let note = Msg::new(note_id)
            .arg("ticket", ticket.id)
            .arg("agent", agent.name.as_str());
        let toast = strip_html(&self.staff_text(note.clone()));
        let out = Outgoing {
            parts: vec![note],
            keyboard: Vec::new(),
        };
        self.to_staff(&mut tx, Some(ticket.id), out, now).await?;
        tx.audit(
            &format!("staff:{}", agent.id),
            action,
            ticket.merchant_id.as_deref(),
            Some(ticket.chat_id),
            &format!("ticket {}", ticket.id),
            now,
        )
        .await?;
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        Ok(StaffReply { toast: Some(toast) })
    }

    /// Posts the list of open tickets to the staff group (in `thread`'s ticket
    /// topic if asked from one).
    pub async fn staff_list(
        &self,
        agent: &UserInfo,
        thread: Option<i32>,
    ) -> Result<(), EngineError> {
        let now = self.now().timestamp_millis();
        let in_ticket = match thread {
            Some(t) => self
                .store
                .ticket_by_thread(i64::from(t))
                .await?
                .map(|t| t.id),
            None => None,
        };
        if !self.is_staff(agent.id) {
            let mut tx = self.store.begin().await?;
            self.to_staff(
                &mut tx,
                in_ticket,
                Outgoing {
                    parts: vec![Msg::new("staff-not-staff")],
                    keyboard: Vec::new(),
                },
                now,
            )
            .await?;
            self.commit(tx).await?;
            self.outbox_signal.notify_one();
            return Ok(());
        }
        let tickets = self.store.list_tickets(true, 50).await?;
        let mut parts = Vec::new();
        if tickets.is_empty() {
            parts.push(Msg::new("staff-tickets-none"));
        } else {
            parts.push(Msg::new("staff-tickets-header").arg("count", tickets.len() as i64));
            for t in tickets.iter().rev() {
                parts.push(ticket_line(t, now));
            }
        }
        let mut tx = self.store.begin().await?;
        self.to_staff(
            &mut tx,
            in_ticket,
            Outgoing {
                parts,
                keyboard: Vec::new(),
            },
            now,
        )
        .await?;
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        Ok(())
    }

    /// A message staff posted in a ticket topic: a `#note` stays internal,
    /// anything else goes to the merchant (and claims an unclaimed ticket).
    pub async fn staff_message(
        &self,
        agent: &UserInfo,
        message: &StaffMessage,
    ) -> Result<(), EngineError> {
        let Some(thread) = message.thread_id else {
            return Ok(());
        };
        let Some(ticket) = self.store.ticket_by_thread(i64::from(thread)).await? else {
            return Ok(());
        };
        let now = self.now().timestamp_millis();
        let text = message.text.clone().unwrap_or_default();
        if !self.is_staff(agent.id) {
            let mut tx = self.store.begin().await?;
            self.to_staff(
                &mut tx,
                Some(ticket.id),
                Outgoing {
                    parts: vec![Msg::new("staff-not-staff")],
                    keyboard: Vec::new(),
                },
                now,
            )
            .await?;
            self.commit(tx).await?;
            self.outbox_signal.notify_one();
            return Ok(());
        }
        if text.trim_start().to_lowercase().starts_with("#note") {
            let mut tx = self.store.begin().await?;
            tx.ticket_message(
                ticket.id,
                "note",
                &agent.name,
                &redact::redacted(&text),
                now,
            )
            .await?;
            self.commit(tx).await?;
            return Ok(());
        }
        if !matches!(ticket.status.as_str(), "open" | "claimed") {
            let mut tx = self.store.begin().await?;
            self.to_staff(
                &mut tx,
                Some(ticket.id),
                Outgoing {
                    parts: vec![Msg::new("staff-not-in-ticket")],
                    keyboard: Vec::new(),
                },
                now,
            )
            .await?;
            self.commit(tx).await?;
            self.outbox_signal.notify_one();
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        tx.lock_chat(ticket.chat_id).await?;
        if ticket.status == "open"
            && tx
                .claim_ticket(ticket.id, agent.id, &agent.name, now)
                .await?
        {
            self.merchant_event(
                &mut tx,
                &ticket,
                Event::TicketClaimed {
                    agent: agent.name.clone(),
                },
            )
            .await?;
            let note = Msg::new("staff-ticket-claimed")
                .arg("ticket", ticket.id)
                .arg("agent", agent.name.as_str());
            self.to_staff(
                &mut tx,
                Some(ticket.id),
                Outgoing {
                    parts: vec![note],
                    keyboard: Vec::new(),
                },
                now,
            )
            .await?;
        }
        let merchant_lang = tx.chat_lang(ticket.chat_id).await?;
        let signature = self.settings.support.sign_replies.then(|| {
            self.texts.render(
                merchant_lang,
                &Msg::new("reply-signature").arg("agent", agent.name.as_str()),
            )
        });
        let staff_chat = self.settings.support.staff_chat_id;
        if !message.has_media && !text.is_empty() {
            let html = match &signature {
                Some(sig) => format!("{sig}\n{}", escape_html(&text)),
                None => escape_html(&text),
            };
            let payload = OutboxPayload::Text {
                html,
                buttons: Vec::new(),
            };
            tx.enqueue(ticket.chat_id, None, &payload, Priority::Interactive, now)?;
        } else {
            if let Some(sig) = signature {
                let payload = OutboxPayload::Text {
                    html: sig,
                    buttons: Vec::new(),
                };
                tx.enqueue(ticket.chat_id, None, &payload, Priority::Interactive, now)?;
            }
            let payload = OutboxPayload::Copy {
                from_chat: staff_chat,
                message_id: message.message_id,
            };
            tx.enqueue(ticket.chat_id, None, &payload, Priority::Interactive, now)?;
        }
        let body = if message.has_media {
            format!("[media] {text}")
        } else {
            text
        };
        tx.ticket_message(ticket.id, "out", &agent.name, &redact::redacted(&body), now)
            .await?;
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        Ok(())
    }

    /// Re-announces unclaimed tickets older than `support.remind_after_minutes`, once each.
    pub async fn remind_unclaimed_tickets(&self) -> Result<usize, EngineError> {
        let minutes = i64::from(self.settings.support.remind_after_minutes);
        if self.settings.support.staff_chat_id == 0 || minutes == 0 {
            return Ok(0);
        }
        let now = self.now().timestamp_millis();
        let tickets = self
            .store
            .take_tickets_to_remind(now - minutes * 60_000)
            .await?;
        if tickets.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.begin().await?;
        for t in &tickets {
            let waited = (now - t.opened_at) / 60_000;
            let out = Outgoing {
                parts: vec![
                    Msg::new("staff-reminder")
                        .arg("ticket", t.id)
                        .arg("minutes", waited),
                ],
                keyboard: ticket_buttons(t.id),
            };
            self.to_staff(&mut tx, Some(t.id), out, now).await?;
        }
        self.commit(tx).await?;
        self.outbox_signal.notify_one();
        Ok(tickets.len())
    }

    fn toast(&self, id: &'static str) -> StaffReply {
        StaffReply {
            toast: Some(strip_html(&self.staff_text(Msg::new(id)))),
        }
    }

    /// The forum-topic title of a ticket.
    pub fn topic_name(&self, ticket: &TicketRow) -> String {
        let who = ticket
            .merchant_id
            .clone()
            .unwrap_or_else(|| ticket.user_name.clone());
        let reason = TicketReason::parse(&ticket.reason).unwrap_or(TicketReason::UserRequest);
        let msg = Msg::new("staff-topic-name")
            .arg("who", format!("#{} {who}", ticket.id))
            .arg("reason", Arg::Ref(reason.message_id()));
        let name = strip_html(&self.staff_text(msg));
        // Telegram limits topic names to 128 characters.
        name.chars().take(120).collect()
    }
}

fn ticket_line(t: &TicketRow, now: i64) -> Msg {
    let reason = TicketReason::parse(&t.reason).unwrap_or(TicketReason::UserRequest);
    Msg::new("staff-tickets-line")
        .arg("ticket", t.id)
        .arg("age_minutes", (now - t.opened_at).max(0) / 60_000)
        .arg(
            "assignee",
            match &t.assignee_name {
                Some(name) => Arg::Str(name.clone()),
                None => Arg::Ref("staff-unassigned"),
            },
        )
        .arg("reason", Arg::Ref(reason.message_id()))
}

/// Formats a Unix-ms time for operators.
pub fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
