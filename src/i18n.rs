//! Fluent bundles for every language and rendering of [`Msg`]s and
//! [`Outgoing`] messages to Telegram HTML.
//!
//! The texts are compiled in from locales/; `i18n.locales_dir` replaces them
//! at start-up without a rebuild. Arguments are HTML-escaped; the texts
//! themselves may use `<b>`, `<i>` and `<code>`.

use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use crate::conversation::{Arg, Msg, Outgoing};
use crate::domain::Lang;

/// The built-in texts.
pub const BUILTIN_FTL: [(Lang, &str, &str); 2] = [
    (
        Lang::ZhCn,
        include_str!("../locales/zh-CN/posdesk.ftl"),
        include_str!("../locales/zh-CN/channels.ftl"),
    ),
    (
        Lang::En,
        include_str!("../locales/en/posdesk.ftl"),
        include_str!("../locales/en/channels.ftl"),
    ),
];

/// The files of one language, in load order.
pub const FTL_FILES: [&str; 2] = ["posdesk.ftl", "channels.ftl"];

/// A problem loading or rendering texts.
#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file has syntax errors.
    #[error("{lang}: the locale file has {count} syntax error(s), first near: {first}")]
    Syntax {
        /// Language.
        lang: Lang,
        /// Number of errors.
        count: usize,
        /// Where.
        first: String,
    },
    /// A message id is missing.
    #[error("{lang}: message {id:?} is missing")]
    Missing {
        /// Language.
        lang: Lang,
        /// The id.
        id: String,
    },
    /// Rendering reported errors (e.g. an unknown variable).
    #[error("{lang}: message {id:?}: {detail}")]
    Render {
        /// Language.
        lang: Lang,
        /// The id.
        id: String,
        /// Fluent's complaint.
        detail: String,
    },
}

/// A rendered message: HTML text and button rows of (label, callback data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rendered {
    /// Telegram HTML.
    pub html: String,
    /// Buttons.
    pub buttons: Vec<Vec<(String, String)>>,
}

/// The texts of every language.
pub struct Texts {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
}

impl Texts {
    /// The built-in texts, or those of `dir` (laid out like locales/) if given.
    pub fn load(dir: Option<&Path>) -> Result<Texts, I18nError> {
        let mut sources = Vec::new();
        for (lang, main, console) in BUILTIN_FTL {
            let text = match dir {
                Some(dir) => {
                    let mut text = String::new();
                    for file in FTL_FILES {
                        let path = dir.join(lang.as_str()).join(file);
                        let part =
                            std::fs::read_to_string(&path).map_err(|source| I18nError::Read {
                                path: path.display().to_string(),
                                source,
                            })?;
                        text.push_str(&part);
                        text.push('\n');
                    }
                    text
                }
                None => format!("{main}\n{console}"),
            };
            sources.push((lang, text));
        }
        Texts::from_sources(sources)
    }

