//! Property tests: no panic on any input; redaction never lets a valid card
//! number through.

use posdesk::conversation::CallbackData;
use posdesk::domain::{MaskedCard, MerchantId, OtpCode, Phone, Reference};
use posdesk::redact::{luhn_valid, redact};
use proptest::prelude::*;
use regex::Regex;

fn classifier() -> &'static posdesk::intents::Classifier {
    static C: std::sync::OnceLock<posdesk::intents::Classifier> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        posdesk::app::load_classifier(&posdesk::config::Settings::default()).expect("rules")
    })
}

/// A Luhn-valid card number of 13 to 19 digits, first digit 1-9.
fn card_number() -> impl Strategy<Value = String> {
    (
        12usize..=18,
        1u8..=9,
        proptest::collection::vec(0u8..=9, 18),
    )
        .prop_map(|(body_len, first, rest)| {
            let mut digits = vec![first];
            digits.extend_from_slice(&rest[..body_len - 1]);
            for check in 0..=9 {
                let mut candidate = digits.clone();
                candidate.push(check);
                if luhn_valid(&candidate) {
                    return candidate.iter().map(|d| char::from(b'0' + d)).collect();
                }
            }
            unreachable!("one check digit always works")
        })
}

fn separated(card: &str, sep: &str) -> String {
    card.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn normaliser_and_classifier_never_panic_and_normalising_is_idempotent(text in "\\PC{0,200}") {
        let c = classifier();
        let once = c.normaliser().normalise(&text);
        prop_assert_eq!(c.normaliser().normalise(&once), once.clone());
        let _ = c.classify(&text);
    }

    #[test]
    fn callback_data_never_panics_and_round_trips(data in "\\PC{0,100}") {
        let parsed = CallbackData::parse(&data);
        let wire = parsed.to_data();
        prop_assert!(wire.len() <= 64 || matches!(parsed, CallbackData::Invalid(_)));
        if !matches!(parsed, CallbackData::Invalid(_)) {
            prop_assert_eq!(CallbackData::parse(&wire), parsed);
        }
    }

    #[test]
    fn domain_parsers_never_panic(text in "\\PC{0,60}") {
        let pattern = Regex::new("^[A-Z0-9]{6,20}$").expect("regex");
        let _ = MerchantId::parse(&text, &pattern);
        let _ = OtpCode::parse(&text, 6);
        let _ = Reference::parse(&text);
        let _ = MaskedCard::parse(&text);
        let _ = Phone::parse(&text);
    }

    #[test]
    fn csv_rows_never_panic(fields in proptest::collection::vec("\\PC{0,30}", 0..7)) {
        let pattern = Regex::new("^[A-Z0-9]{6,20}$").expect("regex");
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        if let Ok(row) = posdesk::merchants::parse_row(&refs, &pattern) {
            let digits: String = row.card_mask.chars().filter(char::is_ascii_digit).collect();
            prop_assert_eq!(digits.len(), 8, "only first and last four are kept");
        }
    }

    #[test]
    fn redaction_never_lets_a_card_number_through(
        prefix in "\\PC{0,20}",
        suffix in "\\PC{0,20}",
        card in card_number(),
        sep in prop_oneof![Just(""), Just(" "), Just("-")],
    ) {
        let written = separated(&card, sep);
        let text = format!("{prefix}{written}{suffix}");
        let (out, findings) = redact(&text);
        let out_digits: String = out.chars().filter(char::is_ascii_digit).collect();
        prop_assert!(findings.card_number);
        prop_assert!(!out_digits.contains(&card), "{} -> {}", text, out);
    }
}

#[test]
fn odd_unicode_is_handled() {
    let c = classifier();
    for text in [
        "\u{200F}解绑\u{200E}",
        "解\u{200B}绑",
        "🙂🙂🙂",
        "e\u{301}\u{301}\u{301}",
        "\u{202E}dnibnu",
        "\0",
        "ﾃｽﾄ",
        "Ｍ１００２００３００",
    ] {
        let _ = c.classify(text);
        let _ = redact(text);
    }
    assert_eq!(
        c.classify("解\u{200B}绑结算卡"),
        posdesk::intents::Intent::UnbindStart
    );
}
