//! posdesk-loadgen: the end-to-end load benchmark.
//!
//! Starts a lean fake Bot API and a fake SMS gateway on 127.0.0.1, starts the
//! bot under test as a separate process (`posdesk run`, or the minimal
//! teloxide baseline bot built into this binary), and drives N simulated
//! merchants in closed loop through six steps: `/start`, an FAQ question in
//! free text, `/unbind`, the merchant number, the code the gateway received,
//! the confirm button. Reports updates/s, turn latency (update queued → first
//! reply to that chat), the bot's CPU seconds and peak RSS, start-up time to
//! the first poll, and errors. See BENCHMARKS.md.

use std::collections::{HashMap, VecDeque};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::post;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore, oneshot};

#[derive(Parser)]
#[command(
    name = "posdesk-loadgen",
    about = "End-to-end load benchmark of posdesk"
)]
struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Simulated merchants (each its own chat).
    #[arg(long, default_value_t = 2000)]
    chats: usize,
    /// Merchants in flight at once.
    #[arg(long, default_value_t = 200)]
    in_flight: usize,
    /// `posdesk`, `baseline` or `both`.
    #[arg(long, default_value = "both")]
    target: String,
    /// Database URL for posdesk (default: a SQLite file in a temporary directory).
    #[arg(long)]
    database_url: Option<String>,
    /// Conversations to store before the run (memory and start-up with a big table).
    #[arg(long, default_value_t = 0)]
    preload: usize,
    /// Write an SVG of the latency distributions here.
    #[arg(long)]
    svg: Option<String>,
    /// Burst mode: this many notifications queued before the run, Telegram's
    /// real outgoing limits on, `--chats` merchants writing at once.
    #[arg(long)]
    burst_notifications: Option<usize>,
}

#[derive(Subcommand)]
enum Sub {
    /// The baseline: a minimal teloxide bot with InMemStorage walking the same steps.
    BaselineBot,
}

/// Why a run could not be set up or finished (printed, exit status 1).
type Failed = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let args = Args::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("starting the runtime: {e}")))
        .and_then(|runtime| match args.command {
            Some(Sub::BaselineBot) => {
                runtime.block_on(baseline::run());
                Ok(())
            }
            None => runtime.block_on(bench(args)),
        });
    if let Err(e) = result {
        eprintln!("posdesk-loadgen: {e}");
        std::process::exit(1);
    }
}

/// A lock of the benchmark's shared state; a task that panicked while
/// holding it leaves nothing half-written worth refusing.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ---------------------------------------------------------------- fake API

#[derive(Default)]
struct Fake {
    updates: Mutex<VecDeque<Value>>,
    ready: Notify,
    next_update: AtomicU64,
    next_message: AtomicU64,
    waiters: Mutex<HashMap<i64, oneshot::Sender<(Instant, Value)>>>,
    codes: Mutex<HashMap<String, oneshot::Sender<String>>>,
    first_poll: Mutex<Option<Instant>>,
    sends: AtomicU64,
    per_chat: Mutex<HashMap<i64, u32>>,
}

