//! The one normaliser and the one redactor of what merchants type: finds
//! card numbers, passwords (or PINs) and mobile numbers in free text and
//! masks them. Used for the inbox, the turn record, transcripts, relays to
//! staff, logs and anything else that keeps what a merchant typed; the core
//! deletes a message from the chat exactly when this module finds a secret
//! in it ([`Findings::secret`]), so what is masked is also deleted.
//!
//! Normalising comes first: a digit of any script (ASCII, full-width,
//! Arabic-Indic, Devanagari, … every Unicode `Nd` digit) counts as that
//! digit, and digits stay one number across separators people and phones
//! produce (every Unicode space, zero-width characters, bidi marks, dashes,
//! dots, slashes, underscores, line breaks).
//!
//! Pure; no I/O.

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::mask_phone_digits;

/// What a piece of text contains that must not be kept in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Findings {
    /// At least one card number (or the mask of one).
    pub card_number: bool,
    /// A password or PIN after a keyword (密码, password, PIN, …), or its mask.
    pub password: bool,
    /// At least one mainland mobile number (masked, not a secret).
    pub phone: bool,
}

impl Findings {
    /// Whether the text held a secret: the message must be deleted from the
    /// chat and never relayed.
    pub fn secret(&self) -> bool {
        self.card_number || self.password
    }
}

/// What the chat expects, which decides how short a card number may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expecting {
    /// Anything: card numbers of 13 to 19 digits count.
    #[default]
    Anything,
    /// A merchant number, which may be all digits (commonly 15): only 16 to
    /// 19 digit card numbers (the common card lengths) count.
    MerchantNumber,
}

/// The mask of a password or PIN.
pub const PASSWORD_MASK: &str = "******";

/// Masks every card number, password and mobile number in `text` and says
/// what it found. The rest of the text is kept as typed.
pub fn redact(text: &str) -> (String, Findings) {
    redact_as(text, Expecting::Anything)
}

/// [`redact`] for a chat that expects `expecting`.
///
/// A card number is a number (digits of any script, separators allowed
/// between them) of 13 to 19 digits passing the Luhn check, first digit not
/// 0; or, inside a longer number, a stretch of whole digit groups that is
/// one, or any such window of a group of more than 19 digits. The whole
/// number is masked (first four and last four of the card kept). A masked
/// card (`6222 **** **** 0123`) counts as a card number, so a text masked
/// before it was stored is recognised when read back.
pub fn redact_as(text: &str, expecting: Expecting) -> (String, Findings) {
    redact_knowing(text, expecting, &[])
}

