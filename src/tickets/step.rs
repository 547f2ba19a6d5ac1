//! The decisions: what each staff action does to a ticket, who is told,
//! what is written.

use crate::conversation::{Event as MerchantEvent, Msg, Outgoing};
use crate::domain::{MAX_REASON_CHARS, RequestStatus};

use super::card;
use super::{
    Agent, Ctx, Effect, StaffCommand, StaffEvent, Status, Ticket, ToMerchant, Transition, Write,
};

/// Applies one staff action to a ticket.
pub fn step(ticket: &Ticket, event: StaffEvent, ctx: &Ctx<'_>) -> Transition {
    let mut s = Step {
        next: ticket.clone(),
        effects: Vec::new(),
        ctx,
    };
    if !ctx.is_staff {
        s.answer(Msg::new("staff-not-staff"));
        return s.done();
    }
    match event {
        StaffEvent::Claim => s.claim(),
        StaffEvent::Unclaim => s.unclaim(),
        StaffEvent::Assign { to, is_staff } => s.assign(to, is_staff),
        StaffEvent::Close => s.close(),
        StaffEvent::Reopen => s.reopen(),
        StaffEvent::Reply { text, media } => s.reply(text, media),
        StaffEvent::EditedReply { text } => {
            if ticket.status.is_active() {
                s.effects
                    .push(Effect::ToMerchant(ToMerchant::Edit { text: text.clone() }));
                s.write(Write::Transcript {
                    direction: "edit",
                    body: text,
                });
            }
        }
        StaffEvent::Note(text) => s.write(Write::Transcript {
            direction: "note",
            body: text,
        }),
        StaffEvent::Unlock => s.unlock(),
        StaffEvent::FaqList => s
            .effects
            .push(Effect::Topic(card::canned_menu(ticket.id, ctx.faq))),
        StaffEvent::Canned(faq) => s.canned(faq),
        StaffEvent::Block { reason } => s.block(reason),
        StaffEvent::Unblock => s.unblock(),
        StaffEvent::Info => s.effects.push(Effect::ShowCard),
        StaffEvent::SetRequest { reference, status } => {
            s.effects.push(Effect::SetRequest {
                reference,
                status,
                reason: None,
            });
            s.effects.push(Effect::Refresh);
        }
        StaffEvent::AskRejectReason(reference) => {
            s.write(Write::AwaitReason(reference.clone()));
            s.topic(
                Msg::new("staff-reject-ask")
                    .arg("reference", reference.as_str())
                    .arg("agent", ctx.actor.name.as_str()),
            );
        }
        // Too long for the merchant's notice: nothing changes, the agent
        // is told in one line, and their next reply still counts.
        StaffEvent::Reject { reference, reason } if reason.chars().count() > MAX_REASON_CHARS => {
            s.write(Write::AwaitReason(reference));
            s.answer(Msg::new("staff-request-reason-too-long").arg("max", MAX_REASON_CHARS as i64));
        }
        StaffEvent::Reject { reference, reason } => {
            s.effects.push(Effect::SetRequest {
                reference,
                status: RequestStatus::Rejected,
                reason: Some(reason),
            });
            s.effects.push(Effect::Refresh);
        }
    }
    s.done()
}

/// A merchant asks for a person again: a ticket staff closed within
/// `days` comes back, waiting for an agent, in its own topic. `None`: a
/// new ticket is due (the card of the new one lists this one).
pub fn reopen_on_request(ticket: &Ticket, now_ms: i64, days: u32) -> Option<Ticket> {
    let closed_at = ticket.closed_at?;
    let window = i64::from(days) * 86_400_000;
    if ticket.status != Status::Closed || now_ms - closed_at > window {
        return None;
    }
    Some(Ticket {
        status: Status::Open,
        assignee: None,
        closed_at: None,
        ..ticket.clone()
    })
}

/// A staff input that has no ticket to act on: help, the ticket list, an
/// unknown command, or a ticket action outside a ticket's topic. `None`:
/// nothing to say (chatter in the general topic).
pub fn outside(command: &StaffCommand, is_staff: bool) -> Option<Msg> {
    Some(match command {
        StaffCommand::Help => Msg::new("staff-help"),
        StaffCommand::Unknown(name) => {
            Msg::new("staff-unknown-command").arg("command", format!("/{name}"))
        }
        _ if !is_staff => Msg::new("staff-not-staff"),
        StaffCommand::Tickets | StaffCommand::Stats => return None,
        _ => Msg::new("staff-needs-topic"),
    })
}

