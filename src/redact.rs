//! The one redaction function: finds card numbers and mobile numbers in free
//! text and masks them. Used for logs, transcripts, the turn record and
//! anything else that keeps what a merchant typed.
//!
//! Pure; no I/O.

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::{fullwidth_to_ascii, mask_phone_digits};

static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| {
    // Digits, optionally separated by single spaces or dashes.
    Regex::new(r"[0-9](?:[ \-]?[0-9])*").expect("static regex") // ok: a constant pattern, checked by every test run
});

/// What a piece of text contains that must not be kept in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Findings {
    /// At least one card number (13 to 19 digits passing the Luhn check).
    pub card_number: bool,
    /// At least one mainland mobile number.
    pub phone: bool,
}

/// Masks every card number and mobile number in `text` and says what it found.
///
/// A run of 13 or more digits that contains any Luhn-valid stretch of 13 to
/// 19 digits is masked whole (first four and last four kept), so a card number
/// glued to other digits cannot slip through.
pub fn redact(text: &str) -> (String, Findings) {
    let normalised: String = text.chars().map(fullwidth_to_ascii).collect();
    let mut findings = Findings::default();
    let mut out = String::with_capacity(normalised.len());
    let mut last = 0;
    for m in DIGIT_RUN.find_iter(&normalised) {
        let digits = digit_values(m.as_str());
        let replacement = if contains_luhn_window(&digits) {
            findings.card_number = true;
            Some(mask_card_digits(&digits))
        } else if is_mainland_mobile(&digits) {
            findings.phone = true;
            let as_text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            Some(mask_phone_digits(&as_text))
        } else {
            None
        };
        if let Some(replacement) = replacement {
            out.push_str(&normalised[last..m.start()]);
            out.push_str(&replacement);
            last = m.end();
        }
    }
    out.push_str(&normalised[last..]);
    (out, findings)
}

/// Masks card and phone numbers, keeping nothing else of the findings.
pub fn redacted(text: &str) -> String {
    redact(text).0
}

/// Whether `text` contains a card number: a run of 13 to 19 digits (spaces
/// and dashes allowed) that passes the Luhn check. Stricter than [`redact`],
/// which also masks card numbers glued to other digits; this one decides
/// whether to delete a merchant's message, so it must not fire on merchant
/// numbers that merely contain a Luhn-valid stretch.
pub fn contains_card_number(text: &str) -> bool {
    contains_card_number_of_length(text, 13)
}

/// Like [`contains_card_number`], counting only runs of at least `min_digits`.
pub fn contains_card_number_of_length(text: &str, min_digits: usize) -> bool {
    let normalised: String = text.chars().map(fullwidth_to_ascii).collect();
    DIGIT_RUN.find_iter(&normalised).any(|m| {
        let digits = digit_values(m.as_str());
        (min_digits.max(13)..=19).contains(&digits.len()) && digits[0] != 0 && luhn_valid(&digits)
    })
}

/// The digits of a run, as values 0 to 9 (separators dropped).
fn digit_values(run: &str) -> Vec<u8> {
    run.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// The Luhn checksum test on a slice of digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.len() < 2 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn contains_luhn_window(digits: &[u8]) -> bool {
    if digits.len() < 13 {
        return false;
    }
    // Issuer numbers never start with 0, and a stretch of zeros passes Luhn.
    (13..=19.min(digits.len())).any(|len| digits.windows(len).any(|w| w[0] != 0 && luhn_valid(w)))
}

fn is_mainland_mobile(digits: &[u8]) -> bool {
    digits.len() == 11 && digits[0] == 1 && (3..=9).contains(&digits[1])
}

fn mask_card_digits(digits: &[u8]) -> String {
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    format!("{} **** **** {}", &text[..4], &text[text.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_card_numbers_in_any_spacing() {
        let (out, f) = redact("我的卡号 6222-0212 3456 7890 123 请帮忙");
        assert!(f.card_number);
        assert_eq!(out, "我的卡号 6222 **** **** 0123 请帮忙");
        let (out, _) = redact("4111111111111111");
        assert_eq!(out, "4111 **** **** 1111");
    }

    #[test]
    fn card_glued_to_other_digits_is_still_masked() {
        let (out, f) = redact("x14111111111111111y");
        assert!(f.card_number);
        assert!(!out.contains("4111111111111111"));
    }

    #[test]
    fn masks_mobile_numbers() {
        let (out, f) = redact("手机13800131234收不到");
        assert!(f.phone);
        assert_eq!(out, "手机138****1234收不到");
    }

    #[test]
    fn leaves_merchant_numbers_and_codes() {
        assert_eq!(
            redacted("商户号 M100200300 验证码 123456"),
            "商户号 M100200300 验证码 123456"
        );
        // 15 digits failing Luhn in every window stays (a merchant number).
        let (_, f) = redact("100000000000000");
        assert!(!f.card_number);
    }

    #[test]
    fn luhn_known_values() {
        let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
        assert!(luhn_valid(&d("4111111111111111")));
        assert!(!luhn_valid(&d("4111111111111112")));
    }
}
