//! The FAQ catalogue: every answer the bot gives from data, loaded from
//! `locales/faq.toml` and checked against the texts and the intent rules at
//! start-up. Adding a topic is an edit in locales/ only: a `[[topic]]` here,
//! its answer and label in every language's `posdesk.ftl`, and at least one
//! rule per language in `intents.toml` (see README, "Extending").
//!
//! Pure; reading the files is the caller's business.

mod id;

pub use id::FaqId;

use serde::Deserialize;

/// A setting an answer may quote, by the Fluent variable it fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// `brand`.
    Brand,
    /// `otp.valid_minutes`.
    CodeMinutes,
    /// `otp.max_attempts`.
    MaxAttempts,
    /// `otp.lock_minutes`.
    LockMinutes,
    /// `otp.resend_seconds`.
    ResendSeconds,
    /// `otp.digits`.
    CodeDigits,
    /// `unbind.sla_hours`.
    SlaHours,
    /// `unbind.max_per_period`.
    MaxUnbinds,
    /// `unbind.period_days`.
    PeriodDays,
    /// `unbind.blackout`, rendered in the reader's language.
    Blackout,
    /// `unbind.timezone`, rendered in the reader's language.
    Timezone,
    /// `support.hours`, rendered in the reader's language.
    SupportHours,
    /// `merchant.id_example`.
    MerchantIdExample,
}

impl Quote {
    /// Every quotable setting.
    pub const ALL: [Quote; 13] = [
        Quote::Brand,
        Quote::CodeMinutes,
        Quote::MaxAttempts,
        Quote::LockMinutes,
        Quote::ResendSeconds,
        Quote::CodeDigits,
        Quote::SlaHours,
        Quote::MaxUnbinds,
        Quote::PeriodDays,
        Quote::Blackout,
        Quote::Timezone,
        Quote::SupportHours,
        Quote::MerchantIdExample,
    ];

    /// The Fluent variable it fills (and its name in `quotes = [...]`).
    pub fn name(self) -> &'static str {
        match self {
            Quote::Brand => "brand",
            Quote::CodeMinutes => "code_minutes",
            Quote::MaxAttempts => "max_attempts",
            Quote::LockMinutes => "lock_minutes",
            Quote::ResendSeconds => "resend_seconds",
            Quote::CodeDigits => "digits",
            Quote::SlaHours => "sla_hours",
            Quote::MaxUnbinds => "max_unbinds",
            Quote::PeriodDays => "period_days",
            Quote::Blackout => "blackout",
            Quote::Timezone => "timezone",
            Quote::SupportHours => "hours",
            Quote::MerchantIdExample => "example",
        }
    }

    fn parse(name: &str) -> Option<Quote> {
        Quote::ALL.into_iter().find(|q| q.name() == name)
    }
}

/// A button under an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// Start unbinding (`unbind`).
    Unbind,
    /// The merchant's requests (`status`).
    Status,
    /// The FAQ menu (`faq`).
    Faq,
    /// A person (`human`).
    Human,
    /// The main menu (`menu`).
    Menu,
    /// Another topic (`faq:<id>`).
    Topic(FaqId),
}

/// One answer of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// Its id: an intent id of `posdesk classify`, rules and callback data.
    pub id: FaqId,
    /// The answer's message id (`faq-<id>`).
    pub answer: &'static str,
    /// The label's message id (`btn-faq-<id>`): menu, buttons, canned answers.
    pub label: &'static str,
    /// The row of the FAQ menu it sits in; `None`: answered, not listed.
    pub menu: Option<u8>,
    /// The buttons under the answer.
    pub then: Vec<FollowUp>,
    /// The settings the answer quotes.
    pub quotes: Vec<Quote>,
    /// Safety first: outranks unbinding in a message that says both, and
    /// carries its own warning about passwords.
    pub safety: bool,
    /// For a narrower topic, the contract id `posdesk classify` prints.
    pub reports_as: Option<&'static str>,
}

/// The whole catalogue, in priority order (earlier wins a tie).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalogue {
    topics: Vec<Topic>,
}

