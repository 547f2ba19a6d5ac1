//! The inline keyboards the bot shows, by purpose.

use crate::intents::Intent;

use super::effect::Button;
use super::event::CallbackData;

/// Rows of buttons.
pub type Keyboard = Vec<Vec<Button>>;

/// Unbind, FAQ, status, human.
pub fn main_menu() -> Keyboard {
    vec![
        vec![
            Button::new("btn-unbind", CallbackData::MenuUnbind),
            Button::new("btn-status", CallbackData::MenuStatus),
        ],
        vec![
            Button::new("btn-faq", CallbackData::MenuFaq),
            Button::new("btn-human", CallbackData::MenuHuman),
        ],
    ]
}

/// One button per FAQ topic, then back to the menu.
pub fn faq_menu() -> Keyboard {
    let topic = |label, intent| Button::new(label, CallbackData::Faq(intent));
    vec![
        vec![topic(
            "btn-faq-verification-failed",
            Intent::VerificationFailed,
        )],
        vec![topic("btn-faq-unbind-stuck", Intent::UnbindStuck)],
        vec![topic(
            "btn-faq-new-account-inactive",
            Intent::NewAccountInactive,
        )],
        vec![
            topic("btn-faq-unbind-prepare", Intent::UnbindPrepare),
            topic("btn-faq-unbind-limits", Intent::UnbindLimits),
        ],
        vec![
            topic("btn-faq-security", Intent::Security),
            topic("btn-faq-after-unbind", Intent::AfterUnbind),
        ],
        vec![Button::new("btn-menu", CallbackData::MenuMain)],
    ]
}

/// The button label naming an intent (in a clarifying question).
pub fn intent_label(intent: Intent) -> &'static str {
    match intent {
        Intent::UnbindStart => "btn-unbind",
        Intent::ProgressQuery => "btn-status",
        Intent::VerificationFailed => "btn-faq-verification-failed",
        Intent::UnbindStuck => "btn-faq-unbind-stuck",
        Intent::NewAccountInactive => "btn-faq-new-account-inactive",
        Intent::UnbindPrepare => "btn-faq-unbind-prepare",
        Intent::UnbindLimits => "btn-faq-unbind-limits",
        Intent::Security => "btn-faq-security",
        Intent::AfterUnbind => "btn-faq-after-unbind",
        _ => "btn-human",
    }
}

/// What to offer under an FAQ answer.
pub fn after_faq(intent: Intent) -> Keyboard {
    let first = match intent {
        Intent::VerificationFailed | Intent::UnbindPrepare | Intent::UnbindLimits => {
            Button::new("btn-unbind", CallbackData::MenuUnbind)
        }
        Intent::UnbindStuck | Intent::NewAccountInactive | Intent::AfterUnbind => {
            Button::new("btn-status", CallbackData::MenuStatus)
        }
        _ => Button::new("btn-faq", CallbackData::MenuFaq),
    };
    vec![
        vec![first, Button::new("btn-human", CallbackData::MenuHuman)],
        vec![Button::new("btn-menu", CallbackData::MenuMain)],
    ]
}

/// While waiting for a person: the FAQ and the requests.
pub fn while_waiting() -> Keyboard {
    vec![vec![
        Button::new("btn-faq", CallbackData::MenuFaq),
        Button::new("btn-status", CallbackData::MenuStatus),
    ]]
}

/// A person, or the menu.
pub fn human_or_menu() -> Keyboard {
    vec![vec![
        Button::new("btn-human", CallbackData::MenuHuman),
        Button::new("btn-menu", CallbackData::MenuMain),
    ]]
}

/// Only a person.
pub fn human_only() -> Keyboard {
    vec![vec![Button::new("btn-human", CallbackData::MenuHuman)]]
}

/// Leave the flow.
pub fn cancel_only() -> Keyboard {
    vec![vec![Button::new("btn-cancel", CallbackData::UnbindCancel)]]
}

/// A new code, or leave.
pub fn resend_or_cancel() -> Keyboard {
    vec![vec![
        Button::new("btn-resend", CallbackData::UnbindResend),
        Button::new("btn-cancel", CallbackData::UnbindCancel),
    ]]
}

/// First confirmation.
pub fn confirm_or_cancel() -> Keyboard {
    vec![vec![
        Button::new("btn-confirm", CallbackData::UnbindConfirm),
        Button::new("btn-cancel", CallbackData::UnbindCancel),
    ]]
}

/// Final confirmation.
pub fn submit_or_cancel() -> Keyboard {
    vec![vec![
        Button::new("btn-submit", CallbackData::UnbindConfirm),
        Button::new("btn-cancel", CallbackData::UnbindCancel),
    ]]
}

/// Language choice.
pub fn languages() -> Keyboard {
    vec![vec![
        Button::new("btn-lang-zh", CallbackData::Lang(crate::domain::Lang::ZhCn)),
        Button::new("btn-lang-en", CallbackData::Lang(crate::domain::Lang::En)),
    ]]
}

/// One-tap rating of a closed ticket.
pub fn rating(ticket: i64) -> Keyboard {
    let labels = [
        "btn-rate-1",
        "btn-rate-2",
        "btn-rate-3",
        "btn-rate-4",
        "btn-rate-5",
    ];
    vec![
        labels
            .iter()
            .zip(1u8..)
            .map(|(label, score)| Button::new(label, CallbackData::Csat(score, ticket)))
            .collect(),
    ]
}