async fn api(
    State(fake): State<Arc<Fake>>,
    Path((_token, method)): Path<(String, String)>,
    body: Bytes,
) -> axum::response::Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = method.to_ascii_lowercase();
    let ok = |result: Value| axum::Json(json!({ "ok": true, "result": result })).into_response();
    match method.as_str() {
        "getupdates" => {
            {
                let mut first = lock(&fake.first_poll);
                if first.is_none() {
                    *first = Some(Instant::now());
                }
            }
            let offset = body.get("offset").and_then(Value::as_i64).unwrap_or(0);
            let deadline = Instant::now()
                + Duration::from_secs(
                    body.get("timeout")
                        .and_then(Value::as_u64)
                        .unwrap_or(0)
                        .min(2),
                );
            loop {
                let notified = fake.ready.notified();
                let batch: Vec<Value> = {
                    let mut q = lock(&fake.updates);
                    while q
                        .front()
                        .and_then(|u| u["update_id"].as_i64())
                        .is_some_and(|id| id < offset)
                    {
                        q.pop_front();
                    }
                    q.iter().take(100).cloned().collect()
                };
                if !batch.is_empty() || Instant::now() >= deadline {
                    return ok(Value::Array(batch));
                }
                let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
            }
        }
        "sendmessage" => {
            fake.sends.fetch_add(1, Ordering::Relaxed);
            let chat = body.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
            *lock(&fake.per_chat).entry(chat).or_insert(0) += 1;
            let id = fake.next_message.fetch_add(1, Ordering::Relaxed) + 1_000_000;
            if let Some(waiter) = lock(&fake.waiters).remove(&chat) {
                let _ = waiter.send((Instant::now(), json!({ "id": id, "body": body })));
            }
            ok(
                json!({ "message_id": id, "date": 1, "chat": { "id": chat, "type": "private", "first_name": "M" },
                       "text": "ok" }),
            )
        }
        "getme" => ok(
            json!({ "id": 1, "is_bot": true, "first_name": "bot", "username": "bench_bot",
            "can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false }),
        ),
        "getwebhookinfo" => {
            ok(json!({ "url": "", "has_custom_certificate": false, "pending_update_count": 0 }))
        }
        _ => ok(json!(true)),
    }
}

async fn sms(State(fake): State<Arc<Fake>>, body: Bytes) -> axum::http::StatusCode {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let merchant = body["merchant_id"].as_str().unwrap_or("").to_string();
    let code = body["code"].as_str().unwrap_or("").to_string();
    if let Some(waiter) = lock(&fake.codes).remove(&merchant) {
        let _ = waiter.send(code);
    }
    axum::http::StatusCode::OK
}

impl Fake {
    fn push(&self, mut update: Value) {
        // The id is taken under the queue's lock: ids must enter the queue in
        // order, or an acknowledged offset would skip an update pushed late.
        let mut queue = lock(&self.updates);
        update["update_id"] = json!(self.next_update.fetch_add(1, Ordering::Relaxed) + 1);
        queue.push_back(update);
        drop(queue);
        self.ready.notify_waiters();
    }

    fn text(&self, chat: i64, text: &str) {
        let id = self.next_message.fetch_add(1, Ordering::Relaxed) + 1;
        self.push(json!({ "message": { "message_id": id, "date": 1,
            "chat": { "id": chat, "type": "private", "first_name": "M" },
            "from": { "id": chat, "is_bot": false, "first_name": "M", "language_code": "zh-hans" }, "text": text } }));
    }

    fn press(&self, chat: i64, message_id: i64, data: &str) {
        let id = self.next_message.fetch_add(1, Ordering::Relaxed) + 1;
        self.push(json!({ "callback_query": { "id": format!("cb{id}"), "chat_instance": "c", "data": data,
            "from": { "id": chat, "is_bot": false, "first_name": "M", "language_code": "zh-hans" },
            "message": { "message_id": message_id, "date": 1, "chat": { "id": chat, "type": "private", "first_name": "M" },
                         "from": { "id": 1, "is_bot": true, "first_name": "bot" }, "text": "…" } } }));
    }
}

// ---------------------------------------------------------------- the run

struct Outcome {
    target: String,
    updates: usize,
    seconds: f64,
    latencies_ms: Vec<f64>,
    cpu_seconds: f64,
    peak_rss_mb: f64,
    startup_ms: f64,
    errors: usize,
}

fn proc_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn proc_peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn start_fake() -> Result<(Arc<Fake>, String), Failed> {
    let fake = Arc::new(Fake::default());
    let app = Router::new()
        .route("/{token}/{method}", post(api))
        .route("/sms", post(sms))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("binding the fake Bot API to 127.0.0.1: {e}"))?;
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .map_err(|e| format!("the fake Bot API's address: {e}"))?
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((fake, url))
}

/// The bot's log filter: errors only, unless `POSDESK_LOADGEN_LOG` says
/// otherwise (e.g. `posdesk::engine=debug` for the writer's batches).
fn bot_log_filter() -> String {
    std::env::var("POSDESK_LOADGEN_LOG").unwrap_or_else(|_| "error".into())
}

fn posdesk_binary() -> Result<std::path::PathBuf, Failed> {
    let me =
        std::env::current_exe().map_err(|e| format!("finding this program's own path: {e}"))?;
    Ok(me.with_file_name("posdesk"))
}

