//! Where settings come from: the file (`--config`, `POSDESK_CONFIG`, or
//! `posdesk.toml` when present), `POSDESK_<SECTION>__<KEY>` variables and
//! their aliases, and `<VAR>_FILE` variables naming a file that holds the
//! value (systemd credentials, Docker and Kubernetes secrets).
//!
//! Every key is checked against the known set (the keys of
//! `Settings::default()`): an unknown key or `POSDESK_` variable is an error
//! with a "did you mean" hint, because a silently ignored typo is how an
//! allow-list ends up empty. Values from the environment take the type of
//! the key they set (an all-digit secret stays a string). Each leaf remembers
//! its source for `posdesk config check`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{ConfigError, Settings};

/// Variables that name other things than keys and are never errors.
const NOT_KEYS: [&str; 3] = ["POSDESK_CONFIG", "POSDESK_TEST_", "POSDESK_LOADGEN_"];

/// Variables read besides `POSDESK_<SECTION>__<KEY>`, and the key each sets.
const ALIASES: [(&str, &str); 3] = [
    ("DATABASE_URL", "database.url"),
    ("TELOXIDE_TOKEN", "telegram.token"),
    ("TELOXIDE_API_URL", "telegram.api_url"),
];

/// Where one effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Nobody set it.
    Default,
    /// The config file, at this line.
    File {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
    },
    /// An environment variable (its name; `X_FILE` when read from a file).
    Env(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File { path, line } => write!(f, "file {path}:{line}"),
            Source::Env(var) => write!(f, "env {var}"),
        }
    }
}

/// Settings with the source of each key and the file they were read from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The checked settings.
    pub settings: Settings,
    /// Every known key (dotted, e.g. `otp.max_attempts`) and its source.
    pub sources: BTreeMap<String, Source>,
    /// The config file read, if any.
    pub file: Option<PathBuf>,
}

impl Loaded {
    /// The effective configuration, one `key = value  # source` a line, with
    /// secrets redacted (and a database URL's password masked).
    pub fn render(&self) -> String {
        let mut leaves = BTreeMap::new();
        if let Ok(toml::Value::Table(root)) = toml::Value::try_from(&self.settings) {
            collect_leaves(&root, "", &mut leaves);
        }
        let mut out = String::new();
        for (key, value) in &leaves {
            let shown = match (key.as_str(), value) {
                ("database.url", toml::Value::String(url)) => {
                    toml::Value::String(redact_url(url)).to_string()
                }
                _ => value.to_string(),
            };
            let source = self.sources.get(key).cloned().unwrap_or(Source::Default);
            out.push_str(&format!("{key} = {shown}  # {source}\n"));
        }
        out
    }
}

/// A database URL with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail)) => match head.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://***@{tail}"),
            None => format!("***@{tail}"),
        },
        None => url.to_string(),
    }
}

/// Reads the config file the command line, `POSDESK_CONFIG` or the working
/// directory names, then overlays `env`. A file named explicitly must exist.
pub fn load(path: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Loaded, ConfigError> {
    let (file, named_by) = match (path, env.get("POSDESK_CONFIG")) {
        (Some(path), _) => (Some(path.to_path_buf()), Some("--config")),
        (None, Some(path)) if !path.is_empty() => {
            (Some(PathBuf::from(path)), Some("POSDESK_CONFIG"))
        }
        _ => {
            let default = PathBuf::from("posdesk.toml");
            (default.exists().then_some(default), None)
        }
    };
    let Some(file) = file else {
        return from_text("config", "", env);
    };
    let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
        path: match named_by {
            Some(by) => format!("{} (named by {by})", file.display()),
            None => file.display().to_string(),
        },
        source,
    })?;
    let mut loaded = from_text(&file.display().to_string(), &text, env)?;
    loaded.file = Some(file);
    Ok(loaded)
}