/// [`redact_as`], where a number that is one of `merchant_numbers` (the
/// merchant numbers this chat already knows) is never taken for a card: a
/// 15-digit merchant number passes the Luhn check one time in ten.
pub fn redact_knowing(
    text: &str,
    expecting: Expecting,
    merchant_numbers: &[&str],
) -> (String, Findings) {
    let mut findings = Findings::default();
    let text = mask_passwords(text, &mut findings);
    if CARD_MASK.is_match(&text) {
        findings.card_number = true;
    }
    let min_card = match expecting {
        Expecting::Anything => 13,
        Expecting::MerchantNumber => 16,
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for run in digit_runs(&text) {
        let known = merchant_numbers.contains(&ascii(&run.digits()).as_str());
        let replacement = if known {
            None
        } else if let Some(card) = card_in(&run.groups, min_card) {
            findings.card_number = true;
            Some(mask_card_digits(&card))
        } else if is_mainland_mobile(&run.digits()) {
            findings.phone = true;
            Some(mask_phone_digits(&ascii(&run.digits())))
        } else {
            None
        };
        if let Some(replacement) = replacement {
            out.push_str(&text[last..run.start]);
            out.push_str(&replacement);
            last = run.end;
        }
    }
    out.push_str(&text[last..]);
    (out, findings)
}

/// Masks card numbers, passwords and mobile numbers, keeping nothing else
/// of the findings.
pub fn redacted(text: &str) -> String {
    redact(text).0
}

/// What may be written to disk of a text nobody has judged yet (an update
/// in the inbox): [`redact`], and a bare number of 4 to 10 digits (what a
/// one-time code looks like) without its digits.
pub fn for_storage(text: &str) -> String {
    let (masked, _) = redact(text);
    let digits = masked.chars().filter(|&c| digit_value(c).is_some()).count();
    let bare = masked
        .chars()
        .all(|c| digit_value(c).is_some() || is_separator(c));
    match bare && (4..=10).contains(&digits) {
        true => without_digits(&masked),
        false => masked,
    }
}

/// `text` with every digit (of any script) replaced by `*`: for what must
/// keep no number at all (a one-time code, a deleted message).
pub fn without_digits(text: &str) -> String {
    text.chars()
        .map(|c| if digit_value(c).is_some() { '*' } else { c })
        .collect()
}

/// The normaliser's digits: the value of `c` if it is a decimal digit of any
/// script (Unicode `Nd`: ASCII, full-width, Arabic-Indic, Devanagari, …).
pub fn digit_value(c: char) -> Option<u8> {
    let code = c as u32;
    if c.is_ascii_digit() {
        return Some((code - 0x30) as u8);
    }
    if code < 0x660 {
        return None;
    }
    // The first code point of each run of Unicode decimal digits; each run
    // is 0 to 9 in order (some runs hold several sets of ten).
    let at = DIGIT_RUNS.partition_point(|&(start, _)| start <= code);
    let (start, len) = *DIGIT_RUNS.get(at.checked_sub(1)?)?;
    (code < start + len).then(|| ((code - start) % 10) as u8)
}

/// The normaliser's separators: characters that may sit between the digit
/// groups of one number: every Unicode space and line break, zero-width
/// and bidi formatting characters, dashes, dots, slashes and underscores
/// (ASCII and full-width), middle dots.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.'
                | '/'
                | '_'
                | '\u{00AD}'
                | '\u{00B7}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2010}'..='\u{2015}'
                | '\u{2027}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2212}'
                | '\u{30FB}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FEFF}'
                | '\u{FF0D}'
                | '\u{FF0E}'
                | '\u{FF0F}'
                | '\u{FF3F}'
                | '\u{FF65}'
        )
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

/// Runs of Unicode decimal digits: (first code point, length), sorted.
/// Checked against `\p{Nd}` by a test over every code point.
const DIGIT_RUNS: &[(u32, u32)] = &[
    (0x0660, 10),
    (0x06F0, 10),
    (0x07C0, 10),
    (0x0966, 10),
    (0x09E6, 10),
    (0x0A66, 10),
    (0x0AE6, 10),
    (0x0B66, 10),
    (0x0BE6, 10),
    (0x0C66, 10),
    (0x0CE6, 10),
    (0x0D66, 10),
    (0x0DE6, 10),
    (0x0E50, 10),
    (0x0ED0, 10),
    (0x0F20, 10),
    (0x1040, 10),
    (0x1090, 10),
    (0x17E0, 10),
    (0x1810, 10),
    (0x1946, 10),
    (0x19D0, 10),
    (0x1A80, 10),
    (0x1A90, 10),
    (0x1B50, 10),
    (0x1BB0, 10),
    (0x1C40, 10),
    (0x1C50, 10),
    (0xA620, 10),
    (0xA8D0, 10),
    (0xA900, 10),
    (0xA9D0, 10),
    (0xA9F0, 10),
    (0xAA50, 10),
    (0xABF0, 10),
    (0xFF10, 10),
    (0x104A0, 10),
    (0x10D30, 10),
    (0x10D40, 10),
    (0x11066, 10),
    (0x110F0, 10),
    (0x11136, 10),
    (0x111D0, 10),
    (0x112F0, 10),
    (0x11450, 10),
    (0x114D0, 10),
    (0x11650, 10),
    (0x116C0, 10),
    (0x116D0, 20),
    (0x11730, 10),
    (0x118E0, 10),
    (0x11950, 10),
    (0x11BF0, 10),
    (0x11C50, 10),
    (0x11D50, 10),
    (0x11DA0, 10),
    (0x11F50, 10),
    (0x16130, 10),
    (0x16A60, 10),
    (0x16AC0, 10),
    (0x16B50, 10),
    (0x16D70, 10),
    (0x1CCF0, 10),
    (0x1D7CE, 50),
    (0x1E140, 10),
    (0x1E2F0, 10),
    (0x1E4F0, 10),
    (0x1E5F1, 10),
    (0x1E950, 10),
    (0x1FBF0, 10),
];

