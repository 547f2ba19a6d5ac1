//! Inputs of the conversation core. A Telegram update or a terminal line
//! becomes one `Event` in exactly one place (its adapter); anything we do not
//! understand is a variant, never an error.

use serde::{Deserialize, Serialize};

use crate::domain::{Lang, MerchantId, OtpCode};
use crate::faq::FaqId;
use crate::intents::Intent;

use super::facts::{MerchantFacts, TicketOpened};

/// One input to [`super::step`].
#[derive(Debug, Clone)]
pub enum Event {
    /// A slash command.
    Command(Command),
    /// A plain text message.
    Text(String),
    /// An inline-button press.
    Callback(CallbackData),
    /// A photo, sticker, voice note, document or other non-text message.
    Media(MediaKind),
    /// The merchant edited an earlier message.
    Edited(String),
    /// Data the core asked for with [`super::Effect::Fetch`].
    Facts {
        /// What the store knows.
        facts: Box<MerchantFacts>,
        /// What to do with it.
        then: Continuation,
    },
    /// The result of a one-time code delivery.
    OtpDelivery {
        /// The merchant the code was for.
        merchant: MerchantId,
        /// When the code was issued (Unix ms): which code this is about.
        issued_at: i64,
        /// What the gateway said, if anyone heard it.
        outcome: Delivery,
    },
    /// A ticket asked for with [`super::Effect::OpenTicket`] now exists.
    TicketOpened(TicketOpened),
    /// Staff claimed this chat's ticket.
    TicketClaimed {
        /// The agent's display name.
        agent: String,
    },
    /// Staff closed this chat's ticket: the bot owns the chat again.
    TicketClosed {
        /// The ticket.
        ticket: i64,
    },
    /// Staff blocked this chat's user: one polite notice, then silence.
    Blocked {
        /// Why (for staff; never shown to the user).
        reason: String,
    },
    /// Staff lifted the block.
    Unblocked,
    /// A periodic check: expires idle flows.
    Tick,
}

impl Event {
    /// Whether a person produced this event (as opposed to a fetch result or timer).
    pub fn is_user_input(&self) -> bool {
        matches!(
            self,
            Event::Command(_)
                | Event::Text(_)
                | Event::Callback(_)
                | Event::Media(_)
                | Event::Edited(_)
        )
    }

    /// A short name for metrics and the turn record.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Command(_) => "command",
            Event::Text(_) => "text",
            Event::Callback(_) => "callback",
            Event::Media(_) => "media",
            Event::Edited(_) => "edited",
            Event::Facts { .. } => "facts",
            Event::OtpDelivery { .. } => "otp_delivery",
            Event::TicketOpened(_) => "ticket_opened",
            Event::TicketClaimed { .. } => "ticket_claimed",
            Event::TicketClosed { .. } => "ticket_closed",
            Event::Blocked { .. } => "blocked",
            Event::Unblocked => "unblocked",
            Event::Tick => "tick",
        }
    }
}

/// What became of a one-time code handed to the SMS gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The gateway accepted it.
    Delivered,
    /// The gateway refused it or could not be reached.
    Failed,
    /// Nobody knows: the process that was sending it stopped (a crash)
    /// before the gateway's answer was recorded.
    Unknown,
}

/// What the core wanted fetched facts for.
#[derive(Debug, Clone, PartialEq)]
pub enum Continuation {
    /// Send (or resend) a one-time code.
    IssueCode,
    /// Check a code the merchant typed.
    VerifyCode(OtpCode),
    /// Show the bound card and ask for confirmation.
    Summarise,
    /// Run the final checks and create the request.
    Submit,
    /// List the merchant's requests.
    ShowStatus,
}

/// Kinds of non-text messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A photo.
    Photo,
    /// A document or file.
    Document,
    /// A voice note or audio.
    Voice,
    /// A video.
    Video,
    /// A sticker.
    Sticker,
    /// Anything else (location, contact, poll…).
    Other,
}

/// Slash commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/start`: the menu.
    Start,
    /// `/unbind`.
    Unbind,
    /// `/status`.
    Status,
    /// `/faq`.
    Faq,
    /// `/human`.
    Human,
    /// `/cancel`: leave any flow.
    Cancel,
    /// `/lang`.
    Lang,
    /// `/help`.
    Help,
    /// Any other command.
    Unknown(String),
}

