//! Typed settings: a TOML file overlaid with `POSDESK_<SECTION>__<KEY>`
//! environment variables, plus `TELOXIDE_TOKEN`, `TELOXIDE_API_URL` and
//! `DATABASE_URL`. Every key has a default (see `posdesk.example.toml`).
//!
//! Owns parsing and validation; reads the environment only through the map it
//! is given, so tests can pass their own.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use regex::Regex;

mod load;

pub use load::{Loaded, Source, env_name, redact_url};
use serde::{Deserialize, Serialize};

/// A configuration problem, reported as one sentence naming what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML or a value in it is malformed.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// A secret string that never shows in `Debug` output or logs.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether no value was configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Serialised (for `posdesk config check`) as `<redacted>` when set: the
/// value itself never leaves through serde.
impl Serialize for Secret {
    fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        if self.0.is_empty() {
            serializer.serialize_str("")
        } else {
            serializer.serialize_str(REDACTED)
        }
    }
}

/// What `posdesk config check` shows instead of a secret.
pub const REDACTED: &str = "<redacted>";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(<unset>)")
        } else {
            f.write_str("Secret(<redacted>)")
        }
    }
}

/// All settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct Settings {
    /// The acquirer's display name used in texts.
    pub brand: String,
    /// Telegram connection.
    pub telegram: TelegramSettings,
    /// Database connection.
    pub database: DatabaseSettings,
    /// HTTP server.
    pub http: HttpSettings,
    /// Human support.
    pub support: SupportSettings,
    /// One-time codes.
    pub otp: OtpSettings,
    /// Unbinding rules.
    pub unbind: UnbindSettings,
    /// Merchant numbers.
    pub merchant: MerchantSettings,
    /// Input limits.
    pub limits: LimitSettings,
    /// Logging.
    pub log: LogSettings,
    /// Where the locale files come from.
    pub i18n: I18nSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            brand: "DemoPay".into(),
            telegram: TelegramSettings::default(),
            database: DatabaseSettings::default(),
            http: HttpSettings::default(),
            support: SupportSettings::default(),
            otp: OtpSettings::default(),
            unbind: UnbindSettings::default(),
            merchant: MerchantSettings::default(),
            limits: LimitSettings::default(),
            log: LogSettings::default(),
            i18n: I18nSettings::default(),
        }
    }
}