/// Parses TOML `text` (named `origin` in messages) and overlays `env`.
pub fn from_text(
    origin: &str,
    text: &str,
    env: &BTreeMap<String, String>,
) -> Result<Loaded, ConfigError> {
    let known = known_keys();
    let mut root: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| located(origin, text, &e, &BTreeMap::new()))?;
    let lines = key_lines(text);
    let mut sources: BTreeMap<String, Source> =
        known.keys().map(|k| (k.clone(), Source::Default)).collect();
    let mut file_keys = Vec::new();
    check_table(&root, "", &known, &mut file_keys).map_err(|unknown| {
        let line = lines
            .get(&unknown)
            .map(|l| format!(", line {l}"))
            .unwrap_or_default();
        ConfigError::Invalid(format!(
            "unknown key `{unknown}` in {origin}{line}{}",
            hint(&unknown, known.keys().map(String::as_str))
        ))
    })?;
    // Type errors of the file alone keep their line, column and key.
    toml::from_str::<Settings>(text).map_err(|e| located(origin, text, &e, &lines))?;
    for key in file_keys {
        let line = lines.get(&key).copied().unwrap_or(0);
        sources.insert(
            key,
            Source::File {
                path: origin.to_string(),
                line,
            },
        );
    }
    for (var, key, raw) in env_values(env, &known)? {
        let Some(default) = known.get(&key) else {
            continue;
        };
        let value = typed(&var, &key, &raw, default)?;
        // Range and shape errors of this one value name the variable.
        let mut alone = toml::Table::new();
        set_path(&mut alone, &key, value.clone());
        toml::Value::Table(alone)
            .try_into::<Settings>()
            .map_err(|e| ConfigError::Invalid(format!("{var} ({key}): {}", e.message())))?;
        set_path(&mut root, &key, value);
        sources.insert(key, Source::Env(var));
    }
    let settings: Settings = toml::Value::Table(root)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_string()))?;
    settings.derive()?;
    Ok(Loaded {
        settings,
        sources,
        file: None,
    })
}

/// Every leaf key of the defaults with its default value (which gives its
/// type).
fn known_keys() -> BTreeMap<String, toml::Value> {
    let mut out = BTreeMap::new();
    if let Ok(toml::Value::Table(root)) = toml::Value::try_from(Settings::default()) {
        collect_leaves(&root, "", &mut out);
    }
    out
}

