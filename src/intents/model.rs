//! The statistical second opinion: a linear model (multinomial logistic
//! regression) over features of the normalised text, trained at start-up
//! from labelled phrasings kept as data (`locales/phrasings.tsv`).
//!
//! Chinese is read by sound as well as by character: every Han character
//! also counts as its toneless pinyin syllable (from the `pinyin` crate),
//! with the usual accent merges (zh/z, ch/c, sh/s, -ng/-n), so a homophone
//! typo from a pinyin keyboard (解榜 for 解绑, 结酸卡 for 结算卡) has the same
//! features as the word meant. Latin words count whole and as character
//! trigrams, so a keyboard slip (unbnd, setlement) shares most of them.
//!
//! Pure and deterministic: the same phrasings give the same weights.

use std::collections::HashMap;

use pinyin::ToPinyin;

use super::Intent;

/// Training passes over the phrasings.
const EPOCHS: usize = 10;
/// Learning rate.
const RATE: f64 = 0.2;
/// L2 regularisation (keeps rare features from dominating).
const L2: f64 = 1e-4;

/// A trained model.
pub struct Model {
    classes: Vec<Intent>,
    /// Feature name → index.
    index: HashMap<String, usize>,
    /// `weights[feature * classes + class]`.
    weights: Vec<f64>,
    bias: Vec<f64>,
}

/// The model's view of one text: every class with its probability, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Opinion {
    /// `(intent, probability)`, best first.
    pub ranked: Vec<(Intent, f64)>,
}

impl Opinion {
    /// The best intent and its probability.
    pub fn best(&self) -> Option<(Intent, f64)> {
        self.ranked.first().copied()
    }

    /// The probability of one intent (0 when the model never saw it).
    pub fn probability(&self, intent: Intent) -> f64 {
        self.ranked
            .iter()
            .find(|(i, _)| *i == intent)
            .map_or(0.0, |(_, p)| *p)
    }

    /// The runner-up.
    pub fn second(&self) -> Option<(Intent, f64)> {
        self.ranked.get(1).copied()
    }
}

impl Model {
    /// Trains on `(normalised text, intent)` pairs.
    pub fn train(examples: &[(String, Intent)]) -> Model {
        let mut classes: Vec<Intent> = Vec::new();
        for (_, intent) in examples {
            if !classes.contains(intent) {
                classes.push(*intent);
            }
        }
        let mut index: HashMap<String, usize> = HashMap::new();
        let encoded: Vec<(Vec<usize>, usize)> = examples
            .iter()
            .filter_map(|(text, intent)| {
                let class = classes.iter().position(|c| c == intent)?;
                let features = features(text)
                    .into_iter()
                    .map(|f| {
                        let next = index.len();
                        *index.entry(f).or_insert(next)
                    })
                    .collect();
                Some((features, class))
            })
            .collect();
        let k = classes.len();
        let mut model = Model {
            classes,
            weights: vec![0.0; index.len() * k],
            bias: vec![0.0; k],
            index,
        };
        let mut probs = vec![0.0; k];
        for epoch in 0..EPOCHS {
            let rate = RATE / (1.0 + epoch as f64 * 0.1);
            for (features, class) in &encoded {
                model.scores_into(features, &mut probs);
                softmax(&mut probs);
                let scale = 1.0 / (features.len().max(1) as f64).sqrt();
                for (c, p) in probs.iter().enumerate() {
                    let target = if c == *class { 1.0 } else { 0.0 };
                    let gradient = p - target;
                    model.bias[c] -= rate * gradient;
                    for f in features {
                        let w = &mut model.weights[f * k + c];
                        *w -= rate * (gradient * scale + L2 * *w);
                    }
                }
            }
        }
        model
    }

    /// Number of distinct features learned.
    pub fn feature_count(&self) -> usize {
        self.index.len()
    }

    /// The model's probabilities for a normalised text.
    pub fn opinion(&self, normalised: &str) -> Opinion {
        let known: Vec<usize> = features(normalised)
            .iter()
            .filter_map(|f| self.index.get(f).copied())
            .collect();
        let mut probs = vec![0.0; self.classes.len()];
        self.scores_into(&known, &mut probs);
        softmax(&mut probs);
        let mut ranked: Vec<(Intent, f64)> = self.classes.iter().copied().zip(probs).collect();
        ranked.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
        Opinion { ranked }
    }