/// A problem in the catalogue, naming the topic and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum FaqError {
    /// The TOML is malformed or has unknown keys.
    #[error("{file}: {message}")]
    Toml {
        /// Which file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// One topic is wrong.
    #[error("{file}: topic {id:?}: {message}")]
    Topic {
        /// Which file.
        file: String,
        /// The topic.
        id: String,
        /// What is wrong, and what to do.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    topic: Vec<RawTopic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    id: String,
    menu: Option<u8>,
    #[serde(default)]
    then: Vec<String>,
    #[serde(default)]
    quotes: Vec<String>,
    #[serde(default)]
    safety: bool,
    reports_as: Option<String>,
}

/// The intent ids with behaviour of their own; a topic may not take one.
pub const RESERVED_IDS: [&str; 5] = [
    "greeting",
    "unbind_start",
    "progress_query",
    "human",
    "unknown",
];

impl Catalogue {
    /// Parses `faq.toml`. Checks what the file alone can tell: ids, buttons,
    /// quotes; [`Catalogue::check_against`] checks texts and rules.
    pub fn parse(file: &str, text: &str) -> Result<Catalogue, FaqError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| FaqError::Toml {
            file: file.to_string(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let bad = |id: &str, message: String| FaqError::Topic {
            file: file.to_string(),
            id: id.to_string(),
            message,
        };
        if raw.topic.is_empty() {
            return Err(FaqError::Toml {
                file: file.to_string(),
                message: "no [[topic]]: the catalogue needs at least one".into(),
            });
        }
        let ids: Vec<&str> = raw.topic.iter().map(|t| t.id.as_str()).collect();
        let mut topics = Vec::new();
        for (n, raw_topic) in raw.topic.iter().enumerate() {
            let id = raw_topic.id.as_str();
            if !valid_id(id) {
                return Err(bad(
                    id,
                    "an id is lower-case letters, digits and _ (at most 40), starting with a letter"
                        .into(),
                ));
            }
            if RESERVED_IDS.contains(&id)
                || id.starts_with("chit_chat")
                || id.starts_with("outside")
            {
                return Err(bad(
                    id,
                    "this id belongs to an intent with behaviour of its own; choose another".into(),
                ));
            }
            if ids[..n].contains(&id) {
                return Err(bad(id, "the id is used twice".into()));
            }
            let mut then = Vec::new();
            for name in &raw_topic.then {
                let follow = match name.as_str() {
                    "unbind" => FollowUp::Unbind,
                    "status" => FollowUp::Status,
                    "faq" => FollowUp::Faq,
                    "human" => FollowUp::Human,
                    "menu" => FollowUp::Menu,
                    other => match other.strip_prefix("faq:") {
                        Some(target) if ids.contains(&target) && target != id => {
                            FollowUp::Topic(FaqId::intern(target))
                        }
                        _ => {
                            return Err(bad(
                                id,
                                format!(
                                    "then = {other:?}: a button is unbind, status, faq, human, menu or faq:<another topic's id>"
                                ),
                            ));
                        }
                    },
                };
                then.push(follow);
            }
            if then.len() > 4 {
                return Err(bad(id, "at most 4 buttons under an answer".into()));
            }
            let mut quotes = Vec::new();
            for name in &raw_topic.quotes {
                let quote = Quote::parse(name).ok_or_else(|| {
                    let known: Vec<&str> = Quote::ALL.iter().map(|q| q.name()).collect();
                    bad(
                        id,
                        format!(
                            "quotes {name:?}: not a setting an answer can quote (one of: {})",
                            known.join(", ")
                        ),
                    )
                })?;
                quotes.push(quote);
            }
            let reports_as = match raw_topic.reports_as.as_deref() {
                None => None,
                Some(parent)
                    if parent != id
                        && (RESERVED_IDS.contains(&parent)
                            || raw
                                .topic
                                .iter()
                                .any(|t| t.id == parent && t.reports_as.is_none())) =>
                {
                    Some(id::intern(parent))
                }
                Some(parent) => {
                    return Err(bad(
                        id,
                        format!(
                            "reports_as = {parent:?}: name another topic (one without reports_as) or an intent id"
                        ),
                    ));
                }
            };
            let topic_id = FaqId::intern(id);
            topics.push(Topic {
                id: topic_id,
                answer: topic_id.answer(),
                label: topic_id.label(),
                menu: raw_topic.menu,
                then,
                quotes,
                safety: raw_topic.safety,
                reports_as,
            });
        }
        if topics.iter().all(|t| t.menu.is_none()) {
            return Err(FaqError::Toml {
                file: file.to_string(),
                message: "no topic has menu = <row>: the FAQ menu would be empty".into(),
            });
        }
        Ok(Catalogue { topics })
    }

    /// Checks the catalogue against everything else in locales/: for each
    /// topic, `has_text(message id)` must hold for the answer and the label
    /// in every language (`render_answer` must render it with the quoted
    /// settings), and `rules_in(id)` lists the languages with a rule for it.
    /// Every problem is listed, one a line.
    pub fn check_against(
        &self,
        languages: &[&str],
        has_text: impl Fn(&str, &str) -> bool,
        render_answer: impl Fn(&str, &Topic) -> Result<(), String>,
        rules_in: impl Fn(FaqId) -> Vec<String>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for topic in &self.topics {
            let id = topic.id.as_str();
            for lang in languages {
                for message in [topic.answer, topic.label] {
                    if !has_text(lang, message) {
                        problems.push(format!(
                            "topic {id:?}: {lang}/posdesk.ftl has no message {message:?}; add it"
                        ));
                    }
                }
                if has_text(lang, topic.answer)
                    && let Err(why) = render_answer(lang, topic)
                {
                    problems.push(format!(
                        "topic {id:?}: {lang} answer {:?} does not render with its quotes ({}): {why}",
                        topic.answer,
                        topic.quotes.iter().map(|q| q.name()).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            let with_rules = rules_in(topic.id);
            for lang in languages {
                if !with_rules.iter().any(|l| l == lang) {
                    problems.push(format!(
                        "topic {id:?}: {lang}/intents.toml has no rule with intent = {id:?}; add one so merchants who ask in words find it"
                    ));
                }
            }
        }
        problems
    }

    /// Every topic, in priority order.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The topic with this id.
    pub fn get(&self, id: FaqId) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    /// The topic with this id, by name.
    pub fn find(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id.as_str() == id)
    }

    /// A topic's place in the priority order (`None`: not in this catalogue).
    pub fn position(&self, id: FaqId) -> Option<usize> {
        self.topics.iter().position(|t| t.id == id)
    }

    /// The menu: topics by row, rows in order.
    pub fn menu_rows(&self) -> Vec<Vec<&Topic>> {
        let mut rows: Vec<u8> = self.topics.iter().filter_map(|t| t.menu).collect();
        rows.sort_unstable();
        rows.dedup();
        rows.into_iter()
            .map(|row| self.topics.iter().filter(|t| t.menu == Some(row)).collect())
            .collect()
    }

    /// The id `posdesk classify` prints for a topic.
    pub fn reported_id(&self, id: FaqId) -> &'static str {
        self.get(id)
            .and_then(|t| t.reports_as)
            .unwrap_or(id.as_str())
    }
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && id.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[topic]]
id = "verification_failed"
menu = 1
then = ["unbind", "human"]
quotes = ["code_minutes"]

[[topic]]
id = "fee_question"
then = ["faq:verification_failed"]
reports_as = "verification_failed"
"#;

    #[test]
    fn a_catalogue_reads_with_its_conventions() {
        let c = Catalogue::parse("faq.toml", GOOD).expect("valid"); // ok: a test; failing loudly is the point
        let fee = c.find("fee_question").expect("listed"); // ok: a test
        assert_eq!(fee.answer, "faq-fee-question");
        assert_eq!(fee.label, "btn-faq-fee-question");
        assert_eq!(fee.menu, None);
        assert_eq!(c.reported_id(fee.id), "verification_failed");
        assert_eq!(c.menu_rows().len(), 1);
        assert_eq!(c.position(fee.id), Some(1));
        assert_eq!(FaqId::known("fee_question"), Some(fee.id));
    }

    #[test]
    fn mistakes_are_named_with_the_fix() {
        let cases = [
            ("[[topic]]\nid = \"Bad Id\"\nmenu = 1\n", "lower-case"),
            ("[[topic]]\nid = \"human\"\nmenu = 1\n", "behaviour"),
            (
                "[[topic]]\nid = \"a\"\nmenu = 1\n[[topic]]\nid = \"a\"\n",
                "twice",
            ),
            (
                "[[topic]]\nid = \"a\"\nmenu = 1\nthen = [\"call\"]\n",
                "unbind, status",
            ),
            (
                "[[topic]]\nid = \"a\"\nmenu = 1\nthen = [\"faq:b\"]\n",
                "faq:<another",
            ),
            (
                "[[topic]]\nid = \"a\"\nmenu = 1\nquotes = [\"pin\"]\n",
                "not a setting",
            ),
            (
                "[[topic]]\nid = \"a\"\nmenu = 1\nanswer = \"x\"\n",
                "unknown field",
            ),
            ("[[topic]]\nid = \"a\"\n", "menu would be empty"),
            (
                "[[topic]]\nid = \"a\"\nmenu = 1\nreports_as = \"b\"\n",
                "reports_as",
            ),
            ("", "at least one"),
        ];
        for (text, expected) in cases {
            let error = Catalogue::parse("faq.toml", text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn checks_name_every_missing_piece() {
        let c = Catalogue::parse("faq.toml", GOOD).expect("valid"); // ok: a test
        let problems = c.check_against(
            &["zh-CN", "en"],
            |lang, id| !(lang == "en" && id == "btn-faq-fee-question"),
            |_, _| Ok(()),
            |id| match id.as_str() {
                "fee_question" => vec!["zh-CN".into()],
                _ => vec!["zh-CN".into(), "en".into()],
            },
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("en/posdesk.ftl has no message \"btn-faq-fee-question\""));
        assert!(problems[1].contains("en/intents.toml has no rule"));
    }
}
