//! The ticket core: `step(&Ticket, StaffEvent, &Ctx) -> Transition`, the
//! staff side of human handoff in the same shape as the conversation core.
//!
//! Pure and synchronous: no teloxide, sqlx, tokio, clock or RNG. What staff
//! do in a ticket's forum topic (a button or a command) becomes one
//! [`StaffEvent`]; the core decides and answers with [`Effect`]s: messages
//! to the topic and to the merchant (message ids with arguments, never
//! rendered text), turns of the merchant's conversation, writes and audit
//! lines. The engine interprets them in one transaction. Presentation (the
//! context card, topic names, buttons) lives in [`card`].
//!
//! Decisions that need no ticket (help, unknown commands, an action outside
//! a ticket's topic) are [`outside`].

pub mod card;
mod input;
pub mod refresh;
pub mod stats;
mod step;

pub use input::{StaffCallback, StaffCommand};
pub use step::{outside, reopen_on_request, step};

use crate::conversation::{Event as MerchantEvent, Msg, Outgoing, TicketReason};
use crate::domain::{Reference, RequestStatus};
use crate::faq::{Catalogue, FaqId};

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for an agent.
    Open,
    /// An agent owns it.
    Claimed,
    /// Staff closed it.
    Closed,
    /// The merchant withdrew it before anyone claimed it.
    Withdrawn,
}

impl Status {
    /// Stored name (the `tickets.status` column).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Claimed => "claimed",
            Status::Closed => "closed",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Status> {
        [
            Status::Open,
            Status::Claimed,
            Status::Closed,
            Status::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// Whether staff and merchant are still talking (open or claimed).
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::Claimed)
    }

    /// Fluent id of its label for staff.
    pub fn message_id(self) -> &'static str {
        match self {
            Status::Open => "ticket-status-open",
            Status::Claimed => "ticket-status-claimed",
            Status::Closed => "ticket-status-closed",
            Status::Withdrawn => "ticket-status-withdrawn",
        }
    }
}

/// A staff member as the core sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Telegram user id.
    pub id: i64,
    /// Display name (Telegram's, for staff eyes).
    pub name: String,
    /// What merchants see of them (`support.agent_names`: an alias such
    /// as "07", or the Telegram name).
    pub shown: String,
}

/// One support ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Ticket id.
    pub id: i64,
    /// The merchant's chat.
    pub chat_id: i64,
    /// Verified merchant number, if any.
    pub merchant: Option<String>,
    /// Why it was opened.
    pub reason: TicketReason,
    /// Where it is.
    pub status: Status,
    /// Who owns it (only when claimed).
    pub assignee: Option<Agent>,
    /// When it was closed (Unix ms), if it was.
    pub closed_at: Option<i64>,
}

/// What staff did to a ticket, from its topic.
#[derive(Debug, Clone, PartialEq)]
pub enum StaffEvent {
    /// Take the ticket.
    Claim,
    /// Give it back to the queue.
    Unclaim,
    /// Give it to another staff member.
    Assign {
        /// The new owner.
        to: Agent,
        /// Whether the new owner may act as staff.
        is_staff: bool,
    },
    /// End it (the merchant is asked for a rating).
    Close,
    /// Open it again.
    Reopen,
    /// A reply for the merchant (text already cleaned).
    Reply {
        /// Text or caption (may be empty for media).
        text: String,
        /// Whether it carries media (sent as a copy).
        media: bool,
    },
    /// The agent edited an earlier reply: the merchant's copy follows.
    EditedReply {
        /// The new text.
        text: String,
    },
    /// An internal note (`#note …`), never relayed.
    Note(String),
    /// Lift the merchant's code-entry lock.
    Unlock,
    /// List the canned answers as buttons.
    FaqList,
    /// Send a canned FAQ answer to the merchant.
    Canned(FaqId),
    /// Stop answering the ticket's user.
    Block {
        /// Why (required; shown to staff, kept in the audit trail).
        reason: String,
    },
    /// Answer the ticket's user again.
    Unblock,
    /// Show the context card again, fresh.
    Info,
    /// Change a request's status (processing or completed).
    SetRequest {
        /// The request.
        reference: Reference,
        /// The new status.
        status: RequestStatus,
    },
    /// Reject a request: ask for the reason first.
    AskRejectReason(Reference),
    /// The reason for a rejection, typed as a reply.
    Reject {
        /// The request.
        reference: Reference,
        /// Why.
        reason: String,
    },
}

/// Everything from outside a ticket step may depend on.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    /// Now, Unix ms.
    pub now_ms: i64,
    /// Who acts.
    pub actor: &'a Agent,
    /// Whether they may act as staff.
    pub is_staff: bool,
    /// Whether the merchant's chat has another active ticket (a reopen would
    /// make two).
    pub other_active: bool,
    /// The FAQ catalogue (canned answers).
    pub faq: &'a Catalogue,
}

/// A message for the merchant from staff, signed by the agent.
#[derive(Debug, Clone, PartialEq)]
pub enum ToMerchant {
    /// The agent's own message.
    Reply {
        /// Its text.
        text: String,
        /// Whether it is media (copied from the topic).
        media: bool,
    },
    /// The new text of an earlier reply (its copy is edited in place).
    Edit {
        /// The new text.
        text: String,
    },
    /// A canned FAQ answer, in the merchant's language.
    Canned(FaqId),
    /// A notice from the bot (not signed).
    Notice(Msg),
}

/// A change the store applies in the action's transaction (besides saving
/// the ticket itself, which the engine does when it changed).
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A line of the ticket's transcript.
    Transcript {
        /// `out` (to the merchant) or `note`.
        direction: &'static str,
        /// The text, redacted by the engine.
        body: String,
    },
    /// Code entry unlocked for this merchant.
    UnlockCodes(String),
    /// Asks the agent's next reply for a rejection reason.
    AwaitReason(Reference),
}

/// What the core asks its interpreter to do.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Answer the actor: a toast for a button, a line in the topic for a
    /// command (left out when the action already posted to the topic).
    Answer(Msg),
    /// A message in the ticket's topic, for everyone there.
    Topic(Outgoing),
    /// A turn of the merchant's conversation.
    Merchant(MerchantEvent),
    /// A message to the merchant.
    ToMerchant(ToMerchant),
    /// A write in the action's transaction.
    Write(Write),
    /// A line of the audit trail (actor: the agent).
    Audit {
        /// What, e.g. `ticket.claimed`.
        action: &'static str,
        /// Detail, free of secrets.
        detail: String,
    },
    /// Change a request's status with the back office's rules and notices.
    SetRequest {
        /// The request.
        reference: Reference,
        /// The new status.
        status: RequestStatus,
        /// Why (rejections).
        reason: Option<String>,
    },
    /// Post the context card again, fresh.
    ShowCard,
    /// The ticket changed: edit its card and topic name.
    Refresh,
    /// Close the forum topic (the ticket ended).
    CloseTopic,
    /// Reopen the forum topic (the ticket is active again).
    ReopenTopic,
}

/// The result of one step.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The ticket after the event.
    pub next: Ticket,
    /// What to do, in order.
    pub effects: Vec<Effect>,
}

#[cfg(test)]
mod tests;
