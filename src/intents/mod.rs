//! Intent classification: a normaliser and a weighted regex rule matcher.
//! The rules and the traditional-to-simplified table are data in locales/
//! (`intents.toml`, `t2s.tsv`), so support staff extend them without touching
//! code.
//!
//! Pure; loading the data from text is the caller's business.

mod normalise;

pub use normalise::Normaliser;

use std::collections::HashMap;

use regex::Regex;
use serde::Deserialize;

use crate::domain::Lang;

/// What a merchant's free text is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Hello.
    Greeting,
    /// Wants to unbind.
    UnbindStart,
    /// What to prepare.
    UnbindPrepare,
    /// Code or verification trouble.
    VerificationFailed,
    /// Unbinding slow or stuck.
    UnbindStuck,
    /// New settlement account not active.
    NewAccountInactive,
    /// Limits and time windows.
    UnbindLimits,
    /// Scams and safety.
    Security,
    /// What to do after unbinding.
    AfterUnbind,
    /// Where is my request.
    ProgressQuery,
    /// Wants a person.
    Human,
    /// Out of scope.
    Unknown,
}

impl Intent {
    /// Every intent, in tie-break priority order (`Unknown` last).
    pub const ALL: [Intent; 12] = [
        Intent::Human,
        Intent::Security,
        Intent::VerificationFailed,
        Intent::UnbindStuck,
        Intent::NewAccountInactive,
        Intent::UnbindLimits,
        Intent::ProgressQuery,
        Intent::AfterUnbind,
        Intent::UnbindPrepare,
        Intent::UnbindStart,
        Intent::Greeting,
        Intent::Unknown,
    ];

    /// The contract id (`verification_failed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Greeting => "greeting",
            Intent::UnbindStart => "unbind_start",
            Intent::UnbindPrepare => "unbind_prepare",
            Intent::VerificationFailed => "verification_failed",
            Intent::UnbindStuck => "unbind_stuck",
            Intent::NewAccountInactive => "new_account_inactive",
            Intent::UnbindLimits => "unbind_limits",
            Intent::Security => "security",
            Intent::AfterUnbind => "after_unbind",
            Intent::ProgressQuery => "progress_query",
            Intent::Human => "human",
            Intent::Unknown => "unknown",
        }
    }

    /// Parses a contract id.
    pub fn parse(id: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == id)
    }

    /// Whether the intent has a static FAQ answer.
    pub fn is_faq(self) -> bool {
        matches!(
            self,
            Intent::UnbindPrepare
                | Intent::VerificationFailed
                | Intent::UnbindStuck
                | Intent::NewAccountInactive
                | Intent::UnbindLimits
                | Intent::Security
                | Intent::AfterUnbind
        )
    }

    /// Anything but greeting and unknown.
    pub fn is_in_scope(self) -> bool {
        !matches!(self, Intent::Unknown | Intent::Greeting)
    }

    fn priority(self) -> usize {
        Intent::ALL
            .iter()
            .position(|i| *i == self)
            .unwrap_or(usize::MAX)
    }
}

/// A problem in the rule files, naming the file and rule.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The TOML is malformed.
    #[error("{file}: {message}")]
    Toml {
        /// Which file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A rule names an intent that does not exist.
    #[error("{file}: rule {index} names unknown intent {intent:?}")]
    UnknownIntent {
        /// Which file.
        file: String,
        /// Rule number (from 1).
        index: usize,
        /// The name.
        intent: String,
    },
    /// A pattern does not compile.
    #[error("{file}: rule {index}: bad pattern {pattern:?}: {message}")]
    Pattern {
        /// Which file.
        file: String,
        /// Rule number (from 1).
        index: usize,
        /// The pattern.
        pattern: String,
        /// Why.
        message: String,
    },
}

#[derive(Deserialize)]
struct RuleFile {
    threshold: Option<f64>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
struct RawRule {
    intent: String,
    #[serde(default = "one")]
    weight: f64,
    patterns: Vec<String>,
}

fn one() -> f64 {
    1.0
}

struct Rule {
    intent: Intent,
    /// The language of the file the rule came from (by its folder name).
    lang: Option<Lang>,
    weight: f64,
    /// Matches where any of the rule's patterns matches.
    any: Regex,
}

/// Classifies utterances with the rules of every language.
pub struct Classifier {
    normaliser: Normaliser,
    rules: Vec<Rule>,
    threshold: f64,
}

impl Classifier {
    /// Builds a classifier from rule files `(name, toml text)` and a t2s table.
    pub fn from_sources(
        rule_files: &[(&str, &str)],
        t2s_tsv: &str,
    ) -> Result<Classifier, RulesError> {
        let mut rules = Vec::new();
        let mut threshold = 1.0;
        for (file, text) in rule_files {
            let parsed: RuleFile = toml::from_str(text).map_err(|e| RulesError::Toml {
                file: file.to_string(),
                message: e.message().to_string(),
            })?;
            if let Some(t) = parsed.threshold {
                threshold = t;
            }
            for (i, raw) in parsed.rule.into_iter().enumerate() {
                let intent = Intent::parse(&raw.intent)
                    .filter(|i| *i != Intent::Unknown)
                    .ok_or_else(|| RulesError::UnknownIntent {
                        file: file.to_string(),
                        index: i + 1,
                        intent: raw.intent.clone(),
                    })?;
                // Each pattern is parsed alone (cheap; an error names it),
                // then a rule's patterns are compiled as one alternation: one
                // pass over the text per rule instead of one per pattern.
                for p in &raw.patterns {
                    regex_syntax::Parser::new()
                        .parse(p)
                        .map_err(|e| RulesError::Pattern {
                            file: file.to_string(),
                            index: i + 1,
                            pattern: p.clone(),
                            message: e.to_string(),
                        })?;
                }
                if raw.patterns.is_empty() {
                    continue;
                }
                let alternation = raw
                    .patterns
                    .iter()
                    .map(|p| format!("(?:{p})"))
                    .collect::<Vec<_>>()
                    .join("|");
                let any = Regex::new(&alternation).map_err(|e| RulesError::Pattern {
                    file: file.to_string(),
                    index: i + 1,
                    pattern: raw.patterns.join(" | "),
                    message: e.to_string(),
                })?;
                rules.push(Rule {
                    intent,
                    lang: file_lang(file),
                    weight: raw.weight,
                    any,
                });
            }
        }
        Ok(Classifier {
            normaliser: Normaliser::from_tsv(t2s_tsv),
            rules,
            threshold,
        })
    }