/// A masked card number as [`redact`] writes it.
static CARD_MASK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4} \*{4} \*{4} \d{4}").expect("static regex") // ok: a constant pattern, checked by every test run
});

/// A password keyword, what may sit between it and the value, and the value
/// (up to the next space or sentence punctuation).
static PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:密码|密碼|口令|pin\s*码|pin\s*碼|(?-u:\b)(?:pin|passcode|password|passwd|pwd))(?:[\s\x{200B}-\x{200F}\x{2060}\x{FEFF}:：=]|是|为|為|(?-u:\b)is(?-u:\b))*([^\s\x{200B}-\x{200F}\x{2060}\x{FEFF}，。；！？、）」』】]+)",
    )
    .expect("static regex") // ok: a constant pattern, checked by every test run
});

/// Masks the value after each password keyword when it looks like one: at
/// least four characters, at least one digit, nothing but ASCII symbols,
/// letters and digits of any script (so "密码错误3次" or "password reset"
/// are left alone). A value already masked counts as found.
fn mask_passwords(text: &str, findings: &mut Findings) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in PASSWORD.captures_iter(text) {
        let Some(value) = caps.get(1) else { continue };
        let v = value.as_str();
        if v.starts_with(PASSWORD_MASK) {
            findings.password = true;
            continue;
        }
        let looks_like_one = v.chars().count() >= 4
            && v.chars().any(|c| digit_value(c).is_some())
            && v.chars().all(|c| {
                c.is_ascii_graphic()
                    || digit_value(c).is_some()
                    || ('\u{FF01}'..='\u{FF5E}').contains(&c)
            });
        if looks_like_one {
            findings.password = true;
            out.push_str(&text[last..value.start()]);
            out.push_str(PASSWORD_MASK);
            last = value.end();
        }
    }
    out.push_str(&text[last..]);
    out
}

/// A number in a text: digit groups joined by separators.
struct Run {
    /// Byte offsets of the first digit and just after the last.
    start: usize,
    end: usize,
    /// The digit groups, values 0 to 9.
    groups: Vec<Vec<u8>>,
}

impl Run {
    fn digits(&self) -> Vec<u8> {
        self.groups.concat()
    }
}

/// At most this many separators in a row still join two digit groups
/// ("1234 - 5678", "1234\r\n5678").
const MAX_SEPARATORS: usize = 4;

/// Every number in `text`, in order.
fn digit_runs(text: &str) -> Vec<Run> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some(first) = digit_value(chars[i].1) else {
            i += 1;
            continue;
        };
        let start = chars[i].0;
        let mut groups = vec![vec![first]];
        let mut last = i;
        let mut j = i + 1;
        loop {
            if let Some(d) = chars.get(j).and_then(|&(_, c)| digit_value(c)) {
                if let Some(group) = groups.last_mut() {
                    group.push(d);
                }
                last = j;
                j += 1;
                continue;
            }
            let mut k = j;
            while k < chars.len() && k - j < MAX_SEPARATORS && is_separator(chars[k].1) {
                k += 1;
            }
            match chars.get(k).and_then(|&(_, c)| digit_value(c)) {
                Some(d) if k > j => {
                    groups.push(vec![d]);
                    last = k;
                    j = k + 1;
                }
                _ => break,
            }
        }
        let (at, c) = chars[last];
        runs.push(Run {
            start,
            end: at + c.len_utf8(),
            groups,
        });
        i = last + 1;
    }
    runs
}