async fn run_target(target: &str, args: &Args) -> Result<Outcome, Failed> {
    let (fake, url) = start_fake().await?;
    let dir = std::env::temp_dir().join(format!("posdesk-bench-{}-{target}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating the temporary directory: {e}"))?;
    let db_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()));
    let mut child: Child = if target == "posdesk" {
        let csv = dir.join("merchants.csv");
        let mut text = String::from("merchant_id,name,phone,card_number,bank_name\n");
        for i in 0..args.chats {
            text.push_str(&format!(
                "M{:09},Shop {i},139{:08},6222********{:04},Bank\n",
                100_000 + i,
                i,
                i % 10_000
            ));
        }
        std::fs::write(&csv, text).map_err(|e| format!("writing the merchants CSV: {e}"))?;
        let status = Command::new(posdesk_binary()?)
            .args(["merchants", "import"])
            .arg(&csv)
            .env("DATABASE_URL", &db_url)
            .stdout(Stdio::null())
            .status().map_err(|e| format!("running `posdesk merchants import` (build it first: cargo build --release --bins): {e}"))?;
        if !status.success() {
            return Err(format!("posdesk merchants import failed ({status})").into());
        }
        if args.preload > 0 {
            preload(&db_url, args.preload).await?;
        }
        Command::new(posdesk_binary()?)
            .arg("run")
            .env("TELOXIDE_TOKEN", "1:BENCH")
            .env("TELOXIDE_API_URL", &url)
            .env("DATABASE_URL", &db_url)
            .env("POSDESK_TELEGRAM__THROTTLE", "false")
            .env("POSDESK_HTTP__LISTEN", "127.0.0.1:0")
            .env("POSDESK_OTP__DELIVERY", "webhook")
            .env("POSDESK_OTP__WEBHOOK_URL", format!("{url}/sms"))
            .env("POSDESK_OTP__WEBHOOK_SECRET", "bench")
            .env("POSDESK_LIMITS__INPUTS_PER_MINUTE", "0")
            .env("RUST_LOG", bot_log_filter())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "starting `posdesk run` (build it first: cargo build --release --bins): {e}"
                )
            })?
    } else {
        Command::new(
            std::env::current_exe().map_err(|e| format!("finding this program's own path: {e}"))?,
        )
        .arg("baseline-bot")
        .env("TELOXIDE_TOKEN", "1:BENCH")
        .env("TELOXIDE_API_URL", &url)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting the baseline bot: {e}"))?
    };
    let spawned = Instant::now();
    let pid = child.id();
    // Wait for the first poll.
    let startup = loop {
        if let Some(at) = *lock(&fake.first_poll) {
            break at.duration_since(spawned);
        }
        if spawned.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            return Err(format!("{target} never polled within 30 s").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let cpu_before = proc_cpu_seconds(pid);
    let semaphore = Arc::new(Semaphore::new(args.in_flight));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(args.chats * 6)));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..args.chats {
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| format!("the in-flight limit closed: {e}"))?;
        let (fake, latencies, errors) = (fake.clone(), latencies.clone(), errors.clone());
        let baseline = target == "baseline";
        tasks.spawn(async move {
            let chat = 5_000_000 + i as i64;
            let merchant = format!("M{:09}", 100_000 + i);
            if merchant_session(&fake, chat, &merchant, baseline, &latencies)
                .await
                .is_err()
            {
                errors.fetch_add(1, Ordering::Relaxed);
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = proc_cpu_seconds(pid) - cpu_before;
    let peak_rss_mb = proc_peak_rss_mb(pid);
    let _ = child.kill();
    let _ = child.wait();
    if errors.load(Ordering::Relaxed) == 0 {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("errors: database kept in {}", dir.display());
    }
    let mut latencies = lock(&latencies).clone();
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    Ok(Outcome {
        target: target.to_string(),
        updates: latencies.len(),
        seconds,
        latencies_ms: latencies,
        cpu_seconds,
        peak_rss_mb,
        startup_ms: startup.as_secs_f64() * 1000.0,
        errors: errors.load(Ordering::Relaxed) as usize,
    })
}

async fn preload(db_url: &str, n: usize) -> Result<(), Failed> {
    let store = posdesk::storage::Store::connect(db_url, 2)
        .await
        .map_err(|e| format!("connecting to the database: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| format!("migrating the database: {e}"))?;
    let conv = posdesk::conversation::Conversation::default();
    let mut done = 0;
    while done < n {
        let mut tx = store
            .begin()
            .await
            .map_err(|e| format!("starting a transaction: {e}"))?;
        for i in done..(done + 5000).min(n) {
            tx.save_conversation(
                9_000_000 + i as i64,
                i as i64,
                &conv,
                posdesk::domain::Lang::ZhCn,
                0,
            )
            .map_err(|e| format!("saving a conversation: {e}"))?;
        }
        tx.commit().await.map_err(|e| format!("committing: {e}"))?;
        done += 5000;
    }
    store.close().await;
    Ok(())
}

type Shared = Arc<Mutex<Vec<f64>>>;

async fn turn(
    fake: &Fake,
    chat: i64,
    send: impl FnOnce(&Fake),
    latencies: &Shared,
) -> Result<Value, ()> {
    let (tx, rx) = oneshot::channel();
    lock(&fake.waiters).insert(chat, tx);
    let at = Instant::now();
    send(fake);
    match tokio::time::timeout(Duration::from_secs(30), rx).await {
        Ok(Ok((when, reply))) => {
            lock(latencies).push(when.duration_since(at).as_secs_f64() * 1000.0);
            Ok(reply)
        }
        _ => {
            eprintln!("chat {chat}: no reply within 30 s");
            Err(())
        }
    }
}

async fn merchant_session(
    fake: &Arc<Fake>,
    chat: i64,
    merchant: &str,
    baseline: bool,
    latencies: &Shared,
) -> Result<(), ()> {
    turn(fake, chat, |f| f.text(chat, "/start"), latencies).await?;
    turn(
        fake,
        chat,
        |f| f.text(chat, "解绑验证码一直收不到怎么办"),
        latencies,
    )
    .await?;
    turn(fake, chat, |f| f.text(chat, "/unbind"), latencies).await?;
    let code_rx = {
        let (tx, rx) = oneshot::channel();
        lock(&fake.codes).insert(merchant.to_string(), tx);
        rx
    };
    turn(fake, chat, |f| f.text(chat, merchant), latencies).await?;
    let code = if baseline {
        "000000".to_string()
    } else {
        tokio::time::timeout(Duration::from_secs(30), code_rx)
            .await
            .map_err(|_| eprintln!("chat {chat}: no code within 30 s"))?
            .map_err(|_| ())?
    };
    let summary = turn(fake, chat, |f| f.text(chat, &code), latencies).await?;
    let message_id = summary["id"].as_i64().unwrap_or(1);
    turn(
        fake,
        chat,
        |f| f.press(chat, message_id, "unbind:confirm"),
        latencies,
    )
    .await?;
    Ok(())
}

/// Burst under Telegram's real limits: notifications queued (bulk priority),
/// then merchants write at once; interactive replies must overtake the bulk.
async fn burst(args: &Args, notifications: usize) -> Result<(), Failed> {
    let (fake, url) = start_fake().await?;
    let dir = std::env::temp_dir().join(format!("posdesk-burst-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating the temporary directory: {e}"))?;
    let db_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.join("burst.db").display()));
    {
        let store = posdesk::storage::Store::connect(&db_url, 2)
            .await
            .map_err(|e| format!("connecting to the database: {e}"))?;
        store
            .migrate()
            .await
            .map_err(|e| format!("migrating the database: {e}"))?;
        let mut tx = store
            .begin()
            .await
            .map_err(|e| format!("starting a transaction: {e}"))?;
        for i in 0..notifications {
            let payload = posdesk::storage::OutboxPayload::Text {
                html: format!("notification {i}"),
                buttons: Vec::new(),
            };
            tx.enqueue(
                7_000_000 + i as i64,
                None,
                &payload,
                posdesk::storage::Priority::Bulk,
                0,
            )
            .map_err(|e| format!("queuing a notification: {e}"))?;
        }
        tx.commit().await.map_err(|e| format!("committing: {e}"))?;
        store.close().await;
    }
    let mut child = Command::new(posdesk_binary()?)
        .arg("run")
        .env("TELOXIDE_TOKEN", "1:BENCH")
        .env("TELOXIDE_API_URL", &url)
        .env("DATABASE_URL", &db_url)
        .env("POSDESK_TELEGRAM__THROTTLE", "true")
        .env("POSDESK_HTTP__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", bot_log_filter())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            format!("starting `posdesk run` (build it first: cargo build --release --bins): {e}")
        })?;
    while lock(&fake.first_poll).is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Let the bulk queue get going, then everybody writes at once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let latencies: Shared = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..args.chats {
        let (fake, latencies) = (fake.clone(), latencies.clone());
        tasks.spawn(async move {
            let chat = 5_000_000 + i as i64;
            let _ = turn(&fake, chat, |f| f.text(chat, "/start"), &latencies).await;
        });
    }
    while tasks.join_next().await.is_some() {}
    let started = Instant::now();
    let total = notifications + args.chats;
    while fake.sends.load(Ordering::Relaxed) < total as u64
        && started.elapsed() < Duration::from_secs(3600)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let per_chat = lock(&fake.per_chat).clone();
    let twice = per_chat.values().filter(|n| **n > 1).count();
    let notified = (0..notifications)
        .filter(|i| per_chat.get(&(7_000_000 + *i as i64)) == Some(&1))
        .count();
    let mut l = lock(&latencies).clone();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    println!(
        "| merchants at once | notifications queued | replies | reply p50 ms | reply p99 ms | reply max ms | notifications sent once | sent twice |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {notifications} | {} | {:.0} | {:.0} | {:.0} | {notified} | {twice} |",
        args.chats,
        l.len(),
        percentile(&l, 0.5),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(0.0)
    );
    Ok(())
}

