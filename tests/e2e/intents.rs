//! Intent accuracy on the tuning set (locales/phrasings.tsv, which the
//! statistical model also learns from) and on the held-aside set
//! (tests/data/heldout-4.tsv, written apart from the rules and never tuned
//! on). Each reports in-scope and out-of-scope accuracy separately.

use std::collections::BTreeMap;

use posdesk::config::Settings;
use posdesk::intents::{Classifier, Intent};

/// Accuracy of one labelled set.
struct Measured {
    in_scope: (usize, usize),
    out_of_scope: (usize, usize),
    confusions: BTreeMap<(String, String), Vec<String>>,
}

impl Measured {
    fn rate((right, total): (usize, usize)) -> f64 {
        right as f64 / total.max(1) as f64
    }

    fn report(&self, name: &str) -> String {
        let lines: Vec<String> = self
            .confusions
            .iter()
            .map(|((e, g), texts)| format!("  {e} -> {g}: {}", texts.join(" | ")))
            .collect();
        format!(
            "{name}: in scope {}/{} = {:.1}%, out of scope {}/{} = {:.1}%\n{}",
            self.in_scope.0,
            self.in_scope.1,
            Measured::rate(self.in_scope) * 100.0,
            self.out_of_scope.0,
            self.out_of_scope.1,
            Measured::rate(self.out_of_scope) * 100.0,
            lines.join("\n")
        )
    }
}

fn classifier() -> Classifier {
    posdesk::app::load_classifier(&Settings::default()).expect("built-in rules and phrasings load")
}

fn measure(classifier: &Classifier, path: &str) -> Measured {
    let data = std::fs::read_to_string(path).expect("labelled set");
    let mut measured = Measured {
        in_scope: (0, 0),
        out_of_scope: (0, 0),
        confusions: BTreeMap::new(),
    };
    for line in data
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.splitn(3, '\t');
        let (Some(_lang), Some(expected), Some(text)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("malformed line: {line:?}");
        };
        let expected = expected.trim();
        let faq = classifier.faq();
        // A narrower FAQ topic is measured as the contract id it reports as.
        let expected = Intent::parse_in(expected, faq)
            .unwrap_or_else(|| panic!("unknown intent {expected:?}"))
            .reported_id(faq);
        // Small talk is out of scope for the contract (`unknown`).
        let got = classifier.classify(text).reported_id(faq);
        let bucket = match expected {
            "unknown" => &mut measured.out_of_scope,
            _ => &mut measured.in_scope,
        };
        bucket.1 += 1;
        if got == expected {
            bucket.0 += 1;
        } else {
            measured
                .confusions
                .entry((expected.to_string(), got.to_string()))
                .or_default()
                .push(text.to_string());
        }
    }
    measured
}

#[test]
fn tuning_set_accuracy_is_at_least_97_percent_in_scope_and_95_out_of_scope() {
    let measured = measure(
        &classifier(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/locales/phrasings.tsv"),
    );
    eprintln!("{}", measured.report("tuning set (locales/phrasings.tsv)"));
    assert!(measured.in_scope.1 + measured.out_of_scope.1 >= 200);
    assert!(Measured::rate(measured.in_scope) >= 0.97);
    assert!(Measured::rate(measured.out_of_scope) >= 0.95);
}

/// The held-aside set: written by another hand from knowledge.md and the
/// intent ids only, never looked at while tuning, measured once after the
/// last change (docs/intents.md). The three sets before it were spent on
/// tuning and are now part of the tuning set.
#[test]
fn held_aside_set_accuracy() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/heldout-4.tsv");
    let measured = measure(&classifier(), path);
    eprintln!(
        "{}",
        measured.report("held-aside set (tests/data/heldout-4.tsv)")
    );
    // For comparison: the rules alone, without the model.
    let rules_only = Classifier::from_sources(
        &posdesk::app::BUILTIN_RULES,
        posdesk::app::BUILTIN_T2S,
        posdesk::app::builtin_faq().expect("catalogue"),
    )
    .expect("rules");
    let alone = measure(&rules_only, path);
    eprintln!(
        "held-aside set, rules alone: in scope {:.1}%, out of scope {:.1}%",
        Measured::rate(alone.in_scope) * 100.0,
        Measured::rate(alone.out_of_scope) * 100.0
    );
    assert!(measured.in_scope.1 + measured.out_of_scope.1 >= 300);
    // The floors this classifier reaches today (docs/intents.md has the
    // numbers and the targets); a change that loses ground fails here.
    assert!(Measured::rate(measured.in_scope) >= HELD_IN_SCOPE_FLOOR);
    assert!(Measured::rate(measured.out_of_scope) >= HELD_OUT_OF_SCOPE_FLOOR);
}

const HELD_IN_SCOPE_FLOOR: f64 = 0.93;
const HELD_OUT_OF_SCOPE_FLOOR: f64 = 0.96;

#[test]
fn every_intent_is_in_the_labelled_set() {
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/locales/phrasings.tsv"
    ))
    .expect("labelled set");
    for intent in Intent::all(classifier().faq())
        .into_iter()
        .filter(|i| !matches!(i, Intent::Chat(_) | Intent::Outside(_)))
    {
        let n = data
            .lines()
            .filter(|l| l.split('\t').nth(1) == Some(intent.name()))
            .count();
        assert!(n >= 10, "{} has {n} examples", intent.name());
    }
}
