//! What the store tells the core. The adapter loads these inside the turn's
//! transaction, so the core decides on data that cannot change under it.

use crate::domain::{MaskedCard, MerchantId, Phone, Reference, RequestStatus};

/// Everything the unbinding flow needs to know about one merchant number.
#[derive(Debug, Clone)]
pub struct MerchantFacts {
    /// The number asked about (whether or not it exists).
    pub merchant_id: MerchantId,
    /// The merchant, if the number is registered.
    pub merchant: Option<MerchantRecord>,
    /// Code state for this merchant number.
    pub otp: OtpFacts,
    /// Codes sent for this Telegram user in the last hour, across merchants.
    pub user_sends_last_hour: u32,
    /// Recent requests, newest first.
    pub requests: Vec<RequestSummary>,
}

/// A registered merchant.
#[derive(Debug, Clone)]
pub struct MerchantRecord {
    /// Display name.
    pub name: String,
    /// Registered phone.
    pub phone: Phone,
    /// Bound settlement card, masked.
    pub card: MaskedCard,
    /// Bank of the bound card.
    pub bank: String,
}

/// Code state of a merchant number. Times are Unix milliseconds.
#[derive(Debug, Clone, Default)]
pub struct OtpFacts {
    /// Hash of the current code, if one is outstanding.
    pub code_hash: Option<String>,
    /// When the current code expires.
    pub expires_at: Option<i64>,
    /// Wrong entries since the last success or lock.
    pub failures: u32,
    /// Code entry is locked until then.
    pub locked_until: Option<i64>,
    /// Time of the last send.
    pub last_sent_at: Option<i64>,
    /// Sends in the last hour.
    pub sends_last_hour: u32,
}

/// One unbinding request as the merchant sees it.
#[derive(Debug, Clone)]
pub struct RequestSummary {
    /// Its reference.
    pub reference: Reference,
    /// Its status.
    pub status: RequestStatus,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

/// The open ticket of this chat, as the adapter loaded it for the turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketView {
    /// Ticket id.
    pub id: i64,
    /// Name of the agent who claimed it, if claimed.
    pub assignee: Option<String>,
    /// Place in the queue of unclaimed tickets (1 = next).
    pub position: u32,
}

/// A ticket the store just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketOpened {
    /// Ticket id.
    pub id: i64,
    /// Place in the queue (1 = next).
    pub position: u32,
    /// Whether a staff chat will see it (false: stored only).
    pub staff_chat: bool,
}
