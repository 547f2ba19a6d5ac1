//! Outputs of the conversation core: messages by id with arguments (never
//! rendered text), writes the store must apply in the same transaction, and
//! I/O the adapter performs after commit.

use chrono::{DateTime, Utc};

use crate::domain::{MerchantId, OtpCode, Phone, Reference};

use super::event::{CallbackData, Continuation};

/// One message argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Text (escaped by the renderer).
    Str(String),
    /// A number.
    Num(i64),
    /// Another message of locales/ (without arguments), rendered in the same language.
    Ref(&'static str),
    /// Another message with arguments, rendered in the same language.
    Msg(Box<Msg>),
    /// Messages rendered in the same language and joined by its
    /// `list-separator`.
    List(Vec<Msg>),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Str(value.to_string())
    }
}
impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Str(value)
    }
}
impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Num(value)
    }
}
impl From<u32> for Arg {
    fn from(value: u32) -> Self {
        Arg::Num(i64::from(value))
    }
}

/// A message of locales/ by id, with its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Msg {
    /// Fluent message id.
    pub id: &'static str,
    /// Named arguments.
    pub args: Vec<(&'static str, Arg)>,
}

impl Msg {
    /// A message without arguments.
    pub fn new(id: &'static str) -> Msg {
        Msg {
            id,
            args: Vec::new(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Msg {
        self.args.push((name, value.into()));
        self
    }
}

/// An inline button.
#[derive(Debug, Clone, PartialEq)]
pub struct Button {
    /// Its label.
    pub label: Msg,
    /// What pressing it sends.
    pub data: CallbackData,
}

impl Button {
    /// A button labelled by message `label`.
    pub fn new(label: &'static str, data: CallbackData) -> Button {
        Button {
            label: Msg::new(label),
            data,
        }
    }
}

/// One outgoing chat message: parts joined by a blank line, and buttons.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outgoing {
    /// Paragraphs.
    pub parts: Vec<Msg>,
    /// Rows of buttons.
    pub keyboard: Vec<Vec<Button>>,
}

/// Why a ticket was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketReason {
    /// The merchant asked for a person.
    UserRequest,
    /// Code entry got locked.
    CodeLocked,
    /// A request was rejected.
    RequestRejected,
    /// A request is past its promised time.
    RequestOverdue,
    /// Two questions in a row the bot could not answer.
    UnknownTwice,
    /// The merchant is upset or in a hurry.
    Urgent,
    /// A POS question this bot does not handle, on this topic.
    Outside(crate::intents::Outside),
}

impl TicketReason {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketReason::UserRequest => "user_request",
            TicketReason::CodeLocked => "code_locked",
            TicketReason::RequestRejected => "request_rejected",
            TicketReason::RequestOverdue => "request_overdue",
            TicketReason::UnknownTwice => "unknown_twice",
            TicketReason::Urgent => "urgent",
            TicketReason::Outside(topic) => topic.name(),
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<TicketReason> {
        if let Some(topic) = crate::intents::Outside::parse(raw) {
            return Some(TicketReason::Outside(topic));
        }
        [
            TicketReason::UserRequest,
            TicketReason::CodeLocked,
            TicketReason::RequestRejected,
            TicketReason::RequestOverdue,
            TicketReason::UnknownTwice,
            TicketReason::Urgent,
        ]
        .into_iter()
        .find(|r| r.as_str() == raw)
    }

    /// Fluent id of its label.
    pub fn message_id(self) -> &'static str {
        match self {
            TicketReason::UserRequest => "reason-user-request",
            TicketReason::CodeLocked => "reason-code-locked",
            TicketReason::RequestRejected => "reason-request-rejected",
            TicketReason::RequestOverdue => "reason-request-overdue",
            TicketReason::UnknownTwice => "reason-unknown-twice",
            TicketReason::Urgent => "reason-urgent",
            TicketReason::Outside(topic) => topic.label(),
        }
    }
}

/// A change the store applies inside the turn's transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A code was generated (its hash) and counts as a send.
    OtpIssued {
        /// For this merchant number.
        merchant: MerchantId,
        /// Keyed hash of the code.
        code_hash: String,
        /// Expiry, Unix ms.
        expires_at: i64,
    },
    /// The gateway refused the code: the send is not counted and the code is void.
    OtpRefunded {
        /// For this merchant number.
        merchant: MerchantId,
    },
    /// A wrong code was entered.
    OtpFailed {
        /// For this merchant number.
        merchant: MerchantId,
    },
    /// Too many wrong codes: entry locked.
    OtpLocked {
        /// For this merchant number.
        merchant: MerchantId,
        /// Until, Unix ms.
        until: i64,
    },
    /// The right code was entered; it is used up and the failures reset.
    OtpConsumed {
        /// For this merchant number.
        merchant: MerchantId,
    },
    /// An unbinding request was created.
    RequestCreated {
        /// Its reference.
        reference: Reference,
        /// For this merchant.
        merchant: MerchantId,
    },
    /// The merchant withdrew their unclaimed ticket.
    TicketWithdrawn {
        /// Ticket id.
        ticket: i64,
    },
    /// The merchant rated a closed ticket.
    TicketRated {
        /// Ticket id.
        ticket: i64,
        /// 1 to 5.
        score: u8,
    },
    /// The merchant commented on a closed ticket (already redacted).
    TicketComment {
        /// Ticket id.
        ticket: i64,
        /// The comment.
        comment: String,
    },
    /// A line for the audit trail (who is the turn's user; never a code).
    Audit {
        /// What happened, e.g. `otp.sent`.
        action: &'static str,
        /// The merchant concerned.
        merchant: Option<MerchantId>,
        /// Extra detail, already free of secrets.
        detail: String,
    },
}

/// What the core asks its adapter to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a message to this chat.
    Send(Outgoing),
    /// Answer the button press (a toast, or silently).
    Toast(Option<Msg>),
    /// Delete the merchant's message that triggered this turn (it held a secret).
    DeleteIncoming,
    /// Load facts about a merchant number, then call `step` with [`super::Event::Facts`].
    Fetch {
        /// The number.
        merchant: MerchantId,
        /// What the facts are for.
        then: Continuation,
    },
    /// Deliver a code to the registered phone after commit, then report with
    /// [`super::Event::OtpDelivery`]. The code lives only in memory.
    DeliverOtp {
        /// For this merchant.
        merchant: MerchantId,
        /// To this phone.
        phone: Phone,
        /// The code.
        code: OtpCode,
        /// When it expires.
        expires_at: DateTime<Utc>,
    },
    /// Open a ticket for this chat, then call `step` with [`super::Event::TicketOpened`].
    OpenTicket {
        /// Why.
        reason: TicketReason,
    },
    /// Copy the merchant's message into the ticket's staff topic.
    RelayToStaff {
        /// The ticket.
        ticket: i64,
    },
    /// Tell the staff topic the merchant edited a message (original kept).
    RelayEditToStaff {
        /// The ticket.
        ticket: i64,
        /// The new text (already redacted).
        edited: String,
    },
    /// Apply a write in the turn's transaction.
    Write(Write),
}
