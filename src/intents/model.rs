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
const EPOCHS: usize = 30;
/// Learning rate.
const RATE: f64 = 1.0;
/// A gradient this small updates no weights.
const NEGLIGIBLE: f64 = 1e-3;
/// L2 regularisation (keeps rare features from dominating).
const L2: f64 = 1e-4;

/// A trained model.
pub struct Model {
    classes: Vec<Intent>,
    /// Feature (hashed) → index.
    index: HashMap<u64, usize>,
    /// `weights[feature * classes + class]`.
    /// Single precision: half the memory, and the model needs no more.
    weights: Vec<f32>,
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

    /// Whether the model learned this intent at all.
    pub fn knows(&self, intent: Intent) -> bool {
        self.ranked.iter().any(|(i, _)| *i == intent)
    }

    /// The runner-up.
    pub fn second(&self) -> Option<(Intent, f64)> {
        self.ranked.get(1).copied()
    }
}

impl Model {
    /// Trains on `(features, intent)` pairs (see [`features`]).
    pub fn train(examples: Vec<(Vec<u64>, Intent)>) -> Model {
        let mut classes: Vec<Intent> = Vec::new();
        for (_, intent) in &examples {
            if !classes.contains(intent) {
                classes.push(*intent);
            }
        }
        let mut index: HashMap<u64, usize> = HashMap::new();
        let encoded: Vec<(Vec<usize>, usize)> = examples
            .into_iter()
            .filter_map(|(features, intent)| {
                let class = classes.iter().position(|c| *c == intent)?;
                let features = features
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
                    // A class the example already leaves alone (most of
                    // them, after the first passes) changes no weight:
                    // training costs a fraction of the dense update.
                    if gradient.abs() < NEGLIGIBLE {
                        continue;
                    }
                    for f in features {
                        let w = &mut model.weights[f * k + c];
                        *w -= (rate * (gradient * scale + L2 * f64::from(*w))) as f32;
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

    /// The model's probabilities for the features of a text.
    pub fn opinion(&self, features: &[u64]) -> Opinion {
        let known: Vec<usize> = features
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
                *score += f64::from(self.weights[f * k + c]) * scale;
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

/// FNV-1a over a feature's kind and its parts: features are hashed, not
/// spelled out, so training and reading allocate one vector per text.
struct FeatureHash(u64);

impl FeatureHash {
    fn new(kind: u8) -> FeatureHash {
        let mut h = FeatureHash(0xcbf2_9ce4_8422_2325);
        h.byte(kind);
        h
    }

    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }

    fn str(mut self, s: &str) -> FeatureHash {
        for b in s.bytes() {
            self.byte(b);
        }
        self.byte(0xff);
        self
    }

    fn char(mut self, c: char) -> FeatureHash {
        let mut buf = [0u8; 4];
        for b in c.encode_utf8(&mut buf).bytes() {
            self.byte(b);
        }
        self.byte(0xff);
        self
    }
}

/// The features of a normalised text (duplicates removed): Han syllables
/// and syllable pairs, Han characters and character pairs, Latin words and
/// their trigrams.
pub fn features(text: &str) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut sounds: Vec<String> = Vec::new();
    let mut chars: Vec<char> = Vec::new();
    let flush_han = |sounds: &mut Vec<String>, chars: &mut Vec<char>, out: &mut Vec<u64>| {
        for s in sounds.iter() {
            out.push(FeatureHash::new(b's').str(s).0);
        }
        for c in chars.iter() {
            out.push(FeatureHash::new(b'h').char(*c).0);
        }
        for pair in sounds.windows(2) {
            out.push(FeatureHash::new(b'p').str(&pair[0]).str(&pair[1]).0);
        }
        for pair in chars.windows(2) {
            out.push(FeatureHash::new(b'c').char(pair[0]).char(pair[1]).0);
        }
        sounds.clear();
        chars.clear();
    };
    let mut word: Vec<char> = Vec::new();
    let flush_word = |word: &mut Vec<char>, out: &mut Vec<u64>| {
        if word.is_empty() {
            return;
        }
        let mut whole = FeatureHash::new(b'w');
        for c in word.iter() {
            whole = whole.char(*c);
        }
        out.push(whole.0);
        let mut padded = Vec::with_capacity(word.len() + 2);
        padded.push('<');
        padded.extend(word.iter().copied());
        padded.push('>');
        for tri in padded.windows(3) {
            out.push(
                FeatureHash::new(b't')
                    .char(tri[0])
                    .char(tri[1])
                    .char(tri[2])
                    .0,
            );
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
                word.push(if c.is_ascii_digit() { '0' } else { c });
            }
            None => {
                flush_han(&mut sounds, &mut chars, &mut out);
                flush_word(&mut word, &mut out);
            }
        }
    }
    flush_han(&mut sounds, &mut chars, &mut out);
    flush_word(&mut word, &mut out);
    out.sort_unstable();
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
        let examples: Vec<(Vec<u64>, Intent)> = [
            ("我要解绑结算卡", Intent::UnbindStart),
            ("结算卡怎么解绑", Intent::UnbindStart),
            ("想换一张结算卡", Intent::UnbindStart),
            ("验证码收不到", Intent::ProgressQuery),
            ("验证码一直没收到", Intent::ProgressQuery),
            ("收不到验证码短信", Intent::ProgressQuery),
            ("今天天气怎么样", Intent::Unknown),
            ("讲个笑话", Intent::Unknown),
        ]
        .iter()
        .map(|(t, i)| (features(t), *i))
        .collect();
        let model = Model::train(examples);
        let opinion = model.opinion(&features("解榜结酸卡"));
        assert_eq!(opinion.best().map(|b| b.0), Some(Intent::UnbindStart));
        let opinion = model.opinion(&features("验证吗收不到"));
        assert_eq!(opinion.best().map(|b| b.0), Some(Intent::ProgressQuery));
        let sum: f64 = opinion.ranked.iter().map(|r| r.1).sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }
}
