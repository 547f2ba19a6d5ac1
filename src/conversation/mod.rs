//! The conversation core: `step(conversation, event, ctx) -> Transition`.
//!
//! Pure and synchronous: no teloxide, sqlx, tokio, clock or RNG. Time, random
//! bytes, settings and store facts come in through [`Ctx`] and
//! [`Event::Facts`]; everything the bot does goes out as [`Effect`]s that the
//! adapters (Telegram, terminal) apply. One file per flow.

mod effect;
mod event;
mod facts;
mod handoff;
mod keyboards;
mod state;
mod step;
mod unbind;

pub use effect::{Arg, Button, Effect, Msg, Outgoing, TicketReason, Write};
pub use event::{CallbackData, Command, Continuation, Delivery, Event, MediaKind};
pub use facts::{
    MerchantFacts, MerchantRecord, OtpFacts, RequestSummary, TicketOpened, TicketView,
};
pub use handoff::{closed_notice, on_duty};
pub use handoff::{hours_text, zone_name};
pub use state::{CodeLock, Conversation, Purpose, State, Verified};
pub use step::{faq_message, notification_for_status, step, topic_answer};

use chrono::{DateTime, Utc};

use crate::config::{Derived, Settings};
use crate::intents::Classifier;

/// Everything from outside a turn may depend on.
pub struct Ctx<'a> {
    /// The time of the turn.
    pub now: DateTime<Utc>,
    /// Fresh random bytes from the OS generator.
    pub random: [u8; 32],
    /// Settings.
    pub settings: &'a Settings,
    /// Checked settings.
    pub derived: &'a Derived,
    /// The intent classifier.
    pub classifier: &'a Classifier,
    /// Key of the code hashes.
    pub hash_key: &'a [u8],
    /// The open ticket of this chat, if any.
    pub ticket: Option<TicketView>,
    /// The language of the person's Telegram app, if it says.
    pub client_lang: Option<crate::domain::Lang>,
    /// The last text classified during this step and its intent (the
    /// channel reads it afterwards instead of classifying again).
    pub classified: std::cell::RefCell<Option<(String, crate::intents::Intent)>>,
}

impl Ctx<'_> {
    /// The intent of `text`, remembered for the rest of the turn.
    pub fn classify(&self, text: &str) -> crate::intents::Intent {
        if let Ok(memo) = self.classified.try_borrow()
            && let Some((seen, intent)) = memo.as_ref()
            && seen == text
        {
            return *intent;
        }
        let intent = self.classifier.classify(text);
        if let Ok(mut memo) = self.classified.try_borrow_mut() {
            *memo = Some((text.to_string(), intent));
        }
        intent
    }

    /// The intent of `text`, and two intents to ask about when the
    /// classifier finds them too close to call.
    pub fn understand(
        &self,
        text: &str,
    ) -> (
        crate::intents::Intent,
        Option<(crate::intents::Intent, crate::intents::Intent)>,
    ) {
        let explanation = self.classifier.explain(text);
        if let Ok(mut memo) = self.classified.try_borrow_mut() {
            *memo = Some((text.to_string(), explanation.intent));
        }
        (explanation.intent, explanation.clarify)
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.now.timestamp_millis()
    }
}

/// The result of one step.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The conversation after the event.
    pub next: Conversation,
    /// What to do, in order.
    pub effects: Vec<Effect>,
    /// What the merchant typed (text or edit) as it may be kept: redacted,
    /// and without digits when it was a one-time code.
    pub input: Option<String>,
}

#[cfg(test)]
mod tests;