    /// Builds bundles from `(lang, ftl text)`.
    pub fn from_sources(sources: Vec<(Lang, String)>) -> Result<Texts, I18nError> {
        let mut bundles = Vec::new();
        for (lang, text) in sources {
            let resource =
                FluentResource::try_new(text).map_err(|(_, errors)| I18nError::Syntax {
                    lang,
                    count: errors.len(),
                    first: errors.first().map(|e| format!("{e:?}")).unwrap_or_default(),
                })?;
            let id: LanguageIdentifier = lang.as_str().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| I18nError::Syntax {
                    lang,
                    count: errors.len(),
                    first: errors.first().map(|e| format!("{e:?}")).unwrap_or_default(),
                })?;
            bundles.push((lang, bundle));
        }
        Ok(Texts { bundles })
    }

    fn bundle(&self, lang: Lang) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, b)| b)
    }

    /// Whether `id` exists in `lang`.
    pub fn has(&self, lang: Lang, id: &str) -> bool {
        self.bundle(lang).is_some_and(|b| b.has_message(id))
    }

    /// Renders one message strictly: any Fluent error is an error.
    pub fn try_render(&self, lang: Lang, msg: &Msg) -> Result<String, I18nError> {
        Ok(self.format(lang, msg)?.trim().to_string())
    }

    /// [`Texts::try_render`] without trimming (a separator keeps its space).
    fn format(&self, lang: Lang, msg: &Msg) -> Result<String, I18nError> {
        let bundle = self.bundle(lang).ok_or_else(|| I18nError::Missing {
            lang,
            id: msg.id.to_string(),
        })?;
        let pattern = bundle
            .get_message(msg.id)
            .and_then(|m| m.value())
            .ok_or_else(|| I18nError::Missing {
                lang,
                id: msg.id.to_string(),
            })?;
        let mut args = FluentArgs::new();
        for (name, value) in &msg.args {
            let value = match value {
                Arg::Str(s) => FluentValue::from(escape_html(s)),
                Arg::Num(n) => FluentValue::from(*n),
                Arg::Ref(id) => FluentValue::from(self.try_render(lang, &Msg::new(id))?),
                Arg::Msg(inner) => FluentValue::from(self.try_render(lang, inner)?),
                Arg::List(items) => {
                    let separator = self.format(lang, &Msg::new("list-separator"))?;
                    let rendered = items
                        .iter()
                        .map(|item| self.try_render(lang, item))
                        .collect::<Result<Vec<_>, _>>()?;
                    FluentValue::from(rendered.join(&separator))
                }
            };
            args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = bundle
            .format_pattern(pattern, Some(&args), &mut errors)
            .into_owned();
        if let Some(first) = errors.first() {
            return Err(I18nError::Render {
                lang,
                id: msg.id.to_string(),
                detail: format!("{first:?}"),
            });
        }
        Ok(text)
    }

    /// Renders one message; a missing text falls back to the other language,
    /// then to the id, and is logged, so a merchant always gets an answer.
    pub fn render(&self, lang: Lang, msg: &Msg) -> String {
        match self.try_render(lang, msg) {
            Ok(text) => text,
            Err(error) => {
                tracing::error!(%error, "text rendering failed");
                Lang::ALL
                    .into_iter()
                    .filter(|l| *l != lang)
                    .find_map(|l| self.try_render(l, msg).ok())
                    .unwrap_or_else(|| msg.id.to_string())
            }
        }
    }

    /// Renders a whole outgoing message.
    pub fn render_outgoing(&self, lang: Lang, out: &Outgoing) -> Rendered {
        let html = out
            .parts
            .iter()
            .map(|m| self.render(lang, m))
            .collect::<Vec<_>>()
            .join("\n\n");
        let buttons = out
            .keyboard
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| (strip_html(&self.render(lang, &b.label)), b.data.to_data()))
                    .collect()
            })
            .collect();
        Rendered { html, buttons }
    }
}

/// Escapes `&`, `<`, `>` and `"` for Telegram HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Telegram HTML to plain text: tags dropped, entities decoded.
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_strips() {
        assert_eq!(escape_html("<b>&"), "&lt;b&gt;&amp;");
        assert_eq!(strip_html("<b>A &amp; B</b> &lt;x&gt;"), "A & B <x>");
    }

    #[test]
    fn arguments_are_escaped_and_not_isolated() {
        let texts = Texts::from_sources(vec![(Lang::En, "hi = Hello <b>{ $name }</b>".into())])
            .expect("valid"); // ok: a test; failing loudly is the point
        let out = texts
            .try_render(Lang::En, &Msg::new("hi").arg("name", "<script>"))
            .expect("renders"); // ok: a test; failing loudly is the point
        assert_eq!(out, "Hello <b>&lt;script&gt;</b>");
        assert!(texts.try_render(Lang::En, &Msg::new("nope")).is_err());
        assert!(texts.try_render(Lang::En, &Msg::new("hi")).is_err());
    }
}