/// The card number in a number's digit groups, if there is one.
fn card_in(groups: &[Vec<u8>], min_len: usize) -> Option<Vec<u8>> {
    let is_card = |d: &[u8]| (min_len..=19).contains(&d.len()) && d[0] != 0 && luhn_valid(d);
    let all = groups.concat();
    if is_card(&all) {
        return Some(all);
    }
    // A stretch of whole groups (a card written next to other numbers).
    for from in 0..groups.len() {
        let mut stretch = Vec::new();
        for group in &groups[from..] {
            stretch.extend_from_slice(group);
            if stretch.len() > 19 {
                break;
            }
            if is_card(&stretch) {
                return Some(stretch);
            }
        }
    }
    // A group longer than any card: a card glued to other digits (or an
    // account number), any window.
    groups.iter().filter(|g| g.len() > 19).find_map(|g| {
        (min_len..=19).find_map(|len| g.windows(len).find(|w| is_card(w)).map(<[u8]>::to_vec))
    })
}

fn ascii(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn is_mainland_mobile(digits: &[u8]) -> bool {
    digits.len() == 11 && digits[0] == 1 && (3..=9).contains(&digits[1])
}

fn mask_card_digits(digits: &[u8]) -> String {
    let text = ascii(digits);
    format!("{} **** **** {}", &text[..4], &text[text.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_card_numbers_in_any_spacing() {
        let (out, f) = redact("我的卡号 6222-0212 3456 7890 128 请帮忙");
        assert!(f.card_number && f.secret());
        assert_eq!(out, "我的卡号 6222 **** **** 0128 请帮忙");
        let (out, _) = redact("4111111111111111");
        assert_eq!(out, "4111 **** **** 1111");
    }

    #[test]
    fn masks_card_numbers_split_by_any_separator_in_any_script() {
        for written in [
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            "4111\u{200b}1111\u{200b}1111\u{200b}1111",
            "4111.1111.1111.1111",
            "4111/1111/1111/1111",
            "4111_1111_1111_1111",
            "4111\n1111\r\n1111\n1111",
            "4111\u{3000}1111\u{3000}1111\u{3000}1111",
            "٤١١١ ١١١١ ١١١١ ١١١١",
            "۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱",
            "४१११-११११-११११-११११",
            "４１１１ １１１１ １１１１ １１１１",
        ] {
            let (out, f) = redact(&format!("卡号：{written}。"));
            assert!(f.card_number, "{written:?}");
            assert_eq!(out, "卡号：4111 **** **** 1111。", "{written:?}");
        }
    }

    #[test]
    fn card_glued_to_other_digits_is_still_masked() {
        let (out, f) = redact("x12344111111111111111y");
        assert!(f.card_number);
        assert!(!out.contains("4111111111111111"));
        // Next to a phone number, separated by a space.
        let (out, f) = redact("4111 1111 1111 1111 13800131234");
        assert!(f.card_number);
        assert_eq!(out, "4111 **** **** 1111");
    }

    #[test]
    fn a_masked_card_is_recognised() {
        let (out, f) = redact("卡号 4111 **** **** 1111");
        assert!(f.card_number);
        assert_eq!(out, "卡号 4111 **** **** 1111");
    }

    #[test]
    fn a_merchant_number_is_no_card_while_one_is_expected() {
        // 15 digits passing the Luhn check.
        let digits = "862100058120002";
        let values: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        assert!(luhn_valid(&values));
        assert!(redact(digits).1.card_number);
        let (out, f) = redact_as(digits, Expecting::MerchantNumber);
        assert!(!f.secret());
        assert_eq!(out, digits);
    }

    #[test]
    fn masks_passwords_and_pins() {
        for (text, masked) in [
            ("密码 Mima#778899", "密码 ******"),
            ("我的密码是：abc12345，谢谢", "我的密码是：******，谢谢"),
            ("my PIN is 7391", "my PIN is ******"),
            ("password=hunter22", "password=******"),
            ("口令 ８８８８", "口令 ******"),
            ("密碼 4455", "密碼 ******"),
            ("PIN1234", "PIN******"),
            ("我的password 0000", "我的password ******"),
        ] {
            let (out, f) = redact(text);
            assert!(f.password && f.secret(), "{text}");
            assert_eq!(out, masked);
            assert!(redact(&out).1.password, "the mask of {text} is recognised");
        }
        for text in [
            "我忘记密码了",
            "密码错误3次被锁了",
            "how do I reset my password please",
            "password reset 2 times",
            "pin码忘了",
            "验证码 123456",
            "pinyin 输入法 1234",
            "spinning 12345",
        ] {
            let (out, f) = redact(text);
            assert!(!f.secret(), "{text}");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn masks_mobile_numbers() {
        let (out, f) = redact("手机13800131234收不到");
        assert!(f.phone && !f.secret());
        assert_eq!(out, "手机138****1234收不到");
        let (out, _) = redact("手机 138\u{a0}0013\u{a0}1234");
        assert_eq!(out, "手机 138****1234");
    }

    #[test]
    fn leaves_merchant_numbers_codes_and_amounts() {
        for text in [
            "商户号 M100200300 验证码 123456",
            "金额 100.00 200.00 300.00",
            "2024-05-06 12:30",
            "商户号 862100058120001\n终端号 12345678",
        ] {
            assert_eq!(redacted(text), text);
        }
        // 15 digits failing Luhn stay (a merchant number).
        let (_, f) = redact("100000000000000");
        assert!(!f.card_number);
    }

    #[test]
    fn stored_texts_keep_no_card_password_or_code() {
        assert_eq!(for_storage("4111 1111 1111 1111"), "4111 **** **** 1111");
        assert_eq!(for_storage("密码 Mima#778899"), "密码 ******");
        assert_eq!(for_storage(" 123 456 "), " *** *** ");
        assert_eq!(for_storage("M100200300"), "M100200300");
        assert_eq!(for_storage("解绑要多久"), "解绑要多久");
    }

    #[test]
    fn without_digits_keeps_no_number() {
        assert_eq!(without_digits("码 12 ٣٤"), "码 ** **");
    }

    #[test]
    fn luhn_known_values() {
        let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
        assert!(luhn_valid(&d("4111111111111111")));
        assert!(!luhn_valid(&d("4111111111111112")));
    }

    #[test]
    fn every_unicode_decimal_digit_is_a_digit_and_nothing_else_is() {
        let nd = Regex::new(r"^\p{Nd}$").expect("regex"); // ok: a test
        let mut run_start = 0u32;
        let mut previous: Option<u32> = None;
        for code in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let is_nd = nd.is_match(c.encode_utf8(&mut [0; 4]));
            if is_nd && previous != Some(code.wrapping_sub(1)) {
                run_start = code;
            }
            if is_nd {
                previous = Some(code);
            }
            let expected = is_nd.then(|| ((code - run_start) % 10) as u8);
            assert_eq!(digit_value(c), expected, "U+{code:04X}");
        }
    }

    #[test]
    fn every_unicode_space_is_a_separator() {
        let space = Regex::new(r"^[\p{White_Space}\p{Zs}\p{Zl}\p{Zp}]$").expect("regex"); // ok: a test
        for code in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            if space.is_match(c.encode_utf8(&mut [0; 4])) {
                assert!(is_separator(c), "U+{code:04X}");
            }
        }
    }
}