impl Event {
    /// A line a merchant typed: a command, unless it carries a card number
    /// or a password (then a text, which the core deletes: a command would
    /// be relayed to staff during a ticket).
    pub fn typed(text: &str) -> Event {
        match Command::parse(text) {
            Some(command) if !crate::redact::redact(text).1.secret() => Event::Command(command),
            _ => Event::Text(text.to_string()),
        }
    }
}

impl Command {
    /// Parses `/name`, `/name@bot` or `/name args`; `None` if `text` is not a command.
    pub fn parse(text: &str) -> Option<Command> {
        let first = text.split_whitespace().next()?;
        let name = first.strip_prefix('/')?;
        let name = name.split('@').next().unwrap_or(name).to_ascii_lowercase();
        Some(match name.as_str() {
            "start" | "menu" => Command::Start,
            "unbind" => Command::Unbind,
            "status" => Command::Status,
            "faq" => Command::Faq,
            "human" => Command::Human,
            "cancel" => Command::Cancel,
            "lang" | "language" => Command::Lang,
            "help" => Command::Help,
            _ => Command::Unknown(name),
        })
    }
}

/// Inline-button data, `<flow>:<action>[:<arg>]`, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackData {
    /// `unbind:confirm`.
    UnbindConfirm,
    /// `unbind:cancel`.
    UnbindCancel,
    /// `unbind:resend`: a new code.
    UnbindResend,
    /// `menu:unbind`.
    MenuUnbind,
    /// `unbind:start:<merchant number>`: unbinding with a merchant number
    /// the merchant typed before (checked against the pattern when pressed).
    UnbindWith(String),
    /// `menu:faq`.
    MenuFaq,
    /// `menu:status`.
    MenuStatus,
    /// `menu:human`.
    MenuHuman,
    /// `menu:main`: back to the main menu.
    MenuMain,
    /// `faq:<intent id>`: one FAQ answer.
    Faq(FaqId),
    /// `clarify:<intent id>`: the merchant's pick after "did you mean A or B?".
    Clarify(Intent),
    /// `outside:<topic>`: a person for a question out of the bot's scope.
    Outside(crate::intents::Outside),
    /// `lang:<tag>`.
    Lang(Lang),
    /// `ticket:claim:<id>` (staff).
    TicketClaim(i64),
    /// `ticket:close:<id>` (staff).
    TicketClose(i64),
    /// `csat:<1-5>:<ticket id>`.
    Csat(u8, i64),
    /// Anything else: stale, forged or from a future version.
    Invalid(String),
}

impl CallbackData {
    /// Parses button data; never fails.
    pub fn parse(data: &str) -> CallbackData {
        if data.len() > 64 {
            return CallbackData::Invalid(data.chars().take(64).collect());
        }
        let parts: Vec<&str> = data.split(':').collect();
        let positive_id = |s: &str| s.parse::<i64>().ok().filter(|id| *id > 0);
        match parts.as_slice() {
            ["unbind", "confirm"] => CallbackData::UnbindConfirm,
            ["unbind", "cancel"] => CallbackData::UnbindCancel,
            ["unbind", "resend"] => CallbackData::UnbindResend,
            ["unbind", "start", id]
                if (1..=40).contains(&id.len())
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
            {
                CallbackData::UnbindWith(id.to_string())
            }
            ["menu", "unbind"] => CallbackData::MenuUnbind,
            ["menu", "faq"] => CallbackData::MenuFaq,
            ["menu", "status"] => CallbackData::MenuStatus,
            ["menu", "human"] => CallbackData::MenuHuman,
            ["menu", "main"] => CallbackData::MenuMain,
            ["faq", id] => match FaqId::known(id) {
                Some(id) => CallbackData::Faq(id),
                None => CallbackData::Invalid(data.into()),
            },
            ["outside", topic] => match crate::intents::Outside::parse(&format!("outside.{topic}"))
            {
                Some(topic) => CallbackData::Outside(topic),
                None => CallbackData::Invalid(data.into()),
            },
            ["clarify", id] => match Intent::parse(id) {
                Some(intent) if intent.is_in_scope() => CallbackData::Clarify(intent),
                _ => CallbackData::Invalid(data.into()),
            },
            ["lang", tag] => match Lang::parse(tag) {
                Some(lang) => CallbackData::Lang(lang),
                None => CallbackData::Invalid(data.into()),
            },
            ["ticket", "claim", id] => match positive_id(id) {
                Some(id) => CallbackData::TicketClaim(id),
                None => CallbackData::Invalid(data.into()),
            },
            ["ticket", "close", id] => match positive_id(id) {
                Some(id) => CallbackData::TicketClose(id),
                None => CallbackData::Invalid(data.into()),
            },
            ["csat", score, id] => match (score.parse::<u8>().ok(), positive_id(id)) {
                (Some(score @ 1..=5), Some(id)) => CallbackData::Csat(score, id),
                _ => CallbackData::Invalid(data.into()),
            },
            _ => CallbackData::Invalid(data.into()),
        }
    }

