//! Intent classification: a normaliser and a weighted regex rule matcher.
//! The rules and the traditional-to-simplified table are data in locales/
//! (`intents.toml`, `t2s.tsv`), so support staff extend them without touching
//! code.
//!
//! Pure; loading the data from text is the caller's business.

mod clauses;
mod model;
mod normalise;

pub use clauses::split_clauses;
pub use model::{Model, Opinion};
pub use normalise::Normaliser;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use regex::Regex;
use serde::Deserialize;

use crate::domain::Lang;
use crate::faq::{Catalogue, FaqId};

/// What a merchant's free text is about: the few intents with behaviour of
/// their own, and the FAQ topics of the catalogue (`locales/faq.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Hello.
    Greeting,
    /// Wants to unbind.
    UnbindStart,
    /// Where is my request.
    ProgressQuery,
    /// Wants a person.
    Human,
    /// Out of scope.
    Unknown,
    /// A topic of the FAQ catalogue, answered from data.
    Faq(FaqId),
    /// Small talk: thanks, OK, goodbye, "are you a bot", abuse. Answered
    /// briefly; never counts as "not understood". Out of scope for
    /// `posdesk classify` (its contract id is `unknown`).
    Chat(ChitChat),
    /// A POS question this bot does not handle (terminals, fees, settlement
    /// timing…): the bot names the topic and offers a person. Out of scope
    /// for `posdesk classify` (`unknown`).
    Outside(Outside),
}

/// POS topics out of this bot's scope, each answered by naming it and
/// offering a ticket with it as the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outside {
    /// Unbinding, moving or handing over a terminal (机具解绑, 移机).
    Terminal,
    /// When settlement money arrives (T+1, D0, holidays).
    SettlementTiming,
    /// Fees and rates.
    Fees,
    /// Deposits for a terminal.
    Deposit,
    /// A terminal that does not work.
    TerminalFault,
    /// Licence, legal person, shop name or address changes.
    Licence,
    /// Closing the merchant account.
    CloseAccount,
    /// Refunds and reversed transactions.
    Refund,
    /// Invoices.
    Invoice,
    /// A personal bank card frozen by its bank.
    PersonalCard,
}

impl Outside {
    /// Every topic.
    pub const ALL: [Outside; 10] = [
        Outside::Terminal,
        Outside::SettlementTiming,
        Outside::Fees,
        Outside::Deposit,
        Outside::TerminalFault,
        Outside::Licence,
        Outside::CloseAccount,
        Outside::Refund,
        Outside::Invoice,
        Outside::PersonalCard,
    ];

    /// Its name in rule files, callback data and ticket reasons
    /// (`outside.terminal`).
    pub fn name(self) -> &'static str {
        match self {
            Outside::Terminal => "outside.terminal",
            Outside::SettlementTiming => "outside.settlement_timing",
            Outside::Fees => "outside.fees",
            Outside::Deposit => "outside.deposit",
            Outside::TerminalFault => "outside.terminal_fault",
            Outside::Licence => "outside.licence",
            Outside::CloseAccount => "outside.close_account",
            Outside::Refund => "outside.refund",
            Outside::Invoice => "outside.invoice",
            Outside::PersonalCard => "outside.personal_card",
        }
    }

    /// The message naming the topic (`topic-terminal`, …).
    pub fn label(self) -> &'static str {
        match self {
            Outside::Terminal => "topic-terminal",
            Outside::SettlementTiming => "topic-settlement-timing",
            Outside::Fees => "topic-fees",
            Outside::Deposit => "topic-deposit",
            Outside::TerminalFault => "topic-terminal-fault",
            Outside::Licence => "topic-licence",
            Outside::CloseAccount => "topic-close-account",
            Outside::Refund => "topic-refund",
            Outside::Invoice => "topic-invoice",
            Outside::PersonalCard => "topic-personal-card",
        }
    }

    /// Parses a name.
    pub fn parse(name: &str) -> Option<Outside> {
        Outside::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The kinds of small talk the bot answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChitChat {
    /// 谢谢, thanks.
    Thanks,
    /// 好的, 嗯, OK, 收到.
    Ack,
    /// 再见, bye.
    Goodbye,
    /// "Are you a robot?"
    Bot,
    /// Insults.
    Abuse,
}

impl ChitChat {
    /// Every kind.
    pub const ALL: [ChitChat; 5] = [
        ChitChat::Thanks,
        ChitChat::Ack,
        ChitChat::Goodbye,
        ChitChat::Bot,
        ChitChat::Abuse,
    ];

    /// Its name in rule files and `classify --explain` (`chit_chat.thanks`).
    pub fn name(self) -> &'static str {
        match self {
            ChitChat::Thanks => "chit_chat.thanks",
            ChitChat::Ack => "chit_chat.ack",
            ChitChat::Goodbye => "chit_chat.goodbye",
            ChitChat::Bot => "chit_chat.bot",
            ChitChat::Abuse => "chit_chat.abuse",
        }
    }
}

