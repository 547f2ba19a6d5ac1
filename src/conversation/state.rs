//! The persisted state of one chat. Serialised as JSON in the store; new
//! fields get serde defaults so older rows keep loading.

use serde::{Deserialize, Serialize};

use crate::domain::{Lang, MerchantId};

/// Everything the bot remembers about one chat between turns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Conversation {
    /// What the bot waits for.
    pub state: State,
    /// Language chosen with `/lang`; `None` follows the Telegram client.
    pub lang: Option<Lang>,
    /// A merchant verified in this chat, and until when (Unix ms).
    pub verified: Option<Verified>,
    /// `unknown` answers in a row.
    pub unknown_streak: u8,
    /// Insults in a row (the second goes to a person).
    pub abuse_streak: u8,
    /// Last input from the person, Unix ms.
    pub last_input_at: i64,
    /// A closed ticket waiting for its rating.
    pub awaiting_rating: Option<i64>,
    /// A rated ticket whose next free text is kept as a comment, until (Unix ms).
    pub awaiting_comment: Option<(i64, i64)>,
    /// Day (`YYYY-MM-DD`, support time zone) of the last off-hours notice.
    pub off_hours_notice_day: Option<String>,
    /// Staff blocked this user (the reason); the bot stays silent.
    pub blocked: Option<String>,
    /// Whether the blocked user got their one notice.
    pub block_noticed: bool,
    /// When a one-time code was last sent for this chat (Unix ms): a bare
    /// number of the code's length within the hour after is taken for it.
    pub code_sent_at: Option<i64>,
    /// Code entry locked for a merchant after too many wrong codes in this
    /// chat: a person asked for before it ends gets that merchant number
    /// and the reason `code_locked`.
    pub code_locked: Option<CodeLock>,
}

impl Conversation {
    /// The merchant number the chat was verifying, if any: the one a code
    /// is awaited for, or the one whose code entry locked and is still
    /// locked at `now_ms`. Staff need it to look up or unlock.
    pub fn merchant_in_question(&self, now_ms: i64) -> Option<&MerchantId> {
        match (&self.state, &self.code_locked) {
            (State::AwaitingCode { merchant, .. }, _) => Some(merchant),
            (_, Some(lock)) if lock.until > now_ms => Some(&lock.merchant),
            _ => None,
        }
    }

    /// Whether code entry for the chat's merchant is locked at `now_ms`.
    pub fn is_code_locked(&self, now_ms: i64) -> bool {
        self.code_locked.as_ref().is_some_and(|l| l.until > now_ms)
    }
}

/// Code entry locked for a merchant number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeLock {
    /// The merchant number.
    pub merchant: MerchantId,
    /// Locked until, Unix ms.
    pub until: i64,
}

/// A merchant verified by code in this chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// The merchant.
    pub merchant: MerchantId,
    /// Valid until, Unix ms.
    pub until: i64,
}

/// What the conversation waits for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum State {
    /// Nothing in particular: free questions, menu.
    #[default]
    Idle,
    /// A merchant number, to unbind or to look up requests.
    AwaitingMerchantId {
        /// Why it is asked.
        purpose: Purpose,
    },
    /// The one-time code sent to the merchant's phone.
    AwaitingCode {
        /// For this merchant number.
        merchant: MerchantId,
        /// Why.
        purpose: Purpose,
        /// The masked phone shown when the code was sent.
        phone_masked: String,
    },
    /// The first confirmation after the summary.
    AwaitingConfirm {
        /// The verified merchant.
        merchant: MerchantId,
        /// Its bound card, masked, as shown in the summary.
        card: String,
    },
    /// The second, final confirmation.
    AwaitingFinalConfirm {
        /// The verified merchant.
        merchant: MerchantId,
        /// Its bound card, masked.
        card: String,
    },
}

impl State {
    /// A short name for the turn record and the staff summary.
    pub fn name(&self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::AwaitingMerchantId { .. } => "awaiting_merchant_id",
            State::AwaitingCode { .. } => "awaiting_code",
            State::AwaitingConfirm { .. } => "awaiting_confirm",
            State::AwaitingFinalConfirm { .. } => "awaiting_final_confirm",
        }
    }

    /// Whether a flow is in progress (and can expire or be cancelled).
    pub fn in_flow(&self) -> bool {
        !matches!(self, State::Idle)
    }
}

/// Why a merchant number is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// To unbind the settlement card.
    Unbind,
    /// To list the merchant's requests.
    Status,
}