    /// The wire form; always at most 64 bytes.
    pub fn to_data(&self) -> String {
        match self {
            CallbackData::UnbindConfirm => "unbind:confirm".into(),
            CallbackData::UnbindCancel => "unbind:cancel".into(),
            CallbackData::UnbindResend => "unbind:resend".into(),
            CallbackData::UnbindWith(id) => format!("unbind:start:{id}"),
            CallbackData::MenuUnbind => "menu:unbind".into(),
            CallbackData::MenuFaq => "menu:faq".into(),
            CallbackData::MenuStatus => "menu:status".into(),
            CallbackData::MenuHuman => "menu:human".into(),
            CallbackData::MenuMain => "menu:main".into(),
            CallbackData::Faq(id) => format!("faq:{id}"),
            CallbackData::Clarify(intent) => format!("clarify:{}", intent.as_str()),
            CallbackData::Outside(topic) => topic.name().replacen('.', ":", 1),
            CallbackData::Lang(lang) => format!("lang:{}", lang.as_str()),
            CallbackData::TicketClaim(id) => format!("ticket:claim:{id}"),
            CallbackData::TicketClose(id) => format!("ticket:close:{id}"),
            CallbackData::Csat(score, id) => format!("csat:{score}:{id}"),
            CallbackData::Invalid(raw) => raw.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips() {
        let faq = crate::app::builtin_faq().expect("the built-in catalogue"); // ok: a test
        let topic = |id: &str| faq.find(id).map(|t| t.id).expect("a topic"); // ok: a test
        let all = [
            CallbackData::UnbindConfirm,
            CallbackData::UnbindCancel,
            CallbackData::UnbindResend,
            CallbackData::UnbindWith("862100058120001".into()),
            CallbackData::MenuUnbind,
            CallbackData::MenuFaq,
            CallbackData::MenuStatus,
            CallbackData::MenuHuman,
            CallbackData::MenuMain,
            CallbackData::Faq(topic("verification_failed")),
            CallbackData::Clarify(Intent::Faq(topic("unbind_stuck"))),
            CallbackData::Outside(crate::intents::Outside::Terminal),
            CallbackData::Outside(crate::intents::Outside::SettlementTiming),
            CallbackData::Clarify(Intent::ProgressQuery),
            CallbackData::Lang(Lang::En),
            CallbackData::TicketClaim(12),
            CallbackData::TicketClose(i64::MAX),
            CallbackData::Csat(5, 3),
        ];
        for data in all {
            let wire = data.to_data();
            assert!(wire.len() <= 64, "{wire}");
            assert_eq!(CallbackData::parse(&wire), data, "{wire}");
        }
    }

    #[test]
    fn forged_callback_data_is_invalid() {
        for raw in [
            "",
            "unbind",
            "unbind:confirm:1",
            "unbind:start:",
            "unbind:start:m100200300",
            "unbind:start:M100 200",
            "csat:6:1",
            "csat:0:1",
            "ticket:claim:-1",
            "ticket:claim:abc",
            "faq:unknown",
            "faq:greeting",
            "lang:fr",
            &"x".repeat(200),
        ] {
            assert!(
                matches!(CallbackData::parse(raw), CallbackData::Invalid(_)),
                "{raw}"
            );
        }
    }

    #[test]
    fn commands_parse() {
        assert_eq!(Command::parse("/start"), Some(Command::Start));
        assert_eq!(
            Command::parse("/Unbind@posdesk_bot now"),
            Some(Command::Unbind)
        );
        assert_eq!(
            Command::parse("/what"),
            Some(Command::Unknown("what".into()))
        );
        assert_eq!(Command::parse("hello"), None);
        assert_eq!(Command::parse("/"), Some(Command::Unknown(String::new())));
    }
}