impl Intent {
    /// Every intent but the FAQ topics, in tie-break priority order; the
    /// catalogue's topics come between `Human` and `ProgressQuery`.
    pub const BEHAVIOUR: [Intent; 20] = [
        Intent::Human,
        Intent::ProgressQuery,
        Intent::UnbindStart,
        Intent::Outside(Outside::Terminal),
        Intent::Outside(Outside::SettlementTiming),
        Intent::Outside(Outside::Fees),
        Intent::Outside(Outside::Deposit),
        Intent::Outside(Outside::TerminalFault),
        Intent::Outside(Outside::Licence),
        Intent::Outside(Outside::CloseAccount),
        Intent::Outside(Outside::Refund),
        Intent::Outside(Outside::Invoice),
        Intent::Outside(Outside::PersonalCard),
        Intent::Greeting,
        Intent::Chat(ChitChat::Abuse),
        Intent::Chat(ChitChat::Bot),
        Intent::Chat(ChitChat::Thanks),
        Intent::Chat(ChitChat::Goodbye),
        Intent::Chat(ChitChat::Ack),
        Intent::Unknown,
    ];

    /// Every intent of a catalogue: the FAQ topics after `Human`, in the
    /// catalogue's order, then the rest of [`Intent::BEHAVIOUR`].
    pub fn all(faq: &Catalogue) -> Vec<Intent> {
        let mut all = vec![Intent::Human];
        all.extend(faq.topics().iter().map(|t| Intent::Faq(t.id)));
        all.extend(Intent::BEHAVIOUR.into_iter().skip(1));
        all
    }