/// `[telegram]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct TelegramSettings {
    /// Bot token (`TELOXIDE_TOKEN`).
    pub token: Secret,
    /// Bot API base URL (`TELOXIDE_API_URL`).
    pub api_url: String,
    /// `polling` or `webhook`.
    pub mode: String,
    /// Public URL Telegram posts updates to, in webhook mode.
    pub webhook_url: String,
    /// Shared secret checked on every webhook request.
    pub webhook_secret: Secret,
    /// Keep within Telegram's outgoing limits.
    pub throttle: bool,
    /// Number of replicas sharing the outgoing limits (each takes its share);
    /// above 1, chats are leased so one replica works on a chat at a time.
    pub replicas: u32,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        TelegramSettings {
            token: Secret::default(),
            api_url: "https://api.telegram.org".into(),
            mode: "polling".into(),
            webhook_url: String::new(),
            webhook_secret: Secret::default(),
            throttle: true,
            replicas: 1,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…` (`DATABASE_URL`).
    pub url: String,
    /// Pool size (PostgreSQL; SQLite uses at most 3: one writer, two readers).
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "sqlite://posdesk.db?mode=rwc".into(),
            max_connections: 8,
        }
    }
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Listen address: everything, or only the webhook when `admin_listen`
    /// is set.
    pub listen: String,
    /// Optional second address for health, metrics and the back-office API
    /// (empty: all on `listen`).
    pub admin_listen: String,
    /// Bearer token of the back-office API; the API is off while empty.
    pub api_token: Secret,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            listen: "127.0.0.1:8080".into(),
            admin_listen: String::new(),
            api_token: Secret::default(),
        }
    }
}

/// `[support]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct SupportSettings {
    /// The staff supergroup (0: none configured).
    pub staff_chat_id: i64,
    /// Optional explicit allow-list of staff user ids.
    pub staff_user_ids: Vec<i64>,
    /// Opening hours, e.g. `Mon-Fri 09:00-18:00`.
    pub hours: String,
    /// Time zone of the opening hours.
    pub timezone: String,
    /// How support reaches merchants when no staff chat is configured.
    pub contact: String,
    /// Prefix staff replies with the agent's name.
    pub sign_replies: bool,
    /// Re-announce an unclaimed ticket after this many minutes.
    pub remind_after_minutes: u32,
    /// Language of the staff group's texts.
    pub staff_lang: String,
    /// New tickets allowed per minute across all chats (topic creation guard).
    pub max_new_tickets_per_minute: u32,
    /// What merchants see of an agent: `alias` ("客服 07") or `telegram`
    /// (their Telegram name).
    pub agent_names: String,
    /// A merchant asking for a person within this many days of a close
    /// reopens that ticket.
    pub reopen_days: u32,
    /// A topic of the staff group where submitted unbinding requests are
    /// posted (0: off).
    pub requests_topic: i64,
}

impl Default for SupportSettings {
    fn default() -> Self {
        SupportSettings {
            staff_chat_id: 0,
            staff_user_ids: Vec::new(),
            hours: "Mon-Fri 09:00-18:00".into(),
            timezone: "Asia/Shanghai".into(),
            contact: String::new(),
            sign_replies: true,
            remind_after_minutes: 10,
            staff_lang: "zh-CN".into(),
            max_new_tickets_per_minute: 10,
            agent_names: "alias".into(),
            reopen_days: 3,
            requests_topic: 0,
        }
    }
}

/// `[otp]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct OtpSettings {
    /// `webhook` or `log`; empty means not configured.
    pub delivery: String,
    /// SMS gateway endpoint.
    pub webhook_url: String,
    /// Key of the `X-Posdesk-Signature` HMAC.
    pub webhook_secret: Secret,
    /// Gateway timeout.
    pub webhook_timeout_seconds: u64,
    /// Key of the code hashes; generated and kept in the database when empty.
    pub hash_key: Secret,
    /// Code length.
    pub digits: usize,
    /// Validity.
    pub valid_minutes: i64,
    /// Wrong entries before code entry locks.
    pub max_attempts: u32,
    /// Lock duration.
    pub lock_minutes: i64,
    /// Minimum gap between two sends for one merchant.
    pub resend_seconds: i64,
    /// Sends per merchant per hour.
    pub max_sends_per_merchant_per_hour: u32,
    /// Sends per Telegram user per hour.
    pub max_sends_per_user_per_hour: u32,
    /// How long a verified merchant stays verified in a chat.
    pub verified_window_minutes: i64,
}

impl Default for OtpSettings {
    fn default() -> Self {
        OtpSettings {
            delivery: String::new(),
            webhook_url: String::new(),
            webhook_secret: Secret::default(),
            webhook_timeout_seconds: 5,
            hash_key: Secret::default(),
            digits: 6,
            valid_minutes: 5,
            max_attempts: 5,
            lock_minutes: 30,
            resend_seconds: 60,
            max_sends_per_merchant_per_hour: 5,
            max_sends_per_user_per_hour: 10,
            verified_window_minutes: 30,
        }
    }
}

/// `[unbind]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct UnbindSettings {
    /// Completed or pending unbinds allowed per period.
    pub max_per_period: u32,
    /// Period length.
    pub period_days: i64,
    /// Windows when unbinding is refused, `HH:MM-HH:MM`, may cross midnight.
    pub blackout: Vec<String>,
    /// Time zone of the blackout windows, references and shown times.
    pub timezone: String,
    /// Promised processing time.
    pub sla_hours: i64,
    /// An idle flow expires after this long.
    pub flow_timeout_minutes: i64,
}

