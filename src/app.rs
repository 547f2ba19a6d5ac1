//! Wiring shared by the binary's commands: texts, rules, store, delivery,
//! engine.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::Error;
use crate::config::Settings;
use crate::delivery::{LogDelivery, NoDelivery, OtpDelivery, WebhookDelivery};
use crate::domain::Lang;
use crate::engine::Engine;
use crate::faq::{Catalogue, FaqError};
use crate::i18n::Texts;
use crate::intents::{Classifier, Normaliser, Training};
use crate::storage::Store;

/// The built-in intent rules, `(name, toml)`.
pub const BUILTIN_RULES: [(&str, &str); 2] = [
    (
        "locales/zh-CN/intents.toml",
        include_str!("../locales/zh-CN/intents.toml"),
    ),
    (
        "locales/en/intents.toml",
        include_str!("../locales/en/intents.toml"),
    ),
];

/// The built-in traditional-to-simplified table.
pub const BUILTIN_T2S: &str = include_str!("../locales/zh-CN/t2s.tsv");

/// The built-in FAQ catalogue.
pub const BUILTIN_FAQ: &str = include_str!("../locales/faq.toml");

/// The built-in FAQ catalogue, parsed.
pub fn builtin_faq() -> Result<Catalogue, FaqError> {
    Catalogue::parse("locales/faq.toml", BUILTIN_FAQ)
}

/// The built-in labelled phrasings the statistical model learns from.
pub const BUILTIN_PHRASINGS: &str = include_str!("../locales/phrasings.tsv");

/// The classifier from the built-in rules and phrasings, or from
/// `i18n.locales_dir`.
pub fn load_classifier(settings: &Settings) -> Result<Classifier, Error> {
    // The model trains on a thread of its own while the rules compile.
    if settings.i18n.locales_dir.is_empty() {
        let faq = builtin_faq()?;
        let training = Training::start(
            &Normaliser::from_tsv(BUILTIN_T2S),
            &faq,
            "locales/phrasings.tsv",
            BUILTIN_PHRASINGS,
        )?;
        return Ok(
            Classifier::from_sources(&BUILTIN_RULES, BUILTIN_T2S, faq)?.with_training(training)
        );
    }
    let dir = Path::new(&settings.i18n.locales_dir);
    let read = |rel: &str| {
        std::fs::read_to_string(dir.join(rel))
            .map_err(|e| Error::Runtime(format!("cannot read {}: {e}", dir.join(rel).display())))
    };
    let faq = Catalogue::parse("faq.toml", &read("faq.toml")?)?;
    let zh = read("zh-CN/intents.toml")?;
    let en = read("en/intents.toml")?;
    let t2s = read("zh-CN/t2s.tsv")?;
    let phrasings = read("phrasings.tsv")?;
    let training = Training::start(
        &Normaliser::from_tsv(&t2s),
        &faq,
        "phrasings.tsv",
        &phrasings,
    )?;
    Ok(Classifier::from_sources(
        &[("zh-CN/intents.toml", &zh), ("en/intents.toml", &en)],
        &t2s,
        faq,
    )?
    .with_training(training))
}

/// Every problem of the FAQ catalogue against the texts and the rules, one
/// a line (empty: all good). Start-up refuses a catalogue with problems.
pub fn faq_problems(settings: &Settings, texts: &Texts, classifier: &Classifier) -> Vec<String> {
    let faq = classifier.faq();
    let languages: Vec<&str> = Lang::ALL.iter().map(|l| l.as_str()).collect();
    faq.check_against(
        &languages,
        |lang, id| Lang::parse(lang).is_some_and(|l| texts.has(l, id)),
        |lang, topic| {
            let Some(lang) = Lang::parse(lang) else {
                return Ok(());
            };
            texts
                .try_render(lang, &crate::conversation::topic_answer(topic, settings))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        |id| classifier.rule_languages(crate::intents::Intent::Faq(id)),
    )
}

/// The texts, built in or from `i18n.locales_dir`.
pub fn load_texts(settings: &Settings) -> Result<Texts, Error> {
    let dir =
        (!settings.i18n.locales_dir.is_empty()).then(|| Path::new(&settings.i18n.locales_dir));
    Ok(Texts::load(dir)?)
}

/// Connects and migrates.
pub async fn open_store(settings: &Settings) -> Result<Store, Error> {
    let store = Store::connect(&settings.database.url, settings.database.max_connections).await?;
    store.migrate().await?;
    Ok(store)
}

/// The code delivery the settings ask for.
pub fn delivery_for(settings: &Settings) -> Result<Arc<dyn OtpDelivery>, Error> {
    Ok(match settings.otp.delivery.as_str() {
        "webhook" => Arc::new(
            WebhookDelivery::new(
                settings.otp.webhook_url.clone(),
                settings.otp.webhook_secret.clone(),
                Duration::from_secs(settings.otp.webhook_timeout_seconds.max(1)),
            )
            .map_err(|e| Error::Runtime(e.to_string()))?,
        ),
        "log" => Arc::new(LogDelivery),
        _ => Arc::new(NoDelivery),
    })
}

/// The whole engine over a migrated store.
pub async fn build_engine(
    settings: Settings,
    store: Store,
    delivery: Arc<dyn OtpDelivery>,
) -> Result<Arc<Engine>, Error> {
    let content = load_content(&settings)?;
    build_engine_with(settings, store, delivery, content).await
}

/// The texts and the classifier, checked against each other (the model
/// starts training on a thread of its own: load this first, open the
/// store while it trains).
pub fn load_content(settings: &Settings) -> Result<(Texts, Classifier), Error> {
    let classifier = load_classifier(settings)?;
    let texts = load_texts(settings)?;
    let problems = faq_problems(settings, &texts, &classifier);
    if !problems.is_empty() {
        return Err(Error::Faq(problems.join("\n")));
    }
    Ok((texts, classifier))
}

/// The whole engine over a migrated store, with content already loaded.
pub async fn build_engine_with(
    settings: Settings,
    store: Store,
    delivery: Arc<dyn OtpDelivery>,
    (texts, classifier): (Texts, Classifier),
) -> Result<Arc<Engine>, Error> {
    Engine::new(store, settings, texts, classifier, delivery).await
}