    /// The contract id (`verification_failed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Greeting => "greeting",
            Intent::UnbindStart => "unbind_start",
            Intent::Faq(id) => id.as_str(),
            Intent::ProgressQuery => "progress_query",
            Intent::Human => "human",
            Intent::Unknown | Intent::Chat(_) | Intent::Outside(_) => "unknown",
        }
    }

    /// Its name in rule files and `classify --explain`: the contract id,
    /// or `chit_chat.<kind>` for small talk.
    pub fn name(self) -> &'static str {
        match self {
            Intent::Chat(kind) => kind.name(),
            Intent::Outside(topic) => topic.name(),
            other => other.as_str(),
        }
    }

    /// Parses an intent id or a rule-file name (`chit_chat.thanks`); an
    /// FAQ id parses if some catalogue of this process has it (check it
    /// against the live catalogue before acting on it).
    pub fn parse(id: &str) -> Option<Intent> {
        Intent::BEHAVIOUR
            .into_iter()
            .find(|i| i.name() == id)
            .or_else(|| FaqId::known(id).map(Intent::Faq))
    }

    /// Parses an id of this catalogue or an intent with behaviour.
    pub fn parse_in(id: &str, faq: &Catalogue) -> Option<Intent> {
        match faq.find(id) {
            Some(topic) => Some(Intent::Faq(topic.id)),
            None => Intent::BEHAVIOUR.into_iter().find(|i| i.name() == id),
        }
    }

    /// Whether the intent has an answer in the FAQ catalogue.
    pub fn is_faq(self) -> bool {
        matches!(self, Intent::Faq(_))
    }

    /// The id `posdesk classify` prints: the contract id, or for a narrower
    /// FAQ topic the broader id it reports as.
    pub fn reported_id(self, faq: &Catalogue) -> &'static str {
        match self {
            Intent::Faq(id) => faq.reported_id(id),
            other => other.as_str(),
        }
    }

    /// Anything but greeting, small talk and unknown.
    pub fn is_in_scope(self) -> bool {
        !matches!(
            self,
            Intent::Unknown | Intent::Greeting | Intent::Chat(_) | Intent::Outside(_)
        )
    }

    /// Its place in the tie-break order under a catalogue.
    fn priority(self, faq: &Catalogue) -> usize {
        match self {
            Intent::Human => 0,
            Intent::Faq(id) => 1 + faq.position(id).unwrap_or(usize::MAX / 2),
            other => {
                1 + faq.topics().len()
                    + Intent::BEHAVIOUR
                        .iter()
                        .position(|i| *i == other)
                        .unwrap_or(usize::MAX / 2)
            }
        }
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
    /// A labelled phrasing is malformed or names an unknown intent.
    #[error("{file}: line {line}: {message}")]
    Phrasing {
        /// Which file.
        file: String,
        /// Line number (from 1).
        line: usize,
        /// What is wrong.
        message: String,
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
    /// Where it comes from: `file#number`.
    source: String,
    /// Matches where any of the rule's patterns matches.
    any: Regex,
}

/// Classifies utterances with the rules of every language, and a
/// statistical model for what no rule is sure about.
pub struct Classifier {
    normaliser: Normaliser,
    rules: Vec<Rule>,
    threshold: f64,
    /// The statistical model: trained on a thread of its own, so start-up
    /// does not wait for it; the first reading that needs it does. `None`
    /// inside: training failed, the rules decide alone.
    model: Option<Arc<OnceLock<Option<Model>>>>,
    /// The FAQ catalogue the rules name topics of.
    faq: Catalogue,
}

/// Rules this far ahead of the runner-up decide alone.
const RULE_MARGIN: f64 = 0.5;
/// The model decides alone from this probability up.
const MODEL_SURE: f64 = 0.6;
/// The model's guess counts when no rule matched, from this probability up.
const MODEL_GUESS: f64 = 0.5;
/// Two in-scope intents this close (in probability) get a clarifying question.
const CLARIFY_GAP: f64 = 0.25;
/// ...when together they are at least this likely.
const CLARIFY_MASS: f64 = 0.55;
/// Where no rule matched and the model is not sure, a second meaning at
/// least this likely is asked about too.
const CLARIFY_SECOND: f64 = 0.15;
/// A rule score from which a model saying "out of scope" does not overrule it.
const STRONG_RULE: f64 = 2.5;
/// A rule score below this is only the weak "about unbinding" default.
const WEAK_RULE: f64 = 2.0;
/// The model overrules the weak default when this far ahead of it.
const WEAK_RULE_OVERRULED: f64 = 0.3;

impl Classifier {
    /// Builds a classifier from rule files `(name, toml text)` and a t2s table.
    pub fn from_sources(
        rule_files: &[(&str, &str)],
        t2s_tsv: &str,
        faq: Catalogue,
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
                let intent = Intent::parse_in(&raw.intent, &faq)
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
                    source: format!("{file}#{}", i + 1),
                    any,
                });
            }
        }
        Ok(Classifier {
            normaliser: Normaliser::from_tsv(t2s_tsv),
            rules,
            threshold,
            model: None,
            faq,
        })
    }

    /// Trains the statistical second opinion on labelled phrasings
    /// (`lang<TAB>intent<TAB>text` lines; `#` comments), on a thread of
    /// its own.
    pub fn with_phrasings(self, file: &str, tsv: &str) -> Result<Classifier, RulesError> {
        let training = Training::start(&self.normaliser, &self.faq, file, tsv)?;
        Ok(self.with_training(training))
    }

    /// The model of a training already started.
    pub fn with_training(mut self, training: Training) -> Classifier {
        self.model = Some(training.0);
        self
    }

    /// Blocks until the model's training (started by
    /// [`Classifier::with_phrasings`]) is over; at once without a model.
    pub fn wait_trained(&self) {
        if let Some(slot) = &self.model {
            slot.wait();
        }
    }

    /// The normaliser in use.
    pub fn normaliser(&self) -> &Normaliser {
        &self.normaliser
    }

    /// The FAQ catalogue.
    pub fn faq(&self) -> &Catalogue {
        &self.faq
    }

    /// The languages with at least one rule for `intent` (by the folder
    /// names of the rule files).
    pub fn rule_languages(&self, intent: Intent) -> Vec<String> {
        let mut langs: Vec<String> = self
            .rules
            .iter()
            .filter(|r| r.intent == intent && r.weight > 0.0)
            .filter_map(|r| r.lang.map(|l| l.as_str().to_string()))
            .collect();
        langs.sort();
        langs.dedup();
        langs
    }

    /// Number of rules loaded.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The intent of one utterance.
    pub fn classify(&self, text: &str) -> Intent {
        self.explain_preferring(text, None).intent
    }

    /// The intent of one utterance; rules of every language apply, and
    /// where two intents score the same, the one matched by a rule of
    /// `prefer` wins (`posdesk classify --lang`).
    pub fn classify_preferring(&self, text: &str, prefer: Option<Lang>) -> Intent {
        self.explain_preferring(text, prefer).intent
    }

    /// The intent of one utterance with the reasons: every intent's score,
    /// best first, and the rules that matched.
    pub fn explain(&self, text: &str) -> Explanation {
        self.explain_preferring(text, None)
    }

    /// [`Classifier::explain`], ties going to rules of `prefer`.
    pub fn explain_preferring(&self, text: &str, prefer: Option<Lang>) -> Explanation {
        let normalised = self.normaliser.normalise(text);
        let mut explanation = Explanation {
            intent: Intent::Unknown,
            scores: Vec::new(),
            matched: Vec::new(),
            model: None,
            clarify: None,
        };
        if normalised.is_empty() {
            return explanation;
        }
        let mut scores: HashMap<Intent, (f64, bool)> = HashMap::new();
        for rule in &self.rules {
            if rule.any.is_match(&normalised) {
                let entry = scores.entry(rule.intent).or_insert((0.0, false));
                entry.0 += rule.weight;
                entry.1 |= prefer.is_some() && rule.lang == prefer;
                explanation.matched.push((rule.intent, rule.source.clone()));
            }
        }
        let mut ranked: Vec<(Intent, (f64, bool))> = scores.into_iter().collect();
        ranked.sort_by(|(a, (sa, pa)), (b, (sb, pb))| {
            sb.partial_cmp(sa)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| pb.cmp(pa))
                .then_with(|| a.priority(&self.faq).cmp(&b.priority(&self.faq)))
        });
        let ranked: Vec<(Intent, f64)> = ranked.into_iter().map(|(i, (s, _))| (i, s)).collect();
        let rules_best = ranked
            .first()
            .copied()
            .filter(|(_, s)| *s >= self.threshold);
        let rules_second = ranked.get(1).map_or(0.0, |(_, s)| s.max(0.0));
        // The out-of-scope topic the rules name, even behind an in-scope one.
        let rules_outside = ranked
            .iter()
            .find(|(i, s)| matches!(i, Intent::Outside(_)) && *s >= self.threshold)
            .map(|(i, _)| *i);
        explanation.scores = ranked;
        // Small talk is the rules' alone; everything else is read by the
        // model too, which knows which rules matched.
        let opinion = match rules_best {
            Some((Intent::Chat(_), _)) => None,
            _ => self
                .model
                .as_ref()
                .and_then(|slot| slot.wait().as_ref())
                .map(|m| m.opinion(&model_features(&normalised))),
        };
        let (intent, clarify) = decide(rules_best, rules_second, rules_outside, opinion.as_ref());
        explanation.intent = intent;
        explanation.clarify = clarify;
        explanation.model = opinion;
        explanation
    }
}

