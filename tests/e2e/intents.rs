//! Intent accuracy on the labelled set in tests/data/intents.tsv.

use std::collections::BTreeMap;

use posdesk::config::Settings;
use posdesk::intents::Intent;

#[test]
fn labelled_set_accuracy_is_at_least_95_percent() {
    let settings = Settings::default();
    let classifier = posdesk::app::load_classifier(&settings).expect("built-in rules load");
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/intents.tsv"
    ))
    .expect("labelled set");
    let mut total = 0usize;
    let mut right = 0usize;
    let mut in_scope = 0usize;
    let mut in_scope_unknown = 0usize;
    let mut confusions: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut per_lang: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for line in data
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.splitn(3, '\t');
        let (Some(lang), Some(expected), Some(text)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("malformed line: {line:?}");
        };
        let expected_intent =
            Intent::parse(expected).unwrap_or_else(|| panic!("unknown intent {expected:?}"));
        let got = classifier.classify(text);
        total += 1;
        let entry = per_lang.entry(lang.to_string()).or_default();
        entry.0 += 1;
        // Small talk is out of scope for the contract (`unknown`).
        if got.as_str() == expected_intent.as_str() {
            right += 1;
            entry.1 += 1;
        } else {
            confusions
                .entry((expected.to_string(), got.as_str().to_string()))
                .or_default()
                .push(text.to_string());
        }
        if expected_intent != Intent::Unknown {
            in_scope += 1;
            if got.as_str() == "unknown" {
                in_scope_unknown += 1;
            }
        }
    }
    let accuracy = right as f64 / total as f64;
    let unknown_rate = in_scope_unknown as f64 / in_scope as f64;
    let report: Vec<String> = confusions
        .iter()
        .map(|((e, g), texts)| format!("{e} -> {g}: {}", texts.join(" | ")))
        .collect();
    eprintln!(
        "intent accuracy {right}/{total} = {:.1}%, in-scope as unknown {:.1}%, per language {per_lang:?}\n{}",
        accuracy * 100.0,
        unknown_rate * 100.0,
        report.join("\n")
    );
    assert!(total >= 200, "labelled set has {total} lines");
    assert!(accuracy >= 0.95, "accuracy {:.1}%", accuracy * 100.0);
    assert!(
        unknown_rate <= 0.05,
        "in-scope classified unknown {:.1}%",
        unknown_rate * 100.0
    );
}

#[test]
fn every_intent_is_in_the_labelled_set() {
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/intents.tsv"
    ))
    .expect("labelled set");
    for intent in Intent::ALL
        .into_iter()
        .filter(|i| !matches!(i, Intent::Chat(_)))
    {
        let n = data
            .lines()
            .filter(|l| l.split('\t').nth(1) == Some(intent.as_str()))
            .count();
        assert!(n >= 10, "{} has {n} examples", intent.as_str());
    }
}