impl Default for UnbindSettings {
    fn default() -> Self {
        UnbindSettings {
            max_per_period: 3,
            period_days: 30,
            blackout: Vec::new(),
            timezone: "Asia/Shanghai".into(),
            sla_hours: 48,
            flow_timeout_minutes: 15,
        }
    }
}

/// `[merchant]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct MerchantSettings {
    /// Format of a merchant number after normalisation.
    pub id_pattern: String,
    /// An example shown when the format is wrong.
    pub id_example: String,
}

impl Default for MerchantSettings {
    fn default() -> Self {
        MerchantSettings {
            id_pattern: "^[A-Z0-9]{6,20}$".into(),
            id_example: "M100200300".into(),
        }
    }
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct LimitSettings {
    /// Longest text the bot reads.
    pub max_text_chars: usize,
    /// Inputs per user per minute before the flood notice.
    pub inputs_per_minute: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            max_text_chars: 1000,
            inputs_per_minute: 30,
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info,posdesk=debug`.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// `[i18n]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct I18nSettings {
    /// A folder laid out like `locales/` whose files replace the built-in
    /// texts and intent rules (empty: use the built-in ones).
    pub locales_dir: String,
}

/// Checked values derived from the settings.
#[derive(Debug, Clone)]
pub struct Derived {
    /// Compiled `merchant.id_pattern`.
    pub merchant_pattern: Regex,
    /// `unbind.timezone`.
    pub unbind_tz: chrono_tz::Tz,
    /// `support.timezone`.
    pub support_tz: chrono_tz::Tz,
    /// Parsed blackout windows, minutes from midnight.
    pub blackout: Vec<(u32, u32)>,
}

impl Settings {
    /// Loads the config file (`--config`, else `POSDESK_CONFIG`, else
    /// `posdesk.toml` if present) and overlays the environment `env`.
    pub fn load(
        path: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        Ok(load::load(path, env)?.settings)
    }

    /// [`Settings::load`] keeping where each value came from.
    pub fn load_with_sources(
        path: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Loaded, ConfigError> {
        load::load(path, env)
    }

    /// Parses TOML text and overlays the environment.
    pub fn from_toml_and_env(
        text: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        Ok(load::from_text("config", text, env)?.settings)
    }

    /// Checks and compiles the derived values.
    pub fn derive(&self) -> Result<Derived, ConfigError> {
        let merchant_pattern = Regex::new(&self.merchant.id_pattern).map_err(|e| {
            ConfigError::Invalid(format!("merchant.id_pattern is not a valid regex: {e}"))
        })?;
        let tz = |name: &str, key: &str| {
            name.parse::<chrono_tz::Tz>().map_err(|_| {
                ConfigError::Invalid(format!(
                    "{key} = {name:?} is not a known time zone (e.g. Asia/Shanghai)"
                ))
            })
        };
        let blackout = self
            .unbind
            .blackout
            .iter()
            .map(|w| {
                parse_window(w).ok_or_else(|| {
                    ConfigError::Invalid(format!("unbind.blackout entry {w:?} is not HH:MM-HH:MM"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(4..=10).contains(&self.otp.digits) {
            return Err(ConfigError::Invalid(
                "otp.digits must be between 4 and 10".into(),
            ));
        }
        if !matches!(self.telegram.mode.as_str(), "polling" | "webhook") {
            return Err(ConfigError::Invalid(
                "telegram.mode must be \"polling\" or \"webhook\"".into(),
            ));
        }
        if self.telegram.mode == "webhook" {
            let url = url::Url::parse(&self.telegram.webhook_url).map_err(|_| {
                ConfigError::Invalid(
                    "telegram.mode = \"webhook\" needs telegram.webhook_url, an https URL".into(),
                )
            })?;
            if url.scheme() != "https"
                && url.host_str() != Some("127.0.0.1")
                && url.host_str() != Some("localhost")
            {
                return Err(ConfigError::Invalid(
                    "telegram.webhook_url must be https".into(),
                ));
            }
            let secret = self.telegram.webhook_secret.expose();
            let secret_ok = (1..=256).contains(&secret.len())
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !secret_ok {
                return Err(ConfigError::Invalid(
                    "telegram.webhook_secret must be 1-256 characters of A-Z a-z 0-9 _ - (the same on every replica)".into(),
                ));
            }
        }
        if !matches!(self.otp.delivery.as_str(), "" | "log" | "webhook") {
            return Err(ConfigError::Invalid(
                "otp.delivery must be \"webhook\" or \"log\"".into(),
            ));
        }
        if self.otp.delivery == "webhook" && self.otp.webhook_url.is_empty() {
            return Err(ConfigError::Invalid(
                "otp.delivery = \"webhook\" needs otp.webhook_url".into(),
            ));
        }
        if self.otp.delivery == "webhook" && self.otp.webhook_secret.is_empty() {
            return Err(ConfigError::Invalid(
                "otp.delivery = \"webhook\" needs otp.webhook_secret (the gateway checks the signature with it); set it or POSDESK_OTP__WEBHOOK_SECRET_FILE".into(),
            ));
        }
        Ok(Derived {
            merchant_pattern,
            unbind_tz: tz(&self.unbind.timezone, "unbind.timezone")?,
            support_tz: tz(&self.support.timezone, "support.timezone")?,
            blackout,
        })
    }
}

/// Parses `HH:MM-HH:MM` into minutes from midnight.
pub fn parse_window(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.trim().split_once('-')?;
    Some((parse_hhmm(a)?, parse_hhmm(b)?))
}

fn parse_hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file() {
        let env: BTreeMap<String, String> = [
            ("POSDESK_UNBIND__SLA_HOURS", "72"),
            ("POSDESK_BRAND", "Acme Pay"),
            ("DATABASE_URL", "postgres://x"),
            ("POSDESK_SUPPORT__STAFF_USER_IDS", "[1, 2]"),
            ("POSDESK_TEST_POSTGRES_URL", "ignored"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = Settings::from_toml_and_env("brand = \"X\"\n[unbind]\nsla_hours = 24\n", &env)
            .expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(s.unbind.sla_hours, 72);
        assert_eq!(s.brand, "Acme Pay");
        assert_eq!(s.database.url, "postgres://x");
        assert_eq!(s.support.staff_user_ids, vec![1, 2]);
        assert_eq!(s.otp.digits, 6);
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = Settings::from_toml_and_env("[unbind]\nblackout = [\"25:00\"]\n", &BTreeMap::new())
            .expect_err("invalid");
        assert!(e.to_string().contains("unbind.blackout"), "{e}");
        let e =
            Settings::from_toml_and_env("[unbind]\ntimezone = \"Mars/Base\"\n", &BTreeMap::new())
                .expect_err("invalid");
        assert!(e.to_string().contains("unbind.timezone"), "{e}");
    }

    #[test]
    fn webhook_delivery_needs_a_secret() {
        let text = "[otp]\ndelivery = \"webhook\"\nwebhook_url = \"http://127.0.0.1:9/sms\"\n";
        let e = Settings::from_toml_and_env(text, &BTreeMap::new()).expect_err("no secret");
        assert!(e.to_string().contains("otp.webhook_secret"), "{e}");
        let env = [("POSDESK_OTP__WEBHOOK_SECRET".to_string(), "s".to_string())].into();
        Settings::from_toml_and_env(text, &env).expect("with a secret"); // ok: a test; failing loudly is the point
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn windows_parse() {
        assert_eq!(parse_window("22:30-00:30"), Some((1350, 30)));
        assert_eq!(parse_window("9:00-18:00"), Some((540, 1080)));
        assert_eq!(parse_window("nonsense"), None);
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    #[test]
    fn example_config_parses_and_equals_the_defaults() {
        let text = include_str!("../posdesk.example.toml");
        let parsed = Settings::from_toml_and_env(text, &BTreeMap::new()).expect("example parses"); // ok: a test; failing loudly is the point
        let defaults = Settings::default();
        assert_eq!(format!("{parsed:?}"), format!("{defaults:?}"));
    }
}
