//! FAQ topic ids: strings from the catalogue, interned once per process so
//! an id is `Copy` and cheap to compare like the intents with behaviour.
//!
//! Only catalogue files are interned (a few dozen short strings per load);
//! text from a merchant or a button is only looked up, never interned.

use std::collections::BTreeSet;
use std::sync::Mutex;

static INTERNED: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
/// The subset that are topic ids.
static IDS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// Interns a catalogue string (an id or a message id derived from one).
pub(super) fn intern(text: &str) -> &'static str {
    let mut set = INTERNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = set.get(text) {
        return known;
    }
    let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// The id of an FAQ topic (`verification_failed`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaqId(&'static str);

impl FaqId {
    /// The id of a topic being loaded.
    pub(super) fn intern(id: &str) -> FaqId {
        let id = intern(id);
        IDS.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id);
        FaqId(id)
    }

    /// The id, if some catalogue loaded in this process has a topic by this
    /// name (callback data is checked against the live catalogue later).
    pub fn known(id: &str) -> Option<FaqId> {
        let set = IDS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        set.get(id).map(|s| FaqId(s))
    }

    /// Its answer's message id (`faq-<id>`, `_` as `-`).
    pub fn answer(self) -> &'static str {
        intern(&format!("faq-{}", self.0.replace('_', "-")))
    }

    /// Its label's message id (`btn-faq-<id>`, `_` as `-`).
    pub fn label(self) -> &'static str {
        intern(&format!("btn-faq-{}", self.0.replace('_', "-")))
    }

    /// The id as text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for FaqId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
