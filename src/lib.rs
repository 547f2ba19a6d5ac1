//! posdesk: a Telegram support bot for merchants of a POS payment acquirer.
//!
//! # Layout
//! - [`conversation`]: the pure core, `step(conversation, event, ctx)`.
//! - [`faq`]: the FAQ catalogue (locales/faq.toml), checked at start-up.
//! - [`intents`]: normaliser and rule matcher (rules in locales/).
//! - [`i18n`]: Fluent texts and rendering.
//! - [`domain`]: parsed values (merchant numbers, codes, references…).
//! - [`redact`]: the one function that masks card and phone numbers.
//! - [`otp`]: keyed hashing of one-time codes.
//! - [`config`]: settings from TOML and the environment.
//! - [`storage`]: the only module that imports sqlx.
//! - [`engine`]: one transaction per turn around the core, the outbox.
//! - [`delivery`]: one-time code delivery (SMS gateway webhook, log).
//! - [`tickets`]: the pure ticket core (staff side of handoff) and its card.
//! - [`telegram`]: the only module that imports teloxide.
//! - [`console`]: the terminal channel.
//! - [`http`]: health, metrics and the back-office API.
//! - [`merchants`]: CSV import.
//! - [`metrics`]: counters and the turn-latency histogram.
//! - [`app`]: wiring for the binary's commands.

pub mod app;
pub mod config;
pub mod console;
pub mod conversation;
pub mod delivery;
pub mod domain;
pub mod engine;
pub mod faq;
pub mod http;
pub mod i18n;
pub mod intents;
pub mod merchants;
pub mod metrics;
pub mod otp;
pub mod redact;
pub mod storage;
pub mod telegram;
pub mod tickets;

/// A failure that ends a command, shown to the operator as one sentence.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration (exit code 2).
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Locale files broken (exit code 2).
    #[error(transparent)]
    Texts(#[from] i18n::I18nError),
    /// Intent rules broken (exit code 2).
    #[error(transparent)]
    Rules(#[from] intents::RulesError),
    /// The FAQ catalogue is broken (exit code 2).
    #[error(transparent)]
    FaqFile(#[from] faq::FaqError),
    /// The FAQ catalogue does not fit the texts or rules (exit code 2): one
    /// problem a line.
    #[error("the FAQ catalogue has problems:\n{0}")]
    Faq(String),
    /// Database failure (exit code 1).
    #[error(transparent)]
    Store(#[from] storage::StoreError),
    /// Anything else at run time (exit code 1).
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_)
            | Error::Texts(_)
            | Error::Rules(_)
            | Error::FaqFile(_)
            | Error::Faq(_) => 2,
            Error::Store(storage::StoreError::BadUrl(_)) => 2,
            Error::Store(_) | Error::Runtime(_) => 1,
        }
    }
}
