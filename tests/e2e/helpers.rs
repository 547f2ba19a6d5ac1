//! `TestApp::spawn()`: the real bot (engine, teloxide client, dispatcher,
//! outbox sender) on a fresh SQLite file, talking HTTP to the fake Bot API
//! and the fake SMS gateway. `TEST_LOG=1` shows the bot's logs.

use std::collections::BTreeMap;
use std::sync::{Arc, Once};

use posdesk::config::{Secret, Settings};
use posdesk::engine::Engine;
use posdesk::{app, merchants};
use teloxide::Bot;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::fake_bot_api::{Call, FakeBotApi};
use crate::sms_gateway::{SECRET, SmsGateway};

/// The staff supergroup id used in tests.
pub const STAFF_CHAT: i64 = -100_777;
/// A staff member.
pub const AGENT_A: i64 = 501;
/// Another staff member.
pub const AGENT_B: i64 = 502;
/// The webhook secret of webhook-mode tests.
pub const WEBHOOK_SECRET: &str = "hook-secret_1";
/// A known merchant (demo data).
pub const MERCHANT: &str = "M100200300";

static LOG: Once = Once::new();

/// The database the end-to-end tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (default).
    Sqlite,
    /// A fresh PostgreSQL database (`POSDESK_TEST_BACKEND=postgres`).
    Postgres,
}

/// `POSDESK_TEST_BACKEND=postgres` runs the end-to-end suite on PostgreSQL.
pub fn backend() -> Backend {
    match std::env::var("POSDESK_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

fn init_logging() {
    LOG.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("info,posdesk=debug")
                .with_test_writer()
                .try_init();
        }
    });
}

/// A running bot with its fakes.
pub struct TestApp {
    /// The fake Bot API.
    pub api: FakeBotApi,
    /// The fake SMS gateway.
    pub sms: SmsGateway,
    /// The engine (for direct store access and back-office calls).
    pub engine: Arc<Engine>,
    /// Settings in use.
    pub settings: Settings,
    /// Base URL of `http.listen` (everything, or only the webhook when
    /// `http.admin_listen` is set).
    pub http_url: String,
    /// Base URL of health, metrics and the back-office API.
    pub admin_url: String,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    _dir: Arc<tempfile::TempDir>,
}

/// Settings for a test: fast, local, deterministic.
pub fn test_settings(api: &FakeBotApi, sms: &SmsGateway, db_url: &str) -> Settings {
    let mut s = Settings::from_toml_and_env("", &BTreeMap::new()).expect("defaults parse");
    s.brand = "TestPay".into();
    s.telegram.token = Secret::new("123456:TEST");
    s.telegram.api_url = api.url.clone();
    s.telegram.throttle = false;
    s.database.url = db_url.to_string();
    s.otp.delivery = "webhook".into();
    s.otp.webhook_url = sms.url.clone();
    s.otp.webhook_secret = Secret::new(SECRET);
    s.support.staff_chat_id = STAFF_CHAT;
    s.support.hours = "Mon-Sun 00:00-24:00".into();
    s.http.api_token = Secret::new("backoffice-token");
    s.http.listen = "127.0.0.1:0".into();
    s
}

