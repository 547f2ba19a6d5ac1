//! The inline keyboards the bot shows, by purpose.

use crate::faq::{Catalogue, FollowUp, Topic};
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

/// The catalogue's menu rows, then back to the menu.
pub fn faq_menu(faq: &Catalogue) -> Keyboard {
    let mut rows: Keyboard = faq
        .menu_rows()
        .into_iter()
        .map(|row| row.into_iter().map(topic_button).collect())
        .collect();
    rows.push(vec![Button::new("btn-menu", CallbackData::MenuMain)]);
    rows
}

/// A button that shows a topic's answer.
pub fn topic_button(topic: &Topic) -> Button {
    Button::new(topic.label, CallbackData::Faq(topic.id))
}

/// The button label naming an intent (in a clarifying question).
pub fn intent_label(intent: Intent, faq: &Catalogue) -> &'static str {
    match intent {
        Intent::UnbindStart => "btn-unbind",
        Intent::ProgressQuery => "btn-status",
        Intent::Faq(id) => faq.get(id).map_or("btn-faq", |t| t.label),
        _ => "btn-human",
    }
}

/// What to offer under an FAQ answer: the topic's `then` buttons, the short
/// ones two a row first, then the links to other topics one a row; by
/// default the FAQ menu and a person.
pub fn after_faq(topic: &Topic, faq: &Catalogue) -> Keyboard {
    let then = match topic.then.is_empty() {
        true => &[FollowUp::Faq, FollowUp::Human][..],
        false => &topic.then[..],
    };
    let short: Vec<Button> = then
        .iter()
        .filter_map(|follow| match follow {
            FollowUp::Unbind => Some(Button::new("btn-unbind", CallbackData::MenuUnbind)),
            FollowUp::Status => Some(Button::new("btn-status", CallbackData::MenuStatus)),
            FollowUp::Faq => Some(Button::new("btn-faq", CallbackData::MenuFaq)),
            FollowUp::Human => Some(Button::new("btn-human", CallbackData::MenuHuman)),
            FollowUp::Menu => Some(Button::new("btn-menu", CallbackData::MenuMain)),
            FollowUp::Topic(_) => None,
        })
        .collect();
    let links = then.iter().filter_map(|follow| match follow {
        FollowUp::Topic(id) => faq.get(*id).map(|other| vec![topic_button(other)]),
        _ => None,
    });
    short
        .chunks(2)
        .map(<[Button]>::to_vec)
        .chain(links)
        .collect()
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
