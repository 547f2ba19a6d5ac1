//! Nothing secret typed by a merchant reaches the log or the disk: the real
//! `posdesk` binary runs as a subprocess with `RUST_LOG=debug` (SQLite with
//! long polling; PostgreSQL with the webhook), a merchant types card numbers
//! split by every kind of separator, a password and a one-time code, then
//! the whole log and every byte of the database (SQLite: the file, its WAL
//! and shared-memory file; PostgreSQL: a `pg_dump`) are searched for them.

use std::process::Stdio;
use std::time::Duration;

use posdesk::redact::luhn_valid;
use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::fake_bot_api::FakeBotApi;
use crate::helpers::{MERCHANT, STAFF_CHAT, WEBHOOK_SECRET};
use crate::sms_gateway::{SECRET, SmsGateway};

const USER: i64 = 4242;

/// A Luhn-valid 16-digit number from 15 digits.
fn card(first15: &str) -> String {
    (0..=9)
        .map(|check| format!("{first15}{check}"))
        .find(|c| luhn_valid(&c.bytes().map(|b| b - b'0').collect::<Vec<_>>()))
        .expect("one check digit fits")
}

/// `digits` in groups of four joined by `sep`.
fn grouped(digits: &str, sep: &str) -> String {
    digits
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(sep)
}

/// ASCII digits written in the script whose zero is `zero`.
fn in_script(digits: &str, zero: char) -> String {
    digits
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(zero as u32 + d).expect("a digit of the script"),
            None => c,
        })
        .collect()
}

/// The haystack with separators, escapes and non-ASCII digits taken out, so
/// a secret is found however it was split or encoded.
fn squeezed(text: &str) -> String {
    let unescaped = regex::Regex::new(r"\\(u[0-9a-fA-F]{4}|[nrt])")
        .expect("regex")
        .replace_all(text, " ");
    unescaped
        .chars()
        .filter_map(|c| {
            if c.is_ascii_digit() {
                return Some(c);
            }
            for zero in ['\u{ff10}', '\u{660}', '\u{6f0}', '\u{966}'] {
                let d = (c as u32).wrapping_sub(zero as u32);
                if d < 10 {
                    return char::from_digit(d, 10);
                }
            }
            let separator = c.is_whitespace()
                || matches!(
                    c,
                    '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '.' | '/' | '_' | '-'
                );
            if separator { None } else { Some('|') }
        })
        .collect()
}

/// What one run found.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.0.push(what.into());
        }
    }
}

/// The bot as a subprocess, with its stderr collected.
struct Bot {
    child: tokio::process::Child,
    log: tokio::task::JoinHandle<Vec<u8>>,
}

fn posdesk() -> tokio::process::Command {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_posdesk"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn bot_env(
    cmd: &mut tokio::process::Command,
    api: &FakeBotApi,
    sms: &SmsGateway,
    db_url: &str,
    http: u16,
) {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "debug")
        .env("TELOXIDE_TOKEN", "123456:TEST")
        .env("TELOXIDE_API_URL", &api.url)
        .env("DATABASE_URL", db_url)
        .env("POSDESK_TELEGRAM__THROTTLE", "false")
        .env("POSDESK_OTP__DELIVERY", "webhook")
        .env(
            "POSDESK_OTP__WEBHOOK_URL",
            format!("{}?api_key=KEY4711", sms.url),
        )
        .env("POSDESK_OTP__WEBHOOK_SECRET", SECRET)
        .env("POSDESK_SUPPORT__STAFF_CHAT_ID", STAFF_CHAT.to_string())
        .env("POSDESK_SUPPORT__HOURS", "Mon-Sun 00:00-24:00")
        .env("POSDESK_HTTP__LISTEN", format!("127.0.0.1:{http}"))
        .env("POSDESK_HTTP__API_TOKEN", "backoffice-token")
        .stdin(Stdio::null());
}

/// Imports merchants with one bad row holding a phone and a card number;
/// returns the command's output.
async fn import(api: &FakeBotApi, sms: &SmsGateway, db_url: &str, dir: &std::path::Path) -> String {
    let csv = dir.join("merchants.csv");
    let bad = "13987654321!,店,13987654321,6222 6000 1234 5678 003,银行\n";
    // A file without its header: the first line is a merchant's row.
    let headerless = "M555000111,店,13987654321,6222600012345678003,银行\n";
    let mut output = String::new();
    for text in [
        format!("{}{bad}", posdesk::merchants::DEMO_CSV),
        headerless.to_string(),
    ] {
        std::fs::write(&csv, text).expect("csv");
        let mut cmd = posdesk();
        bot_env(&mut cmd, api, sms, db_url, free_port());
        let out = cmd
            .arg("merchants")
            .arg("import")
            .arg(&csv)
            .output()
            .await
            .expect("run posdesk merchants import");
        output.push_str(&String::from_utf8_lossy(&out.stdout));
        output.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let _ = std::fs::remove_file(&csv);
    output
}

async fn start(api: &FakeBotApi, sms: &SmsGateway, db_url: &str, webhook: Option<u16>) -> Bot {
    let mut cmd = posdesk();
    bot_env(
        &mut cmd,
        api,
        sms,
        db_url,
        webhook.unwrap_or_else(free_port),
    );
    if webhook.is_some() {
        cmd.env("POSDESK_TELEGRAM__MODE", "webhook")
            .env(
                "POSDESK_TELEGRAM__WEBHOOK_URL",
                "http://127.0.0.1/telegram/webhook",
            )
            .env("POSDESK_TELEGRAM__WEBHOOK_SECRET", WEBHOOK_SECRET);
    }
    let mut child = cmd
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start posdesk run");
    let mut stderr = child.stderr.take().expect("stderr");
    let log = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    });
    Bot { child, log }
}