impl TestApp {
    /// Spawns the bot with default test settings.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Spawns the bot after `tweak` adjusts the settings.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        init_logging();
        let api = FakeBotApi::start().await;
        let sms = SmsGateway::start().await;
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let db_url = match backend() {
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("posdesk.db").display()
            ),
            Backend::Postgres => crate::backends::postgres_url("an end-to-end test")
                .await
                .expect("POSDESK_TEST_BACKEND=postgres needs POSDESK_TEST_POSTGRES_URL"),
        };
        let mut settings = test_settings(&api, &sms, &db_url);
        tweak(&mut settings);
        let app = TestApp::start(api, sms, settings, dir).await;
        let pattern = app.settings.derive().expect("valid").merchant_pattern;
        merchants::import(
            &app.engine.store,
            merchants::DEMO_CSV.as_bytes(),
            &pattern,
            0,
            |_| {},
        )
        .await
        .expect("demo merchants import");
        app
    }

    async fn start(
        api: FakeBotApi,
        sms: SmsGateway,
        settings: Settings,
        dir: Arc<tempfile::TempDir>,
    ) -> TestApp {
        let store = app::open_store(&settings).await.expect("open store");
        let delivery = app::delivery_for(&settings).expect("delivery");
        let engine = app::build_engine(settings.clone(), store, delivery)
            .await
            .expect("engine");
        let bot = Bot::new("123456:TEST").set_api_url(reqwest::Url::parse(&api.url).expect("url"));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(posdesk::telegram::run_until(
            engine.clone(),
            bot,
            stop_rx.clone(),
        ));
        let listeners = posdesk::http::Listeners::bind(&settings.http)
            .await
            .expect("bind http");
        let http_url = format!("http://{}", listeners.public_addr().expect("addr"));
        let admin_url = listeners
            .admin_addr()
            .map(|a| format!("http://{a}"))
            .unwrap_or_else(|| http_url.clone());
        let mut http_stop = stop_rx.clone();
        tokio::spawn(posdesk::http::serve(
            engine.clone(),
            listeners,
            posdesk::http::Readiness::new(stop_rx),
            async move {
                let _ = http_stop.changed().await;
            },
        ));
        TestApp {
            api,
            sms,
            engine,
            settings,
            http_url,
            admin_url,
            stop,
            task: Some(task),
            _dir: dir,
        }
    }

    /// Starts `n` replicas in webhook mode on one fresh PostgreSQL database
    /// (`None` when PostgreSQL is not configured for tests).
    pub async fn spawn_replicas(n: usize) -> Option<Vec<TestApp>> {
        init_logging();
        let db_url = crate::backends::postgres_url("two replicas on PostgreSQL").await?;
        let api = FakeBotApi::start().await;
        let sms = SmsGateway::start().await;
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut settings = test_settings(&api, &sms, &db_url);
        settings.telegram.mode = "webhook".into();
        settings.telegram.webhook_url = "http://127.0.0.1/telegram/webhook".into();
        settings.telegram.webhook_secret = Secret::new(WEBHOOK_SECRET);
        settings.telegram.replicas = n as u32;
        let mut apps = Vec::new();
        for _ in 0..n {
            apps.push(
                TestApp::start(api.clone(), sms.clone(), settings.clone(), dir.clone()).await,
            );
        }
        Some(apps)
    }

    /// Posts an update to this replica's webhook; returns the HTTP status.
    pub async fn post_update(&self, update: &serde_json::Value, secret: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/telegram/webhook", self.http_url))
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .json(update)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// Stops the bot gracefully (as SIGTERM would).
    pub async fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), task).await;
        }
        self.engine.close().await;
    }

    /// Stops and starts the bot again on the same database and fakes.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let api = self.api.clone();
        let sms = self.sms.clone();
        let settings = self.settings.clone();
        let dir = self._dir.clone();
        TestApp::start(api, sms, settings, dir).await
    }

    /// The merchant writes; waits for the bot's next message to that chat.
    pub async fn say(&self, user: i64, text: &str) -> Call {
        let before = self.api.sent_to(user).len();
        self.api.merchant_text(user, "zh-hans", text);
        self.api.nth_sent_to(user, before + 1).await
    }

    /// Same in English.
    pub async fn say_en(&self, user: i64, text: &str) -> Call {
        let before = self.api.sent_to(user).len();
        self.api.merchant_text(user, "en", text);
        self.api.nth_sent_to(user, before + 1).await
    }

    /// Walks /unbind, merchant number and the code; returns the summary message.
    pub async fn verify(&self, user: i64, merchant: &str) -> Call {
        self.say(user, "/unbind").await;
        let before = self.sms.received().len();
        let sent = self.say(user, merchant).await;
        assert!(
            sent.buttons().contains(&"unbind:resend".to_string()),
            "code sent: {}",
            sent.text()
        );
        let code = self.sms.nth(before + 1).await.code();
        self.say(user, &code).await
    }

    /// Posts a status change to the back-office API.
    pub async fn set_status(
        &self,
        reference: &str,
        status: &str,
        reason: Option<&str>,
        token: &str,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!(
                "{}/api/v1/unbind-requests/{reference}/status",
                self.admin_url
            ))
            .bearer_auth(token)
            .json(&serde_json::json!({ "status": status, "reason": reason }))
            .send()
            .await
            .expect("HTTP call")
    }

    /// Everything the database holds, as text (SQLite: the file and its WAL;
    /// PostgreSQL: every row of every table as JSON), to search for secrets.
    pub async fn database_text(&self) -> String {
        match &self.engine.store {
            posdesk::storage::Store::Sqlite(_) => {
                let path = self
                    .settings
                    .database
                    .url
                    .trim_start_matches("sqlite://")
                    .trim_end_matches("?mode=rwc")
                    .to_string();
                let mut bytes = std::fs::read(&path).unwrap_or_default();
                bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
                String::from_utf8_lossy(&bytes).into_owned()
            }
            posdesk::storage::Store::Postgres(pool) => {
                use sqlx::Row;
                let tables =
                    sqlx::query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                        .fetch_all(pool)
                        .await
                        .expect("tables");
                let mut out = String::new();
                for t in tables {
                    let name: String = t.try_get("tablename").expect("name");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT row_to_json(t)::text AS j FROM {name} t"
                    )))
                    .fetch_all(pool)
                    .await
                    .expect("rows");
                    for r in rows {
                        out.push_str(&r.try_get::<String, _>("j").expect("json"));
                        out.push('\n');
                    }
                }
                out
            }
        }
    }

    /// The merchant presses a button of `message`; waits for the next message.
    pub async fn press(&self, user: i64, message: &Call, data: &str) -> Call {
        assert!(
            message.buttons().iter().any(|b| b == data),
            "no button {data} on {:?}",
            message.buttons()
        );
        let before = self.api.sent_to(user).len();
        self.api
            .merchant_press(user, "zh-hans", message.message_id.unwrap_or(1), data);
        self.api.nth_sent_to(user, before + 1).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