fn collect_leaves(table: &toml::Table, prefix: &str, out: &mut BTreeMap<String, toml::Value>) {
    for (k, v) in table {
        let path = join(prefix, k);
        match v {
            toml::Value::Table(t) => collect_leaves(t, &path, out),
            other => {
                out.insert(path, other.clone());
            }
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Walks the file's keys; the first unknown one is the error.
fn check_table(
    table: &toml::Table,
    prefix: &str,
    known: &BTreeMap<String, toml::Value>,
    found: &mut Vec<String>,
) -> Result<(), String> {
    for (k, v) in table {
        let path = join(prefix, k);
        if known.contains_key(&path) {
            found.push(path);
            continue;
        }
        let section = format!("{path}.");
        match v {
            toml::Value::Table(t) if known.keys().any(|key| key.starts_with(&section)) => {
                check_table(t, &path, known, found)?
            }
            _ => return Err(path),
        }
    }
    Ok(())
}

/// "; did you mean `x`?" for the closest candidate, if one is close.
fn hint<'a>(given: &str, candidates: impl Iterator<Item = &'a str> + Clone) -> String {
    let distance = |a: &str, b: &str| {
        strsim::damerau_levenshtein(&a.to_ascii_lowercase(), &b.to_ascii_lowercase())
    };
    let limit = (given.len() / 4).max(2);
    let best = candidates
        .clone()
        .map(|c| (distance(given, c), c))
        .min()
        .filter(|(d, _)| *d <= limit)
        .or_else(|| {
            // A key in the wrong section: compare the last segments.
            let tail = given.rsplit('.').next().unwrap_or(given);
            candidates
                .map(|c| (distance(tail, c.rsplit('.').next().unwrap_or(c)), c))
                .min()
                .filter(|(d, _)| *d <= 1)
        });
    match best {
        Some((_, c)) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

/// The environment variable that sets `key`.
pub fn env_name(key: &str) -> String {
    format!("POSDESK_{}", key.replace('.', "__").to_ascii_uppercase())
}

/// `(variable, key, raw value)` for every variable that sets a key, with
/// `<VAR>_FILE` variables read. Unknown `POSDESK_` variables are errors.
fn env_values(
    env: &BTreeMap<String, String>,
    known: &BTreeMap<String, toml::Value>,
) -> Result<Vec<(String, String, String)>, ConfigError> {
    let key_of = |var: &str| -> Option<String> {
        if let Some((_, key)) = ALIASES.iter().find(|(alias, _)| *alias == var) {
            return Some(key.to_string());
        }
        let rest = var.strip_prefix("POSDESK_")?;
        let key = rest
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(".");
        known.contains_key(&key).then_some(key)
    };
    let mut out = Vec::new();
    for (var, value) in env {
        if NOT_KEYS.iter().any(|p| var.starts_with(p)) {
            continue;
        }
        if let Some(key) = key_of(var) {
            if env.contains_key(&format!("{var}_FILE")) {
                return Err(ConfigError::Invalid(format!(
                    "both {var} and {var}_FILE are set: keep one"
                )));
            }
            out.push((var.clone(), key, value.clone()));
            continue;
        }
        if let Some(base) = var.strip_suffix("_FILE")
            && let Some(key) = key_of(base)
        {
            let text = std::fs::read_to_string(value)
                .map_err(|e| ConfigError::Invalid(format!("{var}: cannot read {value:?}: {e}")))?;
            // A file written by `echo` ends with a newline that is not part
            // of the secret.
            let text = text.trim_end_matches(['\n', '\r']).to_string();
            out.push((var.clone(), key, text));
            continue;
        }
        if var.starts_with("POSDESK_") {
            let names: Vec<String> = known
                .keys()
                .map(|k| env_name(k))
                .chain(ALIASES.iter().map(|(a, _)| a.to_string()))
                .collect();
            let base = var.strip_suffix("_FILE").unwrap_or(var);
            return Err(ConfigError::Invalid(format!(
                "unknown environment variable {var} (keys are POSDESK_<SECTION>__<KEY>, with two underscores){}",
                hint(base, names.iter().map(String::as_str))
            )));
        }
    }
    Ok(out)
}

/// A variable's text as a value of the key's type.
fn typed(
    var: &str,
    key: &str,
    raw: &str,
    default: &toml::Value,
) -> Result<toml::Value, ConfigError> {
    let bad = |what: &str| ConfigError::Invalid(format!("{var} = {raw:?} ({key}) must be {what}"));
    Ok(match default {
        toml::Value::String(_) => toml::Value::String(raw.to_string()),
        toml::Value::Integer(_) => {
            toml::Value::Integer(raw.trim().parse().map_err(|_| bad("a whole number"))?)
        }
        toml::Value::Float(_) => {
            toml::Value::Float(raw.trim().parse().map_err(|_| bad("a number"))?)
        }
        toml::Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" => toml::Value::Boolean(true),
            "false" => toml::Value::Boolean(false),
            _ => return Err(bad("true or false")),
        },
        toml::Value::Array(_) => match format!("v = {raw}").parse::<toml::Table>() {
            Ok(mut t) => match t.remove("v") {
                Some(v @ toml::Value::Array(_)) => v,
                _ => return Err(bad("a TOML array, e.g. [1, 2]")),
            },
            Err(_) => return Err(bad("a TOML array, e.g. [1, 2]")),
        },
        _ => toml::Value::String(raw.to_string()),
    })
}

fn set_path(root: &mut toml::Table, key: &str, value: toml::Value) {
    let parts: Vec<&str> = key.split('.').collect();
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut table = root;
    for part in parents {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        table = next;
    }
    table.insert(last.to_string(), value);
}

/// The line (1-based) each dotted key is written on, from the text: section
/// headers and `key = value` lines (enough for messages and sources).
fn key_lines(text: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let mut section = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            if let Some(name) = header.split(']').next() {
                section = clean_key(name);
                out.entry(section.clone()).or_insert(i + 1);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            let plain = key.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'' | ' ')
            });
            if plain && !key.is_empty() {
                out.entry(join(&section, &clean_key(key))).or_insert(i + 1);
            }
        }
    }
    out
}