    fn scores_into(&self, features: &[usize], out: &mut [f64]) {
        let k = self.classes.len();
        let scale = 1.0 / (features.len().max(1) as f64).sqrt();
        out.copy_from_slice(&self.bias);
        for f in features {
            for (c, score) in out.iter_mut().enumerate() {
                *score += self.weights[f * k + c] * scale;
            }
        }
    }
}

fn softmax(scores: &mut [f64]) {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    if sum > 0.0 {
        for s in scores.iter_mut() {
            *s /= sum;
        }
    }
}

/// The toneless pinyin of a Han character with accent merges (zh→z, ch→c,
/// sh→s, final -ng→-n), or `None` for anything else.
pub fn sound(c: char) -> Option<String> {
    let plain = c.to_pinyin()?.plain();
    let mut s = plain.to_string();
    for (from, to) in [("zh", "z"), ("ch", "c"), ("sh", "s")] {
        if let Some(rest) = s.strip_prefix(from) {
            s = format!("{to}{rest}");
        }
    }
    if s.ends_with("ng") {
        s.pop();
    }
    Some(s)
}

/// The features of a normalised text (duplicates removed).
fn features(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut sounds: Vec<String> = Vec::new();
    let mut chars: Vec<char> = Vec::new();
    let flush_han = |sounds: &mut Vec<String>, chars: &mut Vec<char>, out: &mut Vec<String>| {
        for s in sounds.iter() {
            out.push(format!("s:{s}"));
        }
        for pair in sounds.windows(2) {
            out.push(format!("ss:{}{}", pair[0], pair[1]));
        }
        for pair in chars.windows(2) {
            out.push(format!("cc:{}{}", pair[0], pair[1]));
        }
        sounds.clear();
        chars.clear();
    };
    let mut word = String::new();
    let flush_word = |word: &mut String, out: &mut Vec<String>| {
        if word.is_empty() {
            return;
        }
        out.push(format!("w:{word}"));
        let padded: Vec<char> = format!("<{word}>").chars().collect();
        for tri in padded.windows(3) {
            out.push(format!("t:{}", tri.iter().collect::<String>()));
        }
        word.clear();
    };
    for c in text.chars() {
        match sound(c) {
            Some(s) => {
                flush_word(&mut word, &mut out);
                sounds.push(s);
                chars.push(c);
            }
            None if c.is_alphanumeric() => {
                flush_han(&mut sounds, &mut chars, &mut out);
                if c.is_ascii_digit() {
                    word.push('0');
                } else {
                    word.push(c);
                }
            }
            None => {
                flush_han(&mut sounds, &mut chars, &mut out);
                flush_word(&mut word, &mut out);
            }
        }
    }
    flush_han(&mut sounds, &mut chars, &mut out);
    flush_word(&mut word, &mut out);
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homophones_share_their_sound_features() {
        assert_eq!(sound('绑'), sound('榜'));
        assert_eq!(sound('算'), sound('酸'));
        assert_eq!(sound('证'), sound('正'));
        assert_eq!(sound('生'), sound('升'));
        assert_eq!(sound('客'), sound('刻'));
        assert_eq!(sound('a'), None);
        let typed = features("解榜结酸卡");
        let meant = features("解绑结算卡");
        let shared = typed.iter().filter(|f| meant.contains(f)).count();
        assert!(
            shared * 2 > typed.len(),
            "{shared} of {} shared",
            typed.len()
        );
    }

    #[test]
    fn a_model_learns_and_tells_its_confidence() {
        let examples: Vec<(String, Intent)> = [
            ("我要解绑结算卡", Intent::UnbindStart),
            ("结算卡怎么解绑", Intent::UnbindStart),
            ("想换一张结算卡", Intent::UnbindStart),
            ("验证码收不到", Intent::VerificationFailed),
            ("验证码一直没收到", Intent::VerificationFailed),
            ("收不到验证码短信", Intent::VerificationFailed),
            ("今天天气怎么样", Intent::Unknown),
            ("讲个笑话", Intent::Unknown),
        ]
        .iter()
        .map(|(t, i)| (t.to_string(), *i))
        .collect();
        let model = Model::train(&examples);
        let opinion = model.opinion("解榜结酸卡");
        assert_eq!(opinion.best().map(|b| b.0), Some(Intent::UnbindStart));
        let opinion = model.opinion("验证吗收不到");
        assert_eq!(
            opinion.best().map(|b| b.0),
            Some(Intent::VerificationFailed)
        );
        let sum: f64 = opinion.ranked.iter().map(|r| r.1).sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }
}