/// "不是A，是B" / "not A but B": what a merchant says they do not mean, in
/// a normalised text (punctuation gone, Chinese joined up).
static NEGATED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(^|[^是])不是[^是]{1,12}?(?:而是|我是说|我是问|我是|就是|是)|\bnot (?:the |my |a |about )?[a-z0-9]+(?: [a-z0-9]+){0,3}? (?:but|i mean|it s|its|rather)\b",
    )
    .ok()
});

/// The text without the part a merchant says they do not mean: the model
/// reads what they ask, not the loudest word (the rules see everything and
/// have their own patterns for such negations).
fn without_negated(normalised: &str) -> std::borrow::Cow<'_, str> {
    match NEGATED.as_ref() {
        Some(negated) => negated.replace_all(normalised, "$1"),
        None => std::borrow::Cow::Borrowed(normalised),
    }
}

/// What the model reads of a text: its words and sounds, without what the
/// merchant says they do not mean.
fn model_features(normalised: &str) -> Vec<u64> {
    model::features(&without_negated(normalised))
}

/// A model being trained on a thread of its own from labelled phrasings,
/// checked before it starts: start it first, compile the rules meanwhile.
pub struct Training(Arc<OnceLock<Option<Model>>>);

impl Training {
    /// Checks the phrasings (`lang<TAB>intent<TAB>text` lines, `#`
    /// comments) and starts training on them.
    pub fn start(
        normaliser: &Normaliser,
        faq: &Catalogue,
        file: &str,
        tsv: &str,
    ) -> Result<Training, RulesError> {
        let mut examples = Vec::new();
        for (n, line) in tsv.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |message: String| RulesError::Phrasing {
                file: file.to_string(),
                line: n + 1,
                message,
            };
            let mut parts = line.splitn(3, '\t');
            let (Some(_lang), Some(intent), Some(text)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("expected lang<TAB>intent<TAB>text".into()));
            };
            let intent = Intent::parse_in(intent.trim(), faq)
                .ok_or_else(|| bad(format!("unknown intent {intent:?}")))?;
            examples.push((normaliser.normalise(text), intent));
        }
        if examples.is_empty() {
            return Err(RulesError::Phrasing {
                file: file.to_string(),
                line: 0,
                message: "no phrasings".into(),
            });
        }
        let slot = Arc::new(OnceLock::new());
        let filled = Arc::clone(&slot);
        let train = move || {
            let started = std::time::Instant::now();
            let trained = std::panic::catch_unwind(move || {
                let featured: Vec<(Vec<u64>, Intent)> = examples
                    .into_iter()
                    .map(|(text, intent)| (model_features(&text), intent))
                    .collect();
                Model::train(featured)
            });
            match &trained {
                Ok(model) => tracing::info!(
                    features = model.feature_count(),
                    ms = started.elapsed().as_millis() as u64,
                    "the intent model is trained"
                ),
                Err(_) => {
                    tracing::error!("training the intent model failed; the rules decide alone")
                }
            }
            let _ = filled.set(trained.ok());
        };
        std::thread::Builder::new()
            .name("posdesk-model".into())
            .spawn(train)
            .map_err(|e| RulesError::Phrasing {
                file: file.to_string(),
                line: 0,
                message: format!("cannot start training the model: {e}"),
            })?;
        Ok(Training(slot))
    }
}

