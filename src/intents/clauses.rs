//! A message that asks two things ("验证码收不到，另外解绑要多久"): its
//! clauses, and the two FAQ topics the rules find in them. Additive: a
//! message's own classification is not changed here; the caller decides
//! what to do with a second topic.
//!
//! Pure, like the rest of `intents`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Classifier, Intent, RULE_MARGIN, WEAK_RULE};
use crate::faq::FaqId;

/// Where a message splits into clauses: sentence and clause punctuation
/// (full-width or not), and words that add a question.
static CLAUSE_BREAK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[。；？！，、,;?!
]|\.(?:\s|$)|另外|還有|还有|顺便问一下|順便問一下|顺便问|順便問|\band also\b|\balso\b|\band\b|\bplus\b|\bbtw\b")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});

/// The clauses of `text`, in order, without the words that joined them;
/// empty ones dropped.
pub fn split_clauses(text: &str) -> Vec<&str> {
    CLAUSE_BREAK
        .split(text)
        .map(str::trim)
        .filter(|clause| clause.chars().any(char::is_alphanumeric))
        .collect()
}

impl Classifier {
    /// Two different FAQ topics asked in one message, in the order asked:
    /// two clauses the rules alone put, each with confidence, on different
    /// topics. A clause the rules put out of scope on its own ("is there a
    /// fee" after "how long does unbinding take") is read with the whole
    /// message's subject: when the rules are confident the whole message
    /// is about another topic, that is the clause's topic. `None` for a
    /// message of one clause or one topic.
    pub fn two_topics(&self, text: &str) -> Option<(FaqId, FaqId)> {
        let clauses = split_clauses(text);
        if clauses.len() < 2 {
            return None;
        }
        let verdicts: Vec<Option<Intent>> = clauses.iter().map(|c| self.rules_verdict(c)).collect();
        let mut topics: Vec<(usize, FaqId)> = Vec::new();
        for (at, verdict) in verdicts.iter().enumerate() {
            if let Some(Intent::Faq(id)) = verdict
                && topics.iter().all(|(_, seen)| seen != id)
            {
                topics.push((at, *id));
            }
        }
        match topics.as_slice() {
            [(_, a), (_, b), ..] => Some((*a, *b)),
            [(at, only)] => {
                let Some(Intent::Faq(whole)) = self.rules_verdict(text) else {
                    return None;
                };
                let outside = verdicts
                    .iter()
                    .position(|v| matches!(v, Some(Intent::Outside(_))))?;
                match (whole == *only, *at < outside) {
                    (true, _) => None,
                    (false, true) => Some((*only, whole)),
                    (false, false) => Some((whole, *only)),
                }
            }
            _ => None,
        }
    }

    /// The intent the rules alone decide for `text` (a score of a specific
    /// rule, clearly ahead of the runner-up), if any; small talk never.
    fn rules_verdict(&self, text: &str) -> Option<Intent> {
        let explanation = self.explain(text);
        let (best, score) = *explanation.scores.first()?;
        let second = explanation.scores.get(1).map_or(0.0, |(_, s)| s.max(0.0));
        let decisive =
            score >= self.threshold && score >= WEAK_RULE && score - second >= RULE_MARGIN;
        match (decisive, best) {
            (true, Intent::Chat(_) | Intent::Unknown) | (false, _) => None,
            (true, intent) => Some(intent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::app::{BUILTIN_PHRASINGS, BUILTIN_RULES, BUILTIN_T2S};

    fn classifier() -> Classifier {
        Classifier::from_sources(
            &BUILTIN_RULES,
            BUILTIN_T2S,
            crate::app::builtin_faq().expect("the built-in catalogue"), // ok: a test
        )
        .and_then(|c| c.with_phrasings("locales/phrasings.tsv", BUILTIN_PHRASINGS))
        .expect("built-in rules load") // ok: a test; failing loudly is the point
    }

    #[test]
    fn messages_split_at_punctuation_and_joining_words() {
        let table: [(&str, &[&str]); 8] = [
            ("验证码收不到", &["验证码收不到"]),
            (
                "验证码收不到，另外解绑要多久",
                &["验证码收不到", "解绑要多久"],
            ),
            (
                "验证码收不到？还有解绑要多久？",
                &["验证码收不到", "解绑要多久"],
            ),
            (
                "how long does unbinding take and is there a fee",
                &["how long does unbinding take", "is there a fee"],
            ),
            (
                "My code never came. Also, how long does it take?",
                &["My code never came", "how long does it take"],
            ),
            ("a; b! c", &["a", "b", "c"]),
            ("M100.200 fee", &["M100.200 fee"]),
            ("？！，", &[]),
        ];
        for (text, clauses) in table {
            assert_eq!(split_clauses(text), clauses, "{text:?}");
        }
    }

    #[test]
    fn two_different_topics_are_found_in_the_order_asked() {
        let c = classifier();
        let name = |pair: Option<(FaqId, FaqId)>| pair.map(|(a, b)| (a.as_str(), b.as_str()));
        let table: [(&str, Option<(&str, &str)>); 7] = [
            (
                "验证码收不到，另外解绑要多久",
                Some(("verification_failed", "unbind_stuck")),
            ),
            (
                "how long does unbinding take and is there a fee",
                Some(("unbind_stuck", "unbind_cost")),
            ),
            // One clause, or one topic twice, or a clause with no topic: none.
            ("验证码收不到", None),
            ("验证码收不到怎么办", None),
            ("验证码收不到，怎么办", None),
            ("验证码收不到，验证码输错了", None),
            ("你好，解绑要多久", None),
        ];
        for (text, want) in table {
            assert_eq!(name(c.two_topics(text)), want, "{text:?}");
        }
    }
}
