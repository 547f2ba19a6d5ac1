//! Faults: Telegram errors, blocked chats, and SIGKILL at random points.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::fake_bot_api::{FakeBotApi, Faults};
use crate::helpers::TestApp;

/// The first button of a reply tells which input it answers.
fn kind(first_button: Option<&String>) -> &'static str {
    match first_button.map(String::as_str) {
        Some("menu:unbind") => "menu",
        Some("faq:verification_failed") => "faq",
        Some("lang:zh-CN") => "lang",
        _ => "other",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_arrive_in_order_despite_429_and_500() {
    let app = TestApp::spawn().await;
    app.api.set_faults(Faults {
        every_nth_429: 7,
        every_nth_500: 4,
        ..Faults::default()
    });
    let chats: Vec<i64> = (100..108).collect();
    for input in ["/start", "/faq", "/lang"] {
        for chat in &chats {
            app.api.merchant_text(*chat, "zh-hans", input);
        }
    }
    app.api
        .wait_until(90, "three replies in every chat", |_| {
            chats.iter().all(|c| app.api.sent_to(*c).len() >= 3)
        })
        .await;
    for chat in &chats {
        let kinds: Vec<&str> = app
            .api
            .sent_to(*chat)
            .iter()
            .map(|c| kind(c.buttons().first()))
            .collect();
        assert_eq!(kinds, vec!["menu", "faq", "lang"], "chat {chat}");
    }
    let failed = app
        .api
        .calls()
        .iter()
        .filter(|c| c.method.contains('!'))
        .count();
    assert!(failed >= 5, "faults were injected ({failed})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_that_blocked_the_bot_is_not_retried() {
    let app = TestApp::spawn().await;
    app.api.set_faults(Faults {
        blocked: [77].into_iter().collect(),
        ..Faults::default()
    });
    app.api.merchant_text(77, "zh-hans", "/start");
    app.api.merchant_text(77, "zh-hans", "/faq");
    app.say(78, "/start").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let attempts = app
        .api
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage!403")
        .count();
    // The first 403 drops what is queued for the chat; a reply committed
    // after that still gets its one attempt. Nothing is ever retried.
    assert!(
        (1..=2).contains(&attempts),
        "at most one attempt per message, then the chat's messages are dropped: {attempts}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = app
        .api
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage!403")
        .count();
    assert_eq!(later, attempts, "no retries");
    assert_eq!(
        app.engine
            .store
            .outbox_pending_count()
            .await
            .expect("count"),
        0
    );
}

fn spawn_bot(api: &FakeBotApi, db_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_posdesk"))
        .arg("run")
        .env("TELOXIDE_TOKEN", "123456:TEST")
        .env("TELOXIDE_API_URL", &api.url)
        .env("DATABASE_URL", db_url)
        .env("POSDESK_TELEGRAM__THROTTLE", "false")
        .env("POSDESK_HTTP__LISTEN", "127.0.0.1:0")
        .env("POSDESK_OTP__DELIVERY", "log")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start posdesk run")
}

fn random_ms(low: u64, high: u64) -> u64 {
    let bytes = posdesk::engine::random_bytes::<8>();
    low + u64::from_le_bytes(bytes) % (high - low)
}

/// Numbers of the last run are printed (docs/reliability.md quotes them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_no_reply_and_applies_no_update_twice() {
    let api = FakeBotApi::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("crash.db").display()
    );
    let chats: Vec<i64> = (1000..1150).collect();
    let inputs = ["/start", "/faq", "/lang"];
    for input in inputs {
        for chat in &chats {
            api.merchant_text(*chat, "zh-hans", input);
        }
    }
    let expected = chats.len() * inputs.len();
    let replies = |api: &FakeBotApi| chats.iter().map(|c| api.sent_to(*c).len()).sum::<usize>();
    let mut kills = 0;
    while kills < 8 && replies(&api) < expected {
        let mut bot = spawn_bot(&api, &db_url);
        tokio::time::sleep(Duration::from_millis(random_ms(60, 500))).await;
        let _ = bot.kill(); // SIGKILL
        let _ = bot.wait();
        kills += 1;
    }
    // A last run, stopped with SIGTERM once everything is out.
    let mut bot = spawn_bot(&api, &db_url);
    api.wait_until(60, "every reply", |_| replies(&api) >= expected)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = Command::new("kill")
        .args(["-TERM", &bot.id().to_string()])
        .status();
    let status = tokio::task::spawn_blocking(move || bot.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "SIGTERM exits 0: {status:?}");

    let mut lost = 0;
    let mut duplicates = 0;
    for chat in &chats {
        let kinds: Vec<&str> = api
            .sent_to(*chat)
            .iter()
            .map(|c| kind(c.buttons().first()))
            .collect();
        let mut deduped = kinds.clone();
        deduped.dedup();
        duplicates += kinds.len() - deduped.len();
        lost += inputs.len().saturating_sub(deduped.len());
        assert_eq!(
            deduped,
            vec!["menu", "faq", "lang"],
            "chat {chat}: order kept, nothing lost"
        );
    }
    eprintln!(
        "crash test: {} conversations, {expected} inputs, {kills} SIGKILLs, replies lost: {lost}, duplicates: {duplicates}",
        chats.len()
    );
    assert_eq!(lost, 0);
    // The Bot API has no idempotency key: a message Telegram accepted in the
    // instant before the kill, not yet marked sent, goes out again after the
    // restart: at most one per chat being sent to at that instant, and the
    // sender sends to at most PARALLEL_CHATS chats at once.
    assert!(
        duplicates <= kills * posdesk::telegram::PARALLEL_CHATS,
        "{duplicates} duplicates for {kills} kills"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_delays_the_reply_but_loses_nothing() {
    use sqlx::Connection;
    let app = TestApp::spawn().await;
    app.say(42, "/start").await;
    let url = app.settings.database.url.clone();
    type Release =
        Box<dyn FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send>;
    let release: Release = if url.starts_with("sqlite:") {
        let mut blocker = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("second connection");
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut blocker)
            .await
            .expect("lock the database");
        Box::new(move || {
            Box::pin(async move {
                sqlx::query("COMMIT")
                    .execute(&mut blocker)
                    .await
                    .expect("unlock");
            })
        })
    } else {
        let mut blocker = sqlx::PgConnection::connect(&url)
            .await
            .expect("second connection");
        sqlx::query("BEGIN")
            .execute(&mut blocker)
            .await
            .expect("begin");
        sqlx::query("LOCK TABLE inbox, conversations IN ACCESS EXCLUSIVE MODE")
            .execute(&mut blocker)
            .await
            .expect("lock");
        Box::new(move || {
            Box::pin(async move {
                sqlx::query("COMMIT")
                    .execute(&mut blocker)
                    .await
                    .expect("unlock");
            })
        })
    };
    app.api.merchant_text(42, "zh-hans", "/faq");
    tokio::time::sleep(Duration::from_secs(7)).await;
    release().await;
    // A sent mark may also have waited on the lock; the reply still comes.
    app.api
        .wait_until(30, "the /faq reply after the lock", |calls| {
            calls.iter().any(|c| {
                c.chat_id() == Some(42) && c.buttons().iter().any(|b| b.starts_with("faq:"))
            })
        })
        .await;
}

/// A process killed between committing a code and hearing the SMS
/// gateway's answer: after the restart the merchant is told the code may
/// not have arrived, the send is not counted, and a new code goes out at
/// once (no cooldown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_cut_off_by_a_crash_is_owned_up_to_and_a_new_one_goes_out_at_once() {
    let api = FakeBotApi::start().await;
    let sms = crate::sms_gateway::SmsGateway::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("gap.db").display());
    let csv = dir.path().join("merchants.csv");
    std::fs::write(&csv, posdesk::merchants::DEMO_CSV).expect("csv");
    let imported = Command::new(env!("CARGO_BIN_EXE_posdesk"))
        .args(["merchants", "import"])
        .arg(&csv)
        .env("DATABASE_URL", &db_url)
        .stdout(Stdio::null())
        .status()
        .expect("import");
    assert!(imported.success());
    // A gateway that takes the request and never answers: the code is
    // committed and on its way when the process dies.
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hanging_url = format!("http://{}/sms", hanging.local_addr().expect("addr"));
    let (seen_tx, mut seen) = tokio::sync::mpsc::channel::<()>(4);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hanging.accept().await {
            held.push(socket);
            let _ = seen_tx.try_send(());
        }
    });
    let run = |gateway: &str| {
        Command::new(env!("CARGO_BIN_EXE_posdesk"))
            .arg("run")
            .env("TELOXIDE_TOKEN", "123456:TEST")
            .env("TELOXIDE_API_URL", &api.url)
            .env("DATABASE_URL", &db_url)
            .env("POSDESK_TELEGRAM__THROTTLE", "false")
            .env("POSDESK_HTTP__LISTEN", "127.0.0.1:0")
            .env("POSDESK_OTP__DELIVERY", "webhook")
            .env("POSDESK_OTP__WEBHOOK_URL", gateway)
            .env("POSDESK_OTP__WEBHOOK_SECRET", crate::sms_gateway::SECRET)
            .env("POSDESK_OTP__WEBHOOK_TIMEOUT_SECONDS", "30")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start posdesk run")
    };
    let mut bot = run(&hanging_url);
    let chat = 4242;
    api.merchant_text(chat, "zh-hans", "/unbind");
    api.nth_sent_to(chat, 1).await;
    api.merchant_text(chat, "zh-hans", crate::helpers::MERCHANT);
    let sent = api.nth_sent_to(chat, 2).await;
    assert!(sent.text().contains("验证码已发送"), "{}", sent.text());
    tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await
        .expect("the gateway was called");
    let _ = bot.kill(); // SIGKILL in the gap
    let _ = bot.wait();

    let mut bot = run(&sms.url);
    // (The "code sent" reply may come once more first: accepted by
    // Telegram just before the kill, not yet marked sent.)
    api.wait_until(30, "the merchant told of the cut-off code", |calls| {
        calls
            .iter()
            .any(|c| c.chat_id() == Some(chat) && c.text().contains("可能没有发出"))
    })
    .await;
    let told = api
        .sent_to(chat)
        .into_iter()
        .find(|c| c.text().contains("可能没有发出"))
        .expect("found above"); // ok: a test
    let before = api.sent_to(chat).len();
    assert!(
        told.text().contains("可能没有发出"),
        "the merchant is told the code may not have arrived: {}",
        told.text()
    );
    assert!(
        told.buttons().iter().any(|b| b == "unbind:resend"),
        "with a resend button: {:?}",
        told.buttons()
    );
    // Pressed at once: not refused as too soon, and a code goes out.
    api.merchant_press(
        chat,
        "zh-hans",
        told.message_id.unwrap_or(1),
        "unbind:resend",
    );
    let again = api.nth_sent_to(chat, before + 1).await;
    assert!(
        again.text().contains("验证码已发送"),
        "a new code at once: {}",
        again.text()
    );
    let delivered = sms.nth(1).await;
    assert_eq!(delivered.merchant(), crate::helpers::MERCHANT);

    // The audit trail says what happened (the gateway's answer is recorded
    // just after it was given).
    let store = posdesk::storage::Store::connect(&db_url, 1)
        .await
        .expect("open");
    let mut actions: Vec<String> = Vec::new();
    for _ in 0..100 {
        let audit = store
            .audit_for_merchant(crate::helpers::MERCHANT)
            .await
            .expect("audit");
        actions = audit.iter().map(|a| a.action.clone()).collect();
        if actions.iter().any(|a| a == "otp.delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = bot.kill();
    let _ = bot.wait();
    let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
    assert!(
        actions.contains(&"otp.delivery_unknown"),
        "audited: {actions:?}"
    );
    assert!(actions.contains(&"otp.delivered"), "audited: {actions:?}");
}