    /// The normaliser in use.
    pub fn normaliser(&self) -> &Normaliser {
        &self.normaliser
    }

    /// Number of rules loaded.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The intent of one utterance.
    pub fn classify(&self, text: &str) -> Intent {
        self.classify_preferring(text, None)
    }

    /// The intent of one utterance; rules of every language apply, and
    /// where two intents score the same, the one matched by a rule of
    /// `prefer` wins (`posdesk classify --lang`).
    pub fn classify_preferring(&self, text: &str, prefer: Option<Lang>) -> Intent {
        let normalised = self.normaliser.normalise(text);
        if normalised.is_empty() {
            return Intent::Unknown;
        }
        let mut scores: HashMap<Intent, (f64, bool)> = HashMap::new();
        for rule in &self.rules {
            if rule.any.is_match(&normalised) {
                let entry = scores.entry(rule.intent).or_insert((0.0, false));
                entry.0 += rule.weight;
                entry.1 |= prefer.is_some() && rule.lang == prefer;
            }
        }
        scores
            .into_iter()
            .filter(|(_, (score, _))| *score >= self.threshold)
            .max_by(|(a, (sa, pa)), (b, (sb, pb))| {
                sa.partial_cmp(sb)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| pa.cmp(pb))
                    .then_with(|| b.priority().cmp(&a.priority()))
            })
            .map(|(intent, _)| intent)
            .unwrap_or(Intent::Unknown)
    }
}

/// The language of a rule file from its path (`…/zh-CN/intents.toml`).
fn file_lang(file: &str) -> Option<Lang> {
    file.split(['/', '\\']).find_map(Lang::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preferred_language_breaks_ties() {
        let zh = "[[rule]]\nintent = \"unbind_start\"\npatterns = ['card']\n";
        let en = "[[rule]]\nintent = \"unbind_stuck\"\npatterns = ['card']\n";
        let c =
            Classifier::from_sources(&[("zh-CN/intents.toml", zh), ("en/intents.toml", en)], "")
                .expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(
            c.classify_preferring("card", Some(Lang::ZhCn)),
            Intent::UnbindStart
        );
        assert_eq!(
            c.classify_preferring("card", Some(Lang::En)),
            Intent::UnbindStuck
        );
        assert_eq!(c.classify("card"), c.classify_preferring("card", None));
    }

    const RULES: &str = r#"
threshold = 1.0
[[rule]]
intent = "verification_failed"
weight = 2.0
patterns = ['验证码.{0,4}(错|不对)']
[[rule]]
intent = "unbind_start"
patterns = ['解绑']
[[rule]]
intent = "after_unbind"
weight = 2.0
patterns = ['解绑后']
[[rule]]
intent = "unbind_start"
weight = -1.0
patterns = ['解绑后']
"#;

    #[test]
    fn weights_and_negative_rules_decide() {
        let c = Classifier::from_sources(&[("t", RULES)], "證\t证\n驗\t验\n碼\t码\n對\t对\n")
            .expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(c.classify("我要解绑"), Intent::UnbindStart);
        assert_eq!(c.classify("解绑后怎么办"), Intent::AfterUnbind);
        assert_eq!(c.classify("驗證碼 不對"), Intent::VerificationFailed);
        assert_eq!(c.classify("天气"), Intent::Unknown);
        assert_eq!(c.classify(""), Intent::Unknown);
    }

    #[test]
    fn bad_rules_name_the_problem() {
        let e = Classifier::from_sources(
            &[("f.toml", "[[rule]]\nintent = \"nope\"\npatterns = ['a']\n")],
            "",
        )
        .err()
        .expect("invalid"); // ok: a test; failing loudly is the point
        assert!(e.to_string().contains("nope"));
        let e = Classifier::from_sources(
            &[("f.toml", "[[rule]]\nintent = \"human\"\npatterns = ['(']\n")],
            "",
        )
        .err()
        .expect("invalid"); // ok: a test; failing loudly is the point
        assert!(e.to_string().contains("bad pattern"));
        // Wrapped into the rule's alternation this one would compile.
        let e = Classifier::from_sources(
            &[(
                "f.toml",
                "[[rule]]\nintent = \"human\"\npatterns = ['ok', 'a)|(b']\n",
            )],
            "",
        )
        .err()
        .expect("invalid"); // ok: a test; failing loudly is the point
        assert!(e.to_string().contains("a)|(b"), "{e}");
    }
}