/// Whether a clarifying question may offer this intent (it has an answer
/// or a flow of its own).
fn answerable(intent: Intent) -> bool {
    intent.is_in_scope() && intent != Intent::Human
}

/// Rules first; the model where no rule is sure; a question where the two
/// best are close.
fn decide(
    rules_best: Option<(Intent, f64)>,
    rules_second: f64,
    rules_outside: Option<Intent>,
    opinion: Option<&Opinion>,
) -> (Intent, Option<(Intent, Intent)>) {
    let model_best = opinion.and_then(Opinion::best);
    let model_second = opinion.and_then(Opinion::second);
    let close_pair = match (model_best, model_second) {
        (Some((m1, p1)), Some((m2, p2)))
            if answerable(m1)
                && answerable(m2)
                && p1 - p2 < CLARIFY_GAP
                && p1 + p2 >= CLARIFY_MASS =>
        {
            Some((m1, m2))
        }
        _ => None,
    };
    if let Some((intent, _)) = rules_best
        && matches!(intent, Intent::Chat(_))
    {
        return (intent, None);
    }
    // A topic the model never learned (no phrasings for it yet) is the
    // rules' to decide: the model cannot speak for it.
    if let Some((intent, score)) = rules_best
        && intent.is_in_scope()
        && score >= WEAK_RULE
        && score - rules_second >= RULE_MARGIN
        && opinion.is_some_and(|o| !o.knows(intent))
    {
        return (intent, None);
    }
    // A strong rule for an answerable topic, well ahead of the others,
    // is not overruled by a model that only knows "out of scope" (a word
    // it never saw in a phrasing: "operator", "到帐卡注销了") unless the
    // rules too name a topic out of scope.
    if let Some((intent, score)) = rules_best
        && intent.is_in_scope()
        && score >= STRONG_RULE
        && score - rules_second >= RULE_MARGIN
        && rules_outside.is_none()
        && model_best.is_some_and(|(m, p)| m == Intent::Unknown && p >= MODEL_SURE)
    {
        return (intent, None);
    }
    // The model decides when it is sure.
    if let Some((m1, p1)) = model_best
        && p1 >= MODEL_SURE
    {
        return match (m1, rules_best, rules_outside) {
            // Out of scope: the rules name which topic, if they know it
            // (also behind an in-scope rule the model overruled).
            (Intent::Unknown, Some((r, _)), _) if !r.is_in_scope() => (r, None),
            (Intent::Unknown, _, Some(outside)) => (outside, None),
            _ => (m1, None),
        };
    }
    if let Some((intent, score)) = rules_best {
        // Only the weak default (about unbinding, nothing specific) while
        // the model means another answerable topic: a little ahead, ask
        // (the rules' meaning first); clearly ahead ("我的卡丢了"), the
        // model's.
        if score < WEAK_RULE
            && let Some((m, pm)) = model_best
            && m != intent
            && answerable(m)
            && let Some(p_rule) = opinion.map(|o| o.probability(intent))
        {
            if pm - p_rule < CLARIFY_GAP && pm + p_rule >= CLARIFY_MASS {
                return (intent, Some((intent, m)));
            }
            if pm >= MODEL_GUESS && pm - p_rule >= WEAK_RULE_OVERRULED {
                return (m, None);
            }
        }
        if score - rules_second >= RULE_MARGIN {
            return (intent, None);
        }
        // A close call between rules: the model breaks the tie if it backs
        // one of them, else keep the rules' order.
        return match model_best {
            Some((m, _)) if m == intent => (intent, None),
            Some((m, p)) if p >= MODEL_GUESS && m != Intent::Unknown => (m, None),
            _ => (intent, None),
        };
    }
    let Some((m1, p1)) = model_best else {
        return (Intent::Unknown, None);
    };
    if let Some((a, b)) = close_pair {
        return (a, Some((a, b)));
    }
    // No rule, and the model only guesses while a second meaning is real:
    // ask rather than answer the guess ("卡" alone).
    if (MODEL_GUESS..MODEL_SURE).contains(&p1)
        && answerable(m1)
        && let Some((m2, p2)) = model_second
        && answerable(m2)
        && p2 >= CLARIFY_SECOND
    {
        return (m1, Some((m1, m2)));
    }
    if p1 >= MODEL_SURE || (p1 >= MODEL_GUESS && m1 != Intent::Greeting) {
        return (m1, None);
    }
    (Intent::Unknown, None)
}

