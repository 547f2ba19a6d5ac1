//! Domain values that are valid once parsed: merchant numbers, one-time codes,
//! request references, masked cards and phones, languages and statuses.
//!
//! Owns parsing and formatting only; no I/O, no clock, no randomness source
//! (random bytes are passed in).

use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A language the bot speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// Every language, Chinese first.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The tag used in config, locales/ folder names and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses a tag we wrote ourselves (`zh-CN`, `en`), case-insensitively.
    pub fn parse(tag: &str) -> Option<Lang> {
        match tag.trim().to_ascii_lowercase().as_str() {
            "zh-cn" | "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks a language from a Telegram `language_code` (an IETF tag such as
    /// `zh-hans`, `zh-TW`, `en-GB`): any Chinese variant reaches Chinese,
    /// anything else English, nothing at all the default (Chinese).
    pub fn negotiate(language_code: Option<&str>) -> Lang {
        let Some(code) = language_code else {
            return Lang::ZhCn;
        };
        let primary = code
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "" => Lang::ZhCn,
            "zh" | "cmn" | "yue" | "wuu" | "hak" | "nan" => Lang::ZhCn,
            _ => Lang::En,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A merchant number (商户编号), normalised: trimmed, spaces removed, upper case,
/// and matching the configured pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MerchantId(String);

impl MerchantId {
    /// Normalises `raw` and checks it against `pattern`.
    pub fn parse(raw: &str, pattern: &Regex) -> Option<MerchantId> {
        let normalised: String = raw
            .chars()
            .map(fullwidth_to_ascii)
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_uppercase();
        if normalised.is_empty() || !pattern.is_match(&normalised) {
            return None;
        }
        Some(MerchantId(normalised))
    }

    /// The merchant number in a chat message: the whole message, or a word
    /// inside a sentence ("商户编号是862100058120001", "found it: M900800700"),
    /// that matches `pattern` and looks like a real merchant number (at least
    /// six digits, at most two letters and only in front). So "where do I
    /// find it", "ok thank you" or "abc12345" are not taken for one, even
    /// where the configured pattern alone would allow them.
    pub fn find_in(text: &str, pattern: &Regex) -> Option<MerchantId> {
        if let Some(id) = MerchantId::bare(text, pattern) {
            return Some(id);
        }
        let folded: String = text.chars().map(fullwidth_to_ascii).collect();
        folded
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty())
            .filter_map(|word| MerchantId::parse(word, pattern))
            .find(MerchantId::is_plausible)
    }

    /// The whole of `text` as a merchant number ("862100058120001",
    /// "m900 800 700"), with the shape [`MerchantId::find_in`] accepts;
    /// `None` for anything else, a sentence included.
    pub fn bare(text: &str, pattern: &Regex) -> Option<MerchantId> {
        MerchantId::parse(text, pattern).filter(MerchantId::is_plausible)
    }

    /// At least six digits, at most two letters and only in front.
    fn is_plausible(&self) -> bool {
        let letters = self.0.chars().take_while(char::is_ascii_alphabetic).count();
        let digits = self.0.chars().filter(char::is_ascii_digit).count();
        letters <= 2 && digits >= 6 && letters + digits == self.0.chars().count()
    }

    /// Wraps a value read back from our own database.
    pub fn from_trusted(value: String) -> MerchantId {
        MerchantId(value)
    }

    /// The normalised merchant number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MerchantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A one-time code as typed by the merchant: only digits, exactly the
/// configured length, spaces and dashes ignored. Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    /// Accepts `123456`, `123 456`, `１２３４５６`.
    pub fn parse(raw: &str, digits: usize) -> Option<OtpCode> {
        let cleaned: String = raw
            .chars()
            .map(fullwidth_to_ascii)
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if cleaned.len() == digits && cleaned.chars().all(|c| c.is_ascii_digit()) {
            Some(OtpCode(cleaned))
        } else {
            None
        }
    }

    /// Builds a code of `digits` digits from random bytes.
    pub fn from_random(bytes: [u8; 8], digits: usize) -> OtpCode {
        let digits = digits.clamp(4, 10);
        let modulus = 10u64.pow(digits as u32);
        let value = u64::from_le_bytes(bytes) % modulus;
        OtpCode(format!("{value:0width$}", width = digits))
    }

    /// The digits, for hashing and for delivery only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(******)")
    }
}

/// The alphabet of reference suffixes: no 0/O/1/I, so a reference read over
/// the phone is never ambiguous.
pub const REFERENCE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// An unbinding request reference, `UB-YYYYMMDD-XXXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reference(String);

impl Reference {
    /// Builds a reference for `date` (already formatted `YYYYMMDD`) from random bytes.
    pub fn generate(date_yyyymmdd: &str, random: [u8; 5]) -> Reference {
        let suffix: String = random
            .iter()
            .map(|b| REFERENCE_ALPHABET[(*b as usize) % REFERENCE_ALPHABET.len()] as char)
            .collect();
        Reference(format!("UB-{date_yyyymmdd}-{suffix}"))
    }

    /// Parses a reference typed by a person (case and surrounding spaces ignored).
    pub fn parse(raw: &str) -> Option<Reference> {
        let upper = raw.trim().to_uppercase();
        let mut parts = upper.split('-');
        let (Some("UB"), Some(date), Some(suffix), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let date_ok = date.len() == 8 && date.chars().all(|c| c.is_ascii_digit());
        let suffix_ok =
            suffix.len() == 5 && suffix.bytes().all(|b| REFERENCE_ALPHABET.contains(&b));
        (date_ok && suffix_ok).then_some(Reference(upper))
    }

    /// The reference text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A card number reduced to its first four and last four digits:
/// `6222 **** **** 1234`. A full number never survives construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MaskedCard(String);

impl MaskedCard {
    /// Masks a full or already masked card number. Accepts digits with spaces
    /// or dashes, and masks written with `*`, `x` or `X`. Needs at least the
    /// first four and last four digits.
    pub fn parse(raw: &str) -> Option<MaskedCard> {
        let cleaned: String = raw
            .chars()
            .map(fullwidth_to_ascii)
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if cleaned.len() < 8 || cleaned.len() > 23 {
            return None;
        }
        let valid = cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '*' | 'x' | 'X'));
        if !valid {
            return None;
        }
        let first: String = cleaned.chars().take(4).collect();
        let last: String = cleaned.chars().skip(cleaned.len() - 4).collect();
        let digits_only = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if !digits_only(&first) || !digits_only(&last) {
            return None;
        }
        Some(MaskedCard(format!("{first} **** **** {last}")))
    }

    /// Wraps a mask read back from our own database.
    pub fn from_trusted(value: String) -> MaskedCard {
        MaskedCard(value)
    }

    /// The mask.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number as registered for a merchant (digits, optional leading `+`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Accepts 6 to 15 digits with optional `+`, spaces and dashes.
    pub fn parse(raw: &str) -> Option<Phone> {
        let trimmed = raw.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let digits: String = rest
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let ok = (6..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
        ok.then(|| Phone(format!("{plus}{digits}")))
    }

    /// Wraps a value read back from our own database.
    pub fn from_trusted(value: String) -> Phone {
        Phone(value)
    }

    /// The full number, for the SMS gateway only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `138****1234`: the first three and last four digits of the national
    /// number (a `+86` / `0086` prefix is left out, so every mainland mobile
    /// masks the same way).
    pub fn masked(&self) -> String {
        let national = self
            .0
            .strip_prefix("+86")
            .or_else(|| self.0.strip_prefix("0086"))
            .filter(|rest| rest.len() == 11)
            .unwrap_or(&self.0);
        mask_phone_digits(national)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// Masks a run of phone digits, keeping the first three and last four.
pub fn mask_phone_digits(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Longest reason a status change takes (the back-office API, a reason
/// typed in the staff group): the notice (template plus reason) stays well
/// within Telegram's 4,096 characters a message.
pub const MAX_REASON_CHARS: usize = 1000;

/// Status of an unbinding request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Created by the merchant, waiting for the back office.
    Submitted,
    /// The back office is working on it.
    Processing,
    /// Done: the card is unbound.
    Completed,
    /// Refused by the back office, with a reason.
    Rejected,
    /// Withdrawn.
    Cancelled,
}

impl RequestStatus {
    /// Every status in lifecycle order.
    pub const ALL: [RequestStatus; 5] = [
        RequestStatus::Submitted,
        RequestStatus::Processing,
        RequestStatus::Completed,
        RequestStatus::Rejected,
        RequestStatus::Cancelled,
    ];

    /// The contract name (`submitted`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "submitted",
            RequestStatus::Processing => "processing",
            RequestStatus::Completed => "completed",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a contract name, case-insensitively.
    pub fn parse(raw: &str) -> Option<RequestStatus> {
        let lower = raw.trim().to_ascii_lowercase();
        RequestStatus::ALL.into_iter().find(|s| s.as_str() == lower)
    }

    /// Still waiting for the back office.
    pub fn is_pending(self) -> bool {
        matches!(self, RequestStatus::Submitted | RequestStatus::Processing)
    }

    /// Counts against the per-period limit (pending or completed).
    pub fn counts_against_limit(self) -> bool {
        self.is_pending() || self == RequestStatus::Completed
    }

    /// The Fluent id of the localised status name.
    pub fn message_id(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "request-status-submitted",
            RequestStatus::Processing => "request-status-processing",
            RequestStatus::Completed => "request-status-completed",
            RequestStatus::Rejected => "request-status-rejected",
            RequestStatus::Cancelled => "request-status-cancelled",
        }
    }

    /// Whether the back office may move a request from `self` to `next`.
    pub fn can_become(self, next: RequestStatus) -> bool {
        use RequestStatus::*;
        matches!(
            (self, next),
            (Submitted, Processing | Completed | Rejected | Cancelled)
                | (Processing, Completed | Rejected | Cancelled)
        )
    }
}

/// Maps full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space to
/// their half-width equivalents; other characters pass unchanged.
pub fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern() -> Regex {
        Regex::new("^[A-Z0-9]{6,20}$").expect("valid pattern") // ok: a test; failing loudly is the point
    }

    #[test]
    fn chinese_variants_negotiate_to_chinese() {
        for code in [
            "zh", "zh-CN", "zh-cn", "zh-Hans", "zh-hans", "zh-TW", "zh-HK", "zh_hant",
        ] {
            assert_eq!(Lang::negotiate(Some(code)), Lang::ZhCn, "{code}");
        }
        for code in ["en", "en-GB", "ru", "pt-br", "de"] {
            assert_eq!(Lang::negotiate(Some(code)), Lang::En, "{code}");
        }
        assert_eq!(Lang::negotiate(None), Lang::ZhCn);
    }

    #[test]
    fn merchant_id_is_normalised() {
        let id = MerchantId::parse(" m 100 200 300 ", &pattern()).expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(id.as_str(), "M100200300");
        assert!(MerchantId::parse("ab", &pattern()).is_none());
        assert!(MerchantId::parse("解绑", &pattern()).is_none());
        let full_width = MerchantId::parse("１２３４５６７８", &pattern()).expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(full_width.as_str(), "12345678");
    }

    #[test]
    fn otp_code_accepts_spaces_and_rejects_other_lengths() {
        assert_eq!(
            OtpCode::parse("123 456", 6).map(|c| c.0),
            Some("123456".into())
        );
        assert!(OtpCode::parse("12345", 6).is_none());
        assert!(OtpCode::parse("12345a", 6).is_none());
        assert_eq!(
            format!("{:?}", OtpCode::parse("123456", 6)),
            "Some(OtpCode(******))"
        );
        assert_eq!(OtpCode::from_random([0; 8], 6).expose(), "000000");
    }

    #[test]
    fn reference_round_trips() {
        let r = Reference::generate("20261129", [0, 1, 2, 3, 31]);
        assert_eq!(r.as_str(), "UB-20261129-2345Z");
        assert_eq!(Reference::parse(" ub-20261129-2345z "), Some(r));
        assert!(Reference::parse("UB-20261129-2345O").is_none());
        assert!(Reference::parse("UB-2026112-23456").is_none());
    }

    #[test]
    fn cards_are_masked() {
        let m = MaskedCard::parse("6222 0212 3456 7890 123").expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(m.as_str(), "6222 **** **** 0123");
        let m = MaskedCard::parse("6222********1234").expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(m.as_str(), "6222 **** **** 1234");
        assert!(MaskedCard::parse("62xx********1234").is_none());
        assert!(MaskedCard::parse("hello").is_none());
    }

    #[test]
    fn phones_are_masked() {
        let p = Phone::parse("138 0013 1234").expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(p.masked(), "138****1234");
        assert_eq!(format!("{p:?}"), "Phone(138****1234)");
        assert!(Phone::parse("abc").is_none());
    }

    #[test]
    fn status_transitions() {
        assert!(RequestStatus::Submitted.can_become(RequestStatus::Processing));
        assert!(!RequestStatus::Completed.can_become(RequestStatus::Rejected));
        assert_eq!(
            RequestStatus::parse("Rejected"),
            Some(RequestStatus::Rejected)
        );
    }
}