struct Step<'c, 'a> {
    next: Ticket,
    effects: Vec<Effect>,
    ctx: &'c Ctx<'a>,
}

impl Step<'_, '_> {
    fn done(self) -> Transition {
        Transition {
            next: self.next,
            effects: self.effects,
        }
    }

    fn answer(&mut self, msg: Msg) {
        self.effects.push(Effect::Answer(msg));
    }

    fn topic(&mut self, msg: Msg) {
        self.effects.push(Effect::Topic(Outgoing {
            parts: vec![msg],
            keyboard: Vec::new(),
        }));
    }

    fn write(&mut self, write: Write) {
        self.effects.push(Effect::Write(write));
    }

    fn audit(&mut self, action: &'static str, detail: String) {
        self.effects.push(Effect::Audit { action, detail });
    }

    fn actor(&self) -> &Agent {
        self.ctx.actor
    }

    fn note(&self, id: &'static str) -> Msg {
        Msg::new(id)
            .arg("ticket", self.next.id)
            .arg("agent", self.actor().name.as_str())
    }

    /// Refuses an action on an ended ticket; `true` when it is active.
    fn require_active(&mut self) -> bool {
        if self.next.status.is_active() {
            return true;
        }
        let msg = Msg::new("staff-ticket-ended").arg("ticket", self.next.id);
        self.answer(msg);
        false
    }

    fn take(&mut self, agent: Agent) {
        self.next.status = Status::Claimed;
        self.next.assignee = Some(agent.clone());
        self.effects
            .push(Effect::Merchant(MerchantEvent::TicketClaimed {
                agent: agent.shown,
            }));
    }

    fn claim(&mut self) {
        if !self.require_active() {
            return;
        }
        match &self.next.assignee {
            Some(owner) if owner.id == self.actor().id => {
                let msg = Msg::new("staff-ticket-already-yours").arg("ticket", self.next.id);
                return self.answer(msg);
            }
            Some(owner) => {
                let msg = Msg::new("staff-ticket-claimed")
                    .arg("ticket", self.next.id)
                    .arg("agent", owner.name.as_str());
                return self.answer(msg);
            }
            None => {}
        }
        self.take(self.actor().clone());
        self.claimed_notes();
    }

    fn claimed_notes(&mut self) {
        // State changes show on the card and in the topic's name (edits,
        // not new messages: a group takes about 20 messages a minute).
        let note = self.note("staff-ticket-claimed");
        self.answer(note);
        self.audit("ticket.claimed", format!("ticket {}", self.next.id));
        self.effects.push(Effect::Refresh);
    }

    fn unclaim(&mut self) {
        if !self.require_active() {
            return;
        }
        if self.next.assignee.is_none() {
            let msg = Msg::new("staff-ticket-not-claimed").arg("ticket", self.next.id);
            return self.answer(msg);
        }
        self.next.status = Status::Open;
        self.next.assignee = None;
        let note = self.note("staff-ticket-unclaimed");
        self.answer(note);
        self.audit("ticket.unclaimed", format!("ticket {}", self.next.id));
        self.effects.push(Effect::Refresh);
    }

    fn assign(&mut self, to: Agent, is_staff: bool) {
        if !self.require_active() {
            return;
        }
        if !is_staff {
            return self.answer(Msg::new("staff-assign-not-staff"));
        }
        if self.next.assignee.as_ref().is_some_and(|a| a.id == to.id) {
            let msg = Msg::new("staff-ticket-claimed")
                .arg("ticket", self.next.id)
                .arg("agent", to.name.as_str());
            return self.answer(msg);
        }
        self.take(to.clone());
        let note = self
            .note("staff-ticket-assigned")
            .arg("to", to.name.as_str());
        self.answer(note);
        self.audit(
            "ticket.assigned",
            format!("ticket {} to staff:{}", self.next.id, to.id),
        );
        self.effects.push(Effect::Refresh);
    }