fn clean_key(raw: &str) -> String {
    raw.split('.')
        .map(|p| p.trim().trim_matches(['"', '\'']))
        .collect::<Vec<_>>()
        .join(".")
}

/// A TOML error as "origin, line L, column C (key): message".
fn located(
    origin: &str,
    text: &str,
    error: &toml::de::Error,
    lines: &BTreeMap<String, usize>,
) -> ConfigError {
    let Some(span) = error.span() else {
        return ConfigError::Invalid(format!("{origin}: {}", error.message()));
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let key = lines
        .iter()
        .filter(|(_, l)| **l == line)
        .map(|(k, _)| k.as_str())
        .max_by_key(|k| k.len())
        .map(|k| format!(" ({k})"))
        .unwrap_or_default();
    ConfigError::Invalid(format!(
        "{origin}, line {line}, column {column}{key}: {}",
        error.message().trim_end()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn error(text: &str, vars: &[(&str, &str)]) -> String {
        match from_text("posdesk.toml", text, &env(vars)) {
            Ok(_) => panic!("accepted: {text:?} {vars:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors_with_a_hint() {
        for (text, line, hint) in [
            ("[telegram]\ntokne = \"x\"\n", "line 2", "telegram.token"),
            (
                "[telegram]\nwebhok_secret = \"x\"\n",
                "line 2",
                "telegram.webhook_secret",
            ),
            ("[otp]\nmax_attempt = 3\n", "line 2", "otp.max_attempts"),
            (
                "\n[support]\nstaff_user_id = [1]\n",
                "line 3",
                "support.staff_user_ids",
            ),
        ] {
            let e = error(text, &[]);
            assert!(e.contains("unknown key"), "{e}");
            assert!(e.contains(line), "{e}");
            assert!(e.contains(&format!("did you mean `{hint}`")), "{e}");
        }
    }

    #[test]
    fn unknown_posdesk_variables_are_errors_with_a_hint() {
        let e = error("", &[("POSDESK_TELEGRAM_TOKEN", "1:x")]);
        assert!(e.contains("POSDESK_TELEGRAM_TOKEN"), "{e}");
        assert!(e.contains("did you mean `POSDESK_TELEGRAM__TOKEN`"), "{e}");
        let e = error("", &[("POSDESK_OTP__MAX_ATTEMPT", "3")]);
        assert!(
            e.contains("did you mean `POSDESK_OTP__MAX_ATTEMPTS`"),
            "{e}"
        );
        // Variables of the tests and tools are not keys.
        from_text("x", "", &env(&[("POSDESK_TEST_BACKEND", "postgres")])).expect("ignored"); // ok: a test; failing loudly is the point
        from_text("x", "", &env(&[("POSDESK_CONFIG", "/nonexistent")])).expect("ignored"); // ok: a test; failing loudly is the point
    }

    #[test]
    fn toml_errors_keep_line_column_and_key() {
        let e = error("brand = \"x\"\n[otp]\nmax_attempts = \"three\"\n", &[]);
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("column"), "{e}");
        assert!(e.contains("otp.max_attempts"), "{e}");
        let e = error("[otp\n", &[]);
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn env_values_take_the_type_of_their_key() {
        let loaded = from_text(
            "x",
            "",
            &env(&[
                ("POSDESK_HTTP__API_TOKEN", "123456"),
                ("POSDESK_BRAND", "true"),
                ("POSDESK_OTP__MAX_ATTEMPTS", "7"),
            ]),
        )
        .expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(loaded.settings.http.api_token.expose(), "123456");
        assert_eq!(loaded.settings.brand, "true");
        assert_eq!(loaded.settings.otp.max_attempts, 7);
        let e = error("", &[("POSDESK_OTP__MAX_ATTEMPTS", "seven")]);
        assert!(
            e.contains("POSDESK_OTP__MAX_ATTEMPTS") && e.contains("whole number"),
            "{e}"
        );
        let e = error("", &[("POSDESK_OTP__MAX_ATTEMPTS", "-1")]);
        assert!(e.contains("POSDESK_OTP__MAX_ATTEMPTS"), "{e}");
    }

    #[test]
    fn file_variables_read_secrets_and_sources_are_kept() {
        let dir = tempfile::tempdir().expect("temp dir"); // ok: a test; failing loudly is the point
        let secret = dir.path().join("token");
        std::fs::write(&secret, "42:from-a-file\n").expect("write"); // ok: a test; failing loudly is the point
        let vars = env(&[
            ("TELOXIDE_TOKEN_FILE", secret.to_str().expect("utf-8")), // ok: a test; failing loudly is the point
            ("POSDESK_UNBIND__SLA_HOURS", "72"),
        ]);
        let loaded = from_text("posdesk.toml", "brand = \"Acme\"\n", &vars).expect("valid"); // ok: a test; failing loudly is the point
        assert_eq!(loaded.settings.telegram.token.expose(), "42:from-a-file");
        assert_eq!(
            loaded.sources["telegram.token"],
            Source::Env("TELOXIDE_TOKEN_FILE".into())
        );
        assert_eq!(
            loaded.sources["brand"],
            Source::File {
                path: "posdesk.toml".into(),
                line: 1
            }
        );
        assert_eq!(loaded.sources["otp.digits"], Source::Default);
        let shown = loaded.render();
        assert!(!shown.contains("from-a-file"), "{shown}");
        assert!(
            shown.contains("telegram.token = \"<redacted>\"  # env TELOXIDE_TOKEN_FILE"),
            "{shown}"
        );
        assert!(
            shown.contains("unbind.sla_hours = 72  # env POSDESK_UNBIND__SLA_HOURS"),
            "{shown}"
        );
        let missing = env(&[("POSDESK_OTP__WEBHOOK_SECRET_FILE", "/nonexistent/secret")]);
        let e = from_text("x", "", &missing).expect_err("unreadable");
        assert!(
            e.to_string().contains("POSDESK_OTP__WEBHOOK_SECRET_FILE"),
            "{e}"
        );
        let both = env(&[("TELOXIDE_TOKEN", "1"), ("TELOXIDE_TOKEN_FILE", "/x")]);
        assert!(from_text("x", "", &both).is_err());
    }

    #[test]
    fn an_explicit_config_file_must_exist() {
        let e = load(
            Some(Path::new("/nonexistent/posdesk.toml")),
            &BTreeMap::new(),
        )
        .expect_err("missing");
        assert!(e.to_string().contains("/nonexistent/posdesk.toml"), "{e}");
        let vars = env(&[("POSDESK_CONFIG", "/nonexistent/other.toml")]);
        let e = load(None, &vars).expect_err("missing");
        assert!(e.to_string().contains("POSDESK_CONFIG"), "{e}");
    }

    #[test]
    fn database_passwords_are_masked() {
        let vars = env(&[("DATABASE_URL", "postgres://bot:hunter2@db/posdesk")]);
        let shown = from_text("x", "", &vars).expect("valid").render(); // ok: a test; failing loudly is the point
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://***@db/posdesk"), "{shown}");
    }
}