/// Why an utterance got its intent (`posdesk classify --explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The verdict.
    pub intent: Intent,
    /// Every intent some rule matched, with its score, best first.
    pub scores: Vec<(Intent, f64)>,
    /// The rules that matched: their intent and `file#number`.
    pub matched: Vec<(Intent, String)>,
    /// The statistical model's view, when one is trained.
    pub model: Option<Opinion>,
    /// Two intents close enough to ask which one is meant.
    pub clarify: Option<(Intent, Intent)>,
}

impl Explanation {
    /// One line of detail: the intent's rule-file name, its score and
    /// rules, and the runner-up.
    pub fn detail(&self) -> String {
        let score = |intent: Intent| {
            self.scores
                .iter()
                .find(|(i, _)| *i == intent)
                .map_or(0.0, |(_, s)| *s)
        };
        let rules: Vec<&str> = self
            .matched
            .iter()
            .filter(|(i, _)| *i == self.intent)
            .map(|(_, source)| source.as_str())
            .collect();
        let runner_up = self
            .scores
            .iter()
            .find(|(i, _)| *i != self.intent)
            .map(|(i, s)| format!("{} {s:.2}", i.name()))
            .unwrap_or_else(|| "none".into());
        let model = match self.model.as_ref().map(|o| (o.best(), o.second())) {
            Some((Some((a, pa)), Some((b, pb)))) => {
                format!(" model={} {pa:.2} / {} {pb:.2}", a.name(), b.name())
            }
            _ => String::new(),
        };
        let clarify = match self.clarify {
            Some((a, b)) => format!(" clarify={}|{}", a.name(), b.name()),
            None => String::new(),
        };
        format!(
            "{} score={:.2} rules=[{}] runner_up={runner_up}{model}{clarify}",
            self.intent.name(),
            score(self.intent),
            rules.join(" "),
        )
    }
}