    fn close(&mut self) {
        if !self.require_active() {
            return;
        }
        self.next.status = Status::Closed;
        self.next.closed_at = Some(self.ctx.now_ms);
        self.effects
            .push(Effect::Merchant(MerchantEvent::TicketClosed {
                ticket: self.next.id,
            }));
        let note = self.note("staff-ticket-closed");
        self.answer(note);
        self.audit("ticket.closed", format!("ticket {}", self.next.id));
        self.effects.push(Effect::Refresh);
        self.effects.push(Effect::CloseTopic);
    }

    fn reopen(&mut self) {
        if self.next.status.is_active() {
            let msg = Msg::new("staff-ticket-still-active").arg("ticket", self.next.id);
            return self.answer(msg);
        }
        if self.ctx.other_active {
            let msg = Msg::new("staff-reopen-other-active").arg("ticket", self.next.id);
            return self.answer(msg);
        }
        self.next.closed_at = None;
        // The topic opens before anything is posted to it.
        self.effects.push(Effect::ReopenTopic);
        self.take(self.actor().clone());
        let note = self.note("staff-ticket-reopened");
        self.answer(note);
        self.audit("ticket.reopened", format!("ticket {}", self.next.id));
        self.effects.push(Effect::Refresh);
    }

    fn reply(&mut self, text: String, media: bool) {
        if !self.next.status.is_active() {
            let msg = Msg::new("staff-ticket-ended").arg("ticket", self.next.id);
            return self.topic(msg);
        }
        if self.next.assignee.is_none() {
            // Answering a waiting ticket takes it.
            self.take(self.actor().clone());
            self.audit("ticket.claimed", format!("ticket {}", self.next.id));
            self.effects.push(Effect::Refresh);
        }
        let body = if media {
            format!("[media] {text}")
        } else {
            text.clone()
        };
        self.effects
            .push(Effect::ToMerchant(ToMerchant::Reply { text, media }));
        self.write(Write::Transcript {
            direction: "out",
            body,
        });
    }

    fn unlock(&mut self) {
        let Some(merchant) = self.next.merchant.clone() else {
            return self.answer(Msg::new("staff-unlock-no-merchant"));
        };
        self.write(Write::UnlockCodes(merchant.clone()));
        self.effects
            .push(Effect::ToMerchant(ToMerchant::Notice(Msg::new(
                "notify-codes-unlocked",
            ))));
        let note = self
            .note("staff-unlocked")
            .arg("merchant", merchant.as_str());
        self.answer(note);
        self.audit(
            "otp.unlocked",
            format!("ticket {} merchant {merchant}", self.next.id),
        );
        self.effects.push(Effect::Refresh);
    }

    fn canned(&mut self, faq: crate::faq::FaqId) {
        if !self.require_active() {
            return;
        }
        if self.next.assignee.is_none() {
            self.take(self.actor().clone());
            self.audit("ticket.claimed", format!("ticket {}", self.next.id));
            self.effects.push(Effect::Refresh);
        }
        self.effects
            .push(Effect::ToMerchant(ToMerchant::Canned(faq)));
        self.write(Write::Transcript {
            direction: "out",
            body: format!("[faq {faq}]"),
        });
        let note = self
            .note("staff-canned-sent")
            .arg("faq", crate::conversation::Arg::Ref(faq.label()));
        // What was sent is part of the conversation: everyone sees it.
        self.topic(note.clone());
        self.answer(note);
        self.audit(
            "ticket.canned",
            format!("ticket {} faq {faq}", self.next.id),
        );
    }

    fn block(&mut self, reason: String) {
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return self.answer(Msg::new("staff-block-needs-reason"));
        }
        self.effects.push(Effect::Merchant(MerchantEvent::Blocked {
            reason: reason.clone(),
        }));
        let was_active = self.next.status.is_active();
        if was_active {
            self.next.status = Status::Closed;
            self.next.closed_at = Some(self.ctx.now_ms);
        }
        let note = self.note("staff-blocked").arg("reason", reason.as_str());
        self.answer(note);
        self.audit("user.blocked", format!("ticket {}: {reason}", self.next.id));
        self.effects.push(Effect::Refresh);
        if was_active {
            self.effects.push(Effect::CloseTopic);
        }
    }

    fn unblock(&mut self) {
        self.effects
            .push(Effect::Merchant(MerchantEvent::Unblocked));
        let note = self.note("staff-unblocked");
        self.answer(note);
        self.audit("user.unblocked", format!("ticket {}", self.next.id));
        self.effects.push(Effect::Refresh);
    }
}
