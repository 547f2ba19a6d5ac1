//! Input normalisation before intent matching: full-width to half-width,
//! lower case, traditional to simplified (table-driven), punctuation and
//! symbols to spaces, whitespace collapsed, spaces between CJK removed.

use std::collections::HashMap;

use crate::domain::fullwidth_to_ascii;

/// Normalises text for matching.
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    t2s: HashMap<char, char>,
}

impl Normaliser {
    /// Builds from `繁<TAB>简` lines; malformed lines are skipped.
    pub fn from_tsv(tsv: &str) -> Normaliser {
        let t2s = tsv
            .lines()
            .filter_map(|line| {
                let (a, b) = line.split_once('\t')?;
                let mut a = a.trim().chars();
                let mut b = b.trim().chars();
                match (a.next(), a.next(), b.next(), b.next()) {
                    (Some(t), None, Some(s), None) => Some((t, s)),
                    _ => None,
                }
            })
            .collect();
        Normaliser { t2s }
    }

    /// The normalised form of `text`.
    pub fn normalise(&self, text: &str) -> String {
        let mut mapped = String::with_capacity(text.len());
        for c in text.chars() {
            let c = fullwidth_to_ascii(c);
            for lower in c.to_lowercase() {
                let simplified = self.t2s.get(&lower).copied().unwrap_or(lower);
                let keep = simplified.is_alphanumeric() || is_cjk(simplified);
                mapped.push(if keep { simplified } else { ' ' });
            }
        }
        let words: Vec<&str> = mapped.split_whitespace().collect();
        let mut out = String::with_capacity(mapped.len());
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                let prev_cjk = words[i - 1].chars().last().is_some_and(is_cjk);
                let next_cjk = word.chars().next().is_some_and(is_cjk);
                if !(prev_cjk && next_cjk) {
                    out.push(' ');
                }
            }
            out.push_str(word);
        }
        out
    }
}

/// CJK unified ideographs (and extension A, compatibility ideographs).
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let n = Normaliser::from_tsv("驗\t验\n證\t证\n碼\t码\nbad line\n");
        assert_eq!(n.normalise("  驗證 碼，收不到！！ "), "验证码收不到");
        assert_eq!(n.normalise("ＵＮＢＩＮＤ my   Card?"), "unbind my card");
        assert_eq!(n.normalise("解绑 card 怎么办"), "解绑 card 怎么办");
        assert_eq!(n.normalise("\u{200F}\u{200B}你好😀"), "你好");
        assert_eq!(n.normalise(""), "");
    }
}
