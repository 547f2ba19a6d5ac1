//! Property tests: no panic on any input; redaction never lets a valid card
//! number or a password through, whatever Unicode spaces, separators and
//! digit forms it is written with.

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
        groups in proptest::collection::vec(1usize..=6, 19),
        seps in proptest::collection::vec(proptest::collection::vec(separator(), 0..=3), 19),
        scripts in proptest::collection::vec(digit_zero(), 19),
    ) {
        // The card in groups of 1 to 6 digits, each digit in any script, the
        // groups joined by up to three separators of any kind (none at all
        // between some), set off from the text around it by a colon and a
        // full stop (digits glued to it are another test's business).
        let mut written = String::new();
        let mut at = 0;
        for (i, &len) in groups.iter().enumerate() {
            if at >= card.len() {
                break;
            }
            if at > 0 {
                written.extend(seps[i].iter());
            }
            for (j, d) in card[at..(at + len).min(card.len())].bytes().enumerate() {
                written.push(in_script(d - b'0', scripts[(at + j) % scripts.len()]));
            }
            at += len;
        }
        let text = format!("{prefix}：{written}。{suffix}");
        let (out, findings) = redact(&text);
        prop_assert!(findings.card_number && findings.secret(), "{:?}", text);
        let out_digits: String = out
            .chars()
            .filter_map(|c| posdesk::redact::digit_value(c).map(|d| char::from(b'0' + d)))
            .collect();
        prop_assert!(!out_digits.contains(&card), "{:?} -> {:?}", text, out);
        // What was masked is recognised again (an update masked before it
        // was stored, read back after a restart).
        let (again, refound) = redact(&out);
        prop_assert!(refound.card_number, "{:?}", out);
        prop_assert_eq!(again, out);
    }

    #[test]
    fn a_password_after_its_keyword_is_masked(
        keyword in prop_oneof![Just("密码"), Just("密碼"), Just("口令"), Just("PIN"), Just("pin码"), Just("password"), Just("Passcode")],
        gap in prop_oneof![Just(" "), Just("："), Just(":"), Just("是"), Just(" is "), Just("\u{a0}"), Just("")],
        value in "[A-Za-z#@!$%]{0,6}[0-9]{4,8}[A-Za-z#@!$%]{0,6}",
    ) {
        let text = format!("我的{keyword}{gap}{value}，谢谢");
        let (out, findings) = redact(&text);
        prop_assert!(findings.password && findings.secret(), "{:?}", text);
        prop_assert!(!out.contains(&value), "{:?} -> {:?}", text, out);
        prop_assert!(redact(&out).1.password, "{:?}", out);
    }
}

/// Every Unicode space and separator the normaliser joins digit groups over.
fn separator() -> impl Strategy<Value = char> {
    let all: Vec<char> = (0..=0x10FFFFu32)
        .filter_map(char::from_u32)
        .filter(|&c| posdesk::redact::is_separator(c))
        .collect();
    proptest::sample::select(all)
}

/// The zero of every script of decimal digits.
fn digit_zero() -> impl Strategy<Value = char> {
    let all: Vec<char> = (0..=0x10FFFFu32)
        .filter_map(char::from_u32)
        .filter(|&c| posdesk::redact::digit_value(c) == Some(0))
        .collect();
    proptest::sample::select(all)
}

fn in_script(digit: u8, zero: char) -> char {
    char::from_u32(zero as u32 + u32::from(digit)).unwrap_or('0')
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