impl Bot {
    /// SIGTERM, then the whole log.
    async fn stop(mut self) -> String {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
        let _ = self.child.kill().await;
        String::from_utf8_lossy(&self.log.await.unwrap_or_default()).into_owned()
    }
}

/// Sends a merchant's text by polling or the webhook; returns its message id.
async fn type_text(api: &FakeBotApi, webhook: Option<u16>, text: &str) -> i64 {
    let Some(port) = webhook else {
        return api.merchant_text(USER, "zh-hans", text);
    };
    let update = api.merchant_text_update(USER, "zh-hans", text);
    let id = update
        .pointer("/message/message_id")
        .and_then(Value::as_i64)
        .expect("message id");
    post_update(port, &update).await;
    id
}

/// Posts an update to the bot's webhook until it is taken.
async fn post_update(port: u16, update: &Value) {
    let url = format!("http://127.0.0.1:{port}/telegram/webhook");
    for _ in 0..100 {
        let status = reqwest::Client::new()
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
            .json(update)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the webhook never took the update");
}

/// Types `text` and waits a few seconds for the bot's answer (none while
/// the old code relayed it to a ticket: the run goes on to the search).
async fn say(api: &FakeBotApi, webhook: Option<u16>, text: &str) -> (i64, String) {
    let before = api.sent_to(USER).len();
    let id = type_text(api, webhook, text).await;
    for _ in 0..50 {
        if let Some(reply) = api.sent_to(USER).get(before) {
            return (id, reply.text());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (id, "(no answer)".into())
}

/// Whether the bot deleted message `id` within a few seconds.
async fn deleted(api: &FakeBotApi, id: i64) -> bool {
    for _ in 0..50 {
        if api.calls().iter().any(|c| {
            c.method == "deleteMessage"
                && c.body.get("message_id").and_then(Value::as_i64) == Some(id)
        }) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// One run on one backend: types the secrets, stops the bot, returns what
/// leaked (empty when nothing did) and the haystack to search.
async fn run(
    db_url: &str,
    webhook: bool,
    findings: &mut Findings,
) -> (Vec<(String, String)>, String) {
    let api = FakeBotApi::start().await;
    let sms = SmsGateway::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut log = import(&api, &sms, db_url, dir.path()).await;
    let webhook = webhook.then(free_port);
    let bot = start(&api, &sms, db_url, webhook).await;
    // Wait for the bot to be up (it registers its commands first).
    api.wait_until(30, "setMyCommands", |calls| {
        calls.iter().any(|c| c.method == "setMyCommands")
    })
    .await;

    let cards: Vec<(String, String)> = vec![
        ("U+00A0", grouped(&card("622202123456789"), "\u{a0}")),
        ("U+200B", grouped(&card("621700001111567"), "\u{200b}")),
        ("U+2060", grouped(&card("436742000012345"), "\u{2060}")),
        ("dots", grouped(&card("625807123412341"), ".")),
        ("slashes", grouped(&card("601100998877665"), "/")),
        ("underscores", grouped(&card("356600112233445"), "_")),
        ("newlines", grouped(&card("622848765432101"), "\n")),
        ("U+202F", grouped(&card("400012341234123"), "\u{202f}")),
        ("U+3000", grouped(&card("622588776655443"), "\u{3000}")),
        (
            "Arabic-Indic",
            in_script(&grouped(&card("625911223344556"), " "), '\u{660}'),
        ),
        (
            "Extended Arabic-Indic",
            in_script(&card("621483001122334"), '\u{6f0}'),
        ),
        (
            "Devanagari",
            in_script(&grouped(&card("620522113344556"), "-"), '\u{966}'),
        ),
        (
            "full-width",
            in_script(&grouped(&card("622609876543210"), " "), '\u{ff10}'),
        ),
    ]
    .into_iter()
    .map(|(name, written)| (name.to_string(), written))
    .collect();
    let mut secrets: Vec<(String, String)> = Vec::new();
    for (name, written) in &cards {
        let (id, reply) = say(&api, webhook, &format!("我的卡号 {written} 帮我看看")).await;
        findings.check(
            deleted(&api, id).await,
            format!(
                "card number split by {name} was not deleted from the chat (reply: {})",
                reply
            ),
        );
        secrets.push((format!("card number split by {name}"), written.clone()));
    }

    let (id, reply) = say(&api, webhook, "密码 Mima#778899").await;
    findings.check(
        deleted(&api, id).await,
        format!(
            "a password was not deleted from the chat (reply: {})",
            reply
        ),
    );
    secrets.push(("password".into(), "Mima#778899".into()));
    secrets.push(("password digits".into(), "778899".into()));

    // The one-time code of an unbinding.
    say(&api, webhook, "/unbind").await;
    say(&api, webhook, MERCHANT).await;
    let mut received = None;
    for _ in 0..50 {
        received = sms.received().first().cloned();
        if received.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    match received {
        Some(sms) => {
            let code = sms.code();
            say(&api, webhook, &code).await;
            secrets.push(("one-time code".into(), code));
        }
        None => findings.check(false, "no one-time code was sent"),
    }

    // While a ticket is open: a card number and a PIN are deleted, never relayed.
    say(&api, webhook, "/human").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let relayed = |api: &FakeBotApi, id: i64| {
        api.calls().iter().any(|c| {
            c.method == "copyMessage"
                && c.body.get("message_id").and_then(Value::as_i64) == Some(id)
        })
    };
    let ticket_card = grouped(&card("628888000011112"), "\u{2007}");
    let (id, _) = say(&api, webhook, &format!("卡号：{ticket_card}")).await;
    findings.check(
        deleted(&api, id).await,
        "a card number during a ticket was not deleted",
    );
    findings.check(!relayed(&api, id), "a card number was relayed to staff");
    secrets.push(("card number during a ticket".into(), ticket_card));
    // A photo whose caption holds a card number.
    let caption_card = grouped(&card("622280112233445"), "\u{2002}");
    let mut update = api.merchant_text_update(USER, "zh-hans", "");
    let message = update["message"].as_object_mut().expect("a message");
    message.remove("text");
    message.insert(
        "caption".into(),
        serde_json::json!(format!("卡号 {caption_card}")),
    );
    message.insert(
        "photo".into(),
        serde_json::json!([{ "file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90 }]),
    );
    let id = message["message_id"].as_i64().expect("message id");
    match webhook {
        None => api.redeliver(update),
        Some(port) => post_update(port, &update).await,
    }
    findings.check(
        deleted(&api, id).await,
        "a photo captioned with a card number was not deleted",
    );
    findings.check(
        !relayed(&api, id),
        "a photo captioned with a card number was relayed to staff",
    );
    secrets.push(("card number in a caption".into(), caption_card));
    let command_card = grouped(&card("621226001234567"), " ");
    let (id, _) = say(&api, webhook, &format!("/start {command_card}")).await;
    findings.check(
        deleted(&api, id).await,
        "a command carrying a card number was not deleted",
    );
    findings.check(
        !relayed(&api, id),
        "a command carrying a card number was relayed to staff",
    );
    secrets.push(("card number after a command".into(), command_card));
    let (id, _) = say(&api, webhook, "my PIN is 73915046").await;
    findings.check(
        deleted(&api, id).await,
        "a PIN during a ticket was not deleted",
    );
    findings.check(!relayed(&api, id), "a PIN was relayed to staff");
    secrets.push(("PIN".into(), "73915046".into()));
    // An ordinary message is still relayed.
    let id = type_text(&api, webhook, "你好，请问解绑要多久").await;
    let mut ordinary_relayed = false;
    for _ in 0..50 {
        ordinary_relayed = relayed(&api, id);
        if ordinary_relayed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    findings.check(
        ordinary_relayed,
        "an ordinary message during a ticket was not relayed",
    );

    // The bad CSV row.
    secrets.push(("phone of a bad CSV row".into(), "13987654321".into()));
    secrets.push(("card of a bad CSV row".into(), "6222600012345678003".into()));
    secrets.push(("SMS gateway API key".into(), "KEY4711".into()));

    log.push_str(&bot.stop().await);
    // LEAK_TEST_LOG=FILE keeps the log for a look.
    if let Ok(path) = std::env::var("LEAK_TEST_LOG") {
        let _ = std::fs::write(
            format!(
                "{path}.{}",
                if webhook.is_some() {
                    "webhook"
                } else {
                    "polling"
                }
            ),
            &log,
        );
    }
    (secrets, log)
}

/// Searches `haystack` for each secret: as typed, as ASCII digits, and with
/// every separator and escape taken out.
fn search(where_: &str, haystack: &str, secrets: &[(String, String)], findings: &mut Findings) {
    let squeezed_haystack = squeezed(haystack);
    for (name, secret) in secrets {
        let digits = squeezed(secret);
        let digit_count = digits.chars().filter(char::is_ascii_digit).count();
        // A short number (a code, a PIN) counts only as a number of its own:
        // six digits turn up by chance inside timestamps and ids, and in a
        // squeezed dump where neighbouring numbers run together.
        let found = if secret.chars().all(|c| c.is_ascii_digit()) && digit_count < 12 {
            whole_number_in(haystack, secret)
        } else {
            haystack.contains(secret.as_str())
                || (digit_count >= 6
                    && !digits.contains('|')
                    && squeezed_haystack.contains(&digits))
        };
        findings.check(!found, format!("the {name} is in the {where_}"));
    }
}

/// Whether `number` occurs in `haystack` with no digit on either side.
fn whole_number_in(haystack: &str, number: &str) -> bool {
    haystack.match_indices(number).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + number.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// The log holds no SQL: sqlx's statement logging (which would carry the
/// values of script statements) is off at every level.
fn no_statements(where_: &str, log: &str, findings: &mut Findings) {
    for sql in ["sqlx::query", "INSERT INTO", "db.statement"] {
        findings.check(
            !log.contains(sql),
            format!("the {where_} holds SQL ({sql})"),
        );
    }
}

fn sqlite_bytes(path: &std::path::Path) -> String {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = format!("{}{suffix}", path.display());
        bytes.extend(std::fs::read(&file).unwrap_or_default());
        bytes.push(b'\n');
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn pg_dump(url: &str) -> String {
    let out = tokio::process::Command::new("pg_dump")
        .arg("--no-owner")
        .arg(url)
        .output()
        .await
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_a_merchant_types_in_secret_reaches_the_log_or_the_disk() {
    let mut findings = Findings::default();

    let (url, dir) = crate::backends::sqlite_url();
    let (secrets, log) = run(&url, false, &mut findings).await;
    assert!(log.contains("DEBUG"), "the bot logged at debug: {log}");
    search("SQLite log", &log, &secrets, &mut findings);
    no_statements("SQLite log", &log, &mut findings);
    let db = sqlite_bytes(&dir.path().join("posdesk.db"));
    assert!(db.contains("M100200300"), "the database file was read");
    eprintln!(
        "leak test, SQLite: {} log lines ({} at DEBUG), {} database bytes searched",
        log.lines().count(),
        log.matches("DEBUG").count(),
        db.len()
    );
    search("SQLite files", &db, &secrets, &mut findings);

    if let Some(url) = crate::backends::postgres_url("the leak test").await {
        let (secrets, log) = run(&url, true, &mut findings).await;
        search("PostgreSQL log", &log, &secrets, &mut findings);
        no_statements("PostgreSQL log", &log, &mut findings);
        let dump = pg_dump(&url).await;
        assert!(dump.contains("M100200300"), "the dump holds the data");
        eprintln!(
            "leak test, PostgreSQL: {} log lines ({} at DEBUG), {} dump bytes searched",
            log.lines().count(),
            log.matches("DEBUG").count(),
            dump.len()
        );
        search("PostgreSQL dump", &dump, &secrets, &mut findings);
    }

    assert!(
        findings.0.is_empty(),
        "secrets leaked:\n{}",
        findings.0.join("\n")
    );
}

/// An update read back from the inbox table (after a restart, or by another
/// replica) carries masks, not the secret: the core still deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_read_back_from_the_inbox_is_still_deleted() {
    let app = crate::helpers::TestApp::spawn().await;
    for (update_id, message_id, text, warning) in [
        (
            90_001,
            7001,
            format!("卡号 {}", grouped(&card("622202123456789"), "\u{a0}")),
            "银行卡号",
        ),
        (90_002, 7002, "密码 Mima#778899".to_string(), "密码"),
    ] {
        let body = serde_json::json!({
            "update_id": update_id,
            "message": {
                "message_id": message_id, "date": 1_700_000_000,
                "chat": crate::fake_bot_api::private_chat(USER),
                "from": crate::fake_bot_api::user(USER, "zh-hans"),
                "text": text,
            }
        })
        .to_string();
        let mut row = posdesk::telegram::inbox::row_from_json(body.as_bytes()).expect("an update");
        assert!(!row.payload.contains("Mima#778899") && !row.payload.contains("\u{a0}"));
        row.original = None;
        let before = app.api.sent_to(USER).len();
        app.engine.store.inbox_put(&[row], 0).await.expect("stored");
        let reply = app.api.nth_sent_to(USER, before + 1).await;
        assert!(reply.text().contains(warning), "{}", reply.text());
        assert!(
            deleted(&app.api, message_id).await,
            "message {message_id} deleted"
        );
    }
}