/// The language of a rule file from its path (`…/zh-CN/intents.toml`).
fn file_lang(file: &str) -> Option<Lang> {
    file.split(['/', '\\']).find_map(Lang::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faq() -> Catalogue {
        Catalogue::parse(
            "faq.toml",
            "[[topic]]\nid = \"verification_failed\"\nmenu = 1\n[[topic]]\nid = \"unbind_stuck\"\n[[topic]]\nid = \"after_unbind\"\n",
        )
        .expect("valid") // ok: a test; failing loudly is the point
    }

    fn topic(id: &str) -> Intent {
        Intent::parse_in(id, &faq()).expect("a topic") // ok: a test
    }

    #[test]
    fn a_preferred_language_breaks_ties() {
        let zh = "[[rule]]\nintent = \"unbind_start\"\npatterns = ['card']\n";
        let en = "[[rule]]\nintent = \"unbind_stuck\"\npatterns = ['card']\n";
        let c = Classifier::from_sources(
            &[("zh-CN/intents.toml", zh), ("en/intents.toml", en)],
            "",
            faq(),
        )
        .expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(
            c.classify_preferring("card", Some(Lang::ZhCn)),
            Intent::UnbindStart
        );
        assert_eq!(
            c.classify_preferring("card", Some(Lang::En)),
            topic("unbind_stuck")
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
        let c =
            Classifier::from_sources(&[("t", RULES)], "證\t证\n驗\t验\n碼\t码\n對\t对\n", faq())
                .expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(c.classify("我要解绑"), Intent::UnbindStart);
        assert_eq!(c.classify("解绑后怎么办"), topic("after_unbind"));
        assert_eq!(c.classify("驗證碼 不對"), topic("verification_failed"));
        assert_eq!(c.classify("天气"), Intent::Unknown);
        assert_eq!(c.classify(""), Intent::Unknown);
    }

    #[test]
    fn bad_rules_name_the_problem() {
        let e = Classifier::from_sources(
            &[("f.toml", "[[rule]]\nintent = \"nope\"\npatterns = ['a']\n")],
            "",
            faq(),
        )
        .err()
        .expect("invalid"); // ok: a test; failing loudly is the point
        assert!(e.to_string().contains("nope"));
        let e = Classifier::from_sources(
            &[("f.toml", "[[rule]]\nintent = \"human\"\npatterns = ['(']\n")],
            "",
            faq(),
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
            faq(),
        )
        .err()
        .expect("invalid"); // ok: a test; failing loudly is the point
        assert!(e.to_string().contains("a)|(b"), "{e}");
    }
}