async fn bench(args: Args) -> Result<(), Failed> {
    if let Some(n) = args.burst_notifications {
        return burst(&args, n).await;
    }
    let targets: Vec<&str> = match args.target.as_str() {
        "both" => vec!["baseline", "posdesk"],
        "baseline" => vec!["baseline"],
        _ => vec!["posdesk"],
    };
    let mut outcomes = Vec::new();
    for target in targets {
        eprintln!(
            "running {target}: {} chats, {} in flight…",
            args.chats, args.in_flight
        );
        outcomes.push(run_target(target, &args).await?);
    }
    let baseline_rate = outcomes
        .iter()
        .find(|o| o.target == "baseline")
        .map(|o| o.updates as f64 / o.seconds);
    println!(
        "| target | updates | updates/s | × baseline | p50 ms | p90 ms | p99 ms | max ms | CPU s | peak RSS MB | start-up ms | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in &outcomes {
        let rate = o.updates as f64 / o.seconds;
        let ratio = baseline_rate
            .map(|b| format!("{:.2}", rate / b))
            .unwrap_or_else(|| "-".into());
        let l = &o.latencies_ms;
        println!(
            "| {} | {} | {:.0} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} | {:.0} | {} |",
            o.target,
            o.updates,
            rate,
            ratio,
            percentile(l, 0.50),
            percentile(l, 0.90),
            percentile(l, 0.99),
            l.last().copied().unwrap_or(0.0),
            o.cpu_seconds,
            o.peak_rss_mb,
            o.startup_ms,
            o.errors
        );
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, svg(&outcomes)).map_err(|e| format!("writing the SVG: {e}"))?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

/// Latency distributions (log-scale buckets) as a small SVG bar chart.
fn svg(outcomes: &[Outcome]) -> String {
    let bounds = [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        64.0,
        128.0,
        256.0,
        f64::INFINITY,
    ];
    let labels = [
        "≤0.5", "≤1", "≤2", "≤4", "≤8", "≤16", "≤32", "≤64", "≤128", "≤256", ">256",
    ];
    let colours = ["#4e79a7", "#e15759", "#59a14f"];
    let (w, h, left, bottom) = (760.0, 360.0, 50.0, 40.0);
    let group = (w - left - 20.0) / bounds.len() as f64;
    let bar = group / (outcomes.len() as f64 + 1.0);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">"#
    );
    out.push_str(&format!(r#"<text x="{left}" y="16" font-size="13">Turn latency (ms), share of turns per bucket</text>"#));
    for (t, o) in outcomes.iter().enumerate() {
        let mut counts = vec![0usize; bounds.len()];
        for l in &o.latencies_ms {
            let i = bounds
                .iter()
                .position(|b| l <= b)
                .unwrap_or(bounds.len() - 1);
            counts[i] += 1;
        }
        let total = o.latencies_ms.len().max(1) as f64;
        for (i, c) in counts.iter().enumerate() {
            let share = *c as f64 / total;
            let bh = share * (h - bottom - 40.0);
            let x = left + i as f64 * group + t as f64 * bar;
            let y = h - bottom - bh;
            out.push_str(&format!(
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{bh:.1}" fill="{}"/>"#,
                bar - 1.0,
                colours[t % 3]
            ));
        }
        out.push_str(&format!(
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{} ({:.0} updates/s)</text>"#,
            w - 230.0,
            30.0 + t as f64 * 16.0,
            colours[t % 3],
            w - 215.0,
            39.0 + t as f64 * 16.0,
            o.target,
            o.updates as f64 / o.seconds
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        let x = left + i as f64 * group + group / 3.0;
        out.push_str(&format!(
            r#"<text x="{x:.1}" y="{}">{label}</text>"#,
            h - bottom + 15.0
        ));
    }
    out.push_str(&format!(
        r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#,
        h - bottom,
        w - 20.0,
        h - bottom
    ));
    out.push_str("</svg>\n");
    out
}

// ---------------------------------------------------------------- baseline

mod baseline {
    //! The framework's ceiling on this machine: teloxide's dispatcher with
    //! InMemStorage, no persistence, the same six steps and replies.

    use std::sync::Arc;

    use teloxide::dispatching::dialogue::{Dialogue, InMemStorage};
    use teloxide::prelude::*;
    use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

    #[derive(Clone, Default)]
    enum Step {
        #[default]
        Idle,
        Merchant,
        Code,
        Confirm,
    }

    type Storage = InMemStorage<Step>;

    pub async fn run() {
        let bot = Bot::from_env();
        let storage = Storage::new();
        let handler = dptree::entry()
            .branch(Update::filter_message().endpoint(on_message))
            .branch(Update::filter_callback_query().endpoint(on_callback));
        Dispatcher::builder(bot, handler)
            .dependencies(dptree::deps![storage])
            .default_handler(|_| async {})
            .build()
            .dispatch()
            .await;
    }

    async fn on_message(bot: Bot, msg: Message, storage: Arc<Storage>) -> ResponseResult<()> {
        let dialogue = Dialogue::new(storage, msg.chat.id);
        let step = dialogue.get().await.ok().flatten().unwrap_or_default();
        let text = msg.text().unwrap_or("");
        let (reply, next, buttons): (&str, Step, Vec<(&str, &str)>) = match (text, step) {
            ("/start", _) => (
                "menu",
                Step::Idle,
                vec![
                    ("unbind", "menu:unbind"),
                    ("status", "menu:status"),
                    ("faq", "menu:faq"),
                    ("human", "menu:human"),
                ],
            ),
            ("/unbind", _) => (
                "merchant number?",
                Step::Merchant,
                vec![("cancel", "unbind:cancel")],
            ),
            (_, Step::Merchant) => ("code sent", Step::Code, vec![("resend", "unbind:resend")]),
            (_, Step::Code) => (
                "summary",
                Step::Confirm,
                vec![("confirm", "unbind:confirm"), ("cancel", "unbind:cancel")],
            ),
            (_, _) => ("faq answer", Step::Idle, vec![("human", "menu:human")]),
        };
        let _ = dialogue.update(next).await;
        let keyboard = InlineKeyboardMarkup::new(vec![
            buttons
                .into_iter()
                .map(|(l, d)| InlineKeyboardButton::callback(l, d))
                .collect::<Vec<_>>(),
        ]);
        bot.send_message(msg.chat.id, reply)
            .reply_markup(keyboard)
            .await?;
        Ok(())
    }

    async fn on_callback(bot: Bot, q: CallbackQuery, storage: Arc<Storage>) -> ResponseResult<()> {
        bot.answer_callback_query(q.id.clone()).await?;
        let Some(message) = q.message else {
            return Ok(());
        };
        let chat = message.chat().id;
        let dialogue = Dialogue::new(storage, chat);
        let _ = dialogue.update(Step::Idle).await;
        bot.send_message(chat, "final confirmation").await?;
        Ok(())
    }
}
