//! What an operator relies on: the HTTP server's limits and listeners, the
//! back-office API's refusals, and the binary's start, health check and stop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use posdesk::config::Secret;

use crate::fake_bot_api::FakeBotApi;
use crate::helpers::{MERCHANT, TestApp, WEBHOOK_SECRET};

fn webhook_mode(s: &mut posdesk::config::Settings) {
    s.telegram.mode = "webhook".into();
    s.telegram.webhook_url = "http://127.0.0.1/telegram/webhook".into();
    s.telegram.webhook_secret = Secret::new(WEBHOOK_SECRET);
}

fn host(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// Sends `request` raw and reads until the server closes or `wait` passes;
/// returns what came back and how long the connection stayed open.
fn raw(address: &str, request: &[u8], wait: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(wait)).expect("timeout");
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
        if started.elapsed() > wait {
            break;
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

async fn submitted_reference(app: &TestApp) -> String {
    let summary = app.verify(42, MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    let done = app.press(42, &second, "unbind:confirm").await;
    regex::Regex::new(r"UB-\d{8}-[2-9A-HJ-NP-Z]{5}")
        .expect("regex")
        .find(&done.text())
        .map(|m| m.as_str().to_string())
        .expect("a reference")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reason_too_long_to_deliver_is_refused_with_400_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let reference = submitted_reference(&app).await;
    for reason in ["长".repeat(1001), "x".repeat(1_500_000)] {
        let response = app
            .set_status(&reference, "rejected", Some(&reason), "backoffice-token")
            .await;
        assert_eq!(response.status(), 400);
        let body = response.text().await.expect("body");
        assert!(body.contains("1000"), "names the limit: {body}");
    }
    let row = app
        .engine
        .store
        .request(&reference)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(row.status, "submitted", "the status did not change");
    let response = app
        .set_status(
            &reference,
            "rejected",
            Some(&"长".repeat(1000)),
            "backoffice-token",
        )
        .await;
    assert_eq!(response.status(), 200, "the limit itself is accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let reference = submitted_reference(&app).await;
    let url = format!(
        "{}/api/v1/unbind-requests/{reference}/status",
        app.admin_url
    );
    let client = reqwest::Client::new();
    let call = |auth: &'static str, status: &'static str| {
        client
            .post(&url)
            .header("Authorization", auth)
            .json(&serde_json::json!({ "status": status }))
            .send()
    };
    let lower = call("bearer backoffice-token", "processing")
        .await
        .expect("call");
    assert_eq!(lower.status(), 200);
    let upper = call("BEARER  backoffice-token", "completed")
        .await
        .expect("call");
    assert_eq!(upper.status(), 200);
    let wrong = call("Basic backoffice-token", "cancelled")
        .await
        .expect("call");
    assert_eq!(wrong.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_listen_keeps_api_and_metrics_off_the_public_webhook_listener() {
    let app = TestApp::spawn_with(|s| {
        webhook_mode(s);
        s.http.admin_listen = "127.0.0.1:0".into();
    })
    .await;
    assert_ne!(app.http_url, app.admin_url);
    let get = |url: String| async move { reqwest::get(url).await.expect("GET").status().as_u16() };
    assert_eq!(get(format!("{}/healthz", app.admin_url)).await, 200);
    assert_eq!(get(format!("{}/metrics", app.admin_url)).await, 200);
    assert_eq!(get(format!("{}/healthz", app.http_url)).await, 404);
    assert_eq!(get(format!("{}/metrics", app.http_url)).await, 404);
    let api = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/unbind-requests/UB-20260101-22222/status",
            app.http_url
        ))
        .bearer_auth("backoffice-token")
        .json(&serde_json::json!({ "status": "completed" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(api.status(), 404, "no API on the public listener");
    let update = app.api.merchant_text_update(42, "zh-hans", "/start");
    assert_eq!(app.post_update(&update, WEBHOOK_SECRET).await, 200);
    app.api.nth_sent_to(42, 1).await;
    let on_admin = reqwest::Client::new()
        .post(format!("{}/telegram/webhook", app.admin_url))
        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
        .json(&update)
        .send()
        .await
        .expect("POST");
    assert_eq!(on_admin.status(), 404, "no webhook on the admin listener");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_refuses_a_wrong_secret_before_reading_the_body() {
    let app = TestApp::spawn_with(webhook_mode).await;
    let address = host(&app.http_url);
    // Announce a 1.9 MB body and send none of it: the answer comes anyway.
    let request = b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: wrong\r\nContent-Length: 1900000\r\n\r\n";
    let (answer, took) =
        tokio::task::spawn_blocking(move || raw(&address, request, Duration::from_secs(5)))
            .await
            .expect("join");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    assert!(took < Duration::from_secs(4), "answered at once: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_idle_connections_and_slow_bodies_are_cut_off() {
    let app = TestApp::spawn().await;
    let address = host(&app.admin_url);
    let cases: Vec<(&'static str, &'static [u8])> = vec![
        ("idle", b""),
        ("slow headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),
        (
            "slow body",
            b"POST /api/v1/unbind-requests/UB-20260101-22222/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer backoffice-token\r\nContent-Length: 100\r\n\r\n{",
        ),
    ];
    let mut waits = Vec::new();
    for (name, request) in cases {
        let address = address.clone();
        waits.push((
            name,
            tokio::task::spawn_blocking(move || raw(&address, request, Duration::from_secs(40))),
        ));
    }
    for (name, wait) in waits {
        let (answer, took) = wait.await.expect("join");
        assert!(
            took < Duration::from_secs(20),
            "{name}: the server closed the connection after {took:?} ({answer:?})"
        );
    }
    // The server still answers.
    let health = reqwest::get(format!("{}/healthz", app.admin_url))
        .await
        .expect("GET");
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_503_once_shutdown_begins() {
    let app = TestApp::spawn().await;
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let router = posdesk::http::routes(
        app.engine.clone(),
        posdesk::http::Routes::All,
        posdesk::http::Readiness::new(stopping),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let status = |path: &'static str| {
        let url = format!("{url}{path}");
        async move { reqwest::get(url).await.expect("GET").status().as_u16() }
    };
    assert_eq!(status("/readyz").await, 200);
    stopping_tx.send(true).expect("send");
    assert_eq!(status("/readyz").await, 503);
    assert_eq!(status("/healthz").await, 200, "alive while it finishes");
}

/// `posdesk run` as a process, on a SQLite file, against the fake Bot API.
struct Running {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn posdesk(dir: &std::path::Path, api: &str, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_posdesk"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("TELOXIDE_TOKEN")
        .env_remove("POSDESK_CONFIG")
        .env("TELOXIDE_TOKEN", "123456:TEST")
        .env("TELOXIDE_API_URL", api)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("posdesk.db").display()),
        )
        .env("POSDESK_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("POSDESK_TELEGRAM__THROTTLE", "false")
        .env("POSDESK_OTP__DELIVERY", "log")
        .current_dir(dir);
    command
}

impl Running {
    fn start(api: &FakeBotApi) -> Running {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let child = posdesk(dir.path(), &api.url, port)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start posdesk run");
        Running { child, port, dir }
    }

    /// `posdesk healthcheck`, as the container's HEALTHCHECK runs it.
    fn healthcheck(&self, api: &FakeBotApi) -> bool {
        posdesk(self.dir.path(), &api.url, self.port)
            .arg("healthcheck")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run posdesk healthcheck")
            .success()
    }

    fn wait_healthy(&self, api: &FakeBotApi) {
        for _ in 0..100 {
            if self.healthcheck(api) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("posdesk run never became healthy");
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    fn wait_exit(&mut self, limit: Duration) -> (Option<i32>, Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (status.code(), started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        (None, started.elapsed())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_healthcheck_passes_on_a_live_run_and_a_half_sent_request_does_not_hold_the_stop() {
    let api = FakeBotApi::start().await;
    let api_for_thread = api.clone();
    let (code, took, unhealthy_after) = tokio::task::spawn_blocking(move || {
        let api = api_for_thread;
        let mut running = Running::start(&api);
        running.wait_healthy(&api);
        // A request whose body never comes.
        let mut half = TcpStream::connect(("127.0.0.1", running.port)).expect("connect");
        half.write_all(b"POST /api/v1/unbind-requests/UB-20260101-22222/status HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            .expect("send");
        running.terminate();
        let (code, took) = running.wait_exit(Duration::from_secs(30));
        let unhealthy = !running.healthcheck(&api);
        (code, took, unhealthy)
    })
    .await
    .expect("join");
    assert_eq!(code, Some(0), "exits 0 after SIGTERM");
    assert!(took < Duration::from_secs(12), "stopped in {took:?}");
    assert!(unhealthy_after, "the healthcheck fails once it is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_ends_the_start_with_exit_1_and_a_sentence() {
    let api = FakeBotApi::start().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = api.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        posdesk(dir.path(), &url, port)
            .arg("run")
            .output()
            .expect("run posdesk")
    })
    .await
    .expect("join");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on http.listen = 127.0.0.1:{port}")),
        "{stderr}"
    );
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_mistakes_exit_2_naming_the_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_posdesk"));
        command
            .args(args)
            .env_remove("POSDESK_CONFIG")
            .current_dir(dir.path());
        for (k, v) in env {
            command.env(k, v);
        }
        let output = command.output().expect("run posdesk");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&["--config", "missing.toml", "check"], &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("missing.toml"), "{err}");
    let (code, _, err) = run(&["check"], &[("POSDESK_CONFIG", "gone.toml")]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("gone.toml") && err.contains("POSDESK_CONFIG"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("typo.toml"),
        "[telegram]\ntokne = \"1:x\"\n",
    )
    .expect("write");
    let (code, _, err) = run(&["--config", "typo.toml", "check"], &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("did you mean `telegram.token`"), "{err}");
    let (code, _, err) = run(&["config", "check"], &[("POSDESK_TELEGRAM_TOKEN", "1:x")]);
    assert_eq!(code, Some(2));
    assert!(err.contains("POSDESK_TELEGRAM__TOKEN"), "{err}");
    let (code, out, _) = run(
        &["config", "check"],
        &[
            ("TELOXIDE_TOKEN", "123456:SECRET"),
            ("POSDESK_HTTP__API_TOKEN", "0042"),
        ],
    );
    assert_eq!(code, Some(0));
    assert!(!out.contains("SECRET") && !out.contains("0042"), "{out}");
    assert!(
        out.contains("http.api_token = \"<redacted>\"  # env POSDESK_HTTP__API_TOKEN"),
        "{out}"
    );
    // `check` does not migrate: the database stays without tables.
    let db = dir.path().join("check.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let _ = run(&["check"], &[("DATABASE_URL", &url)]);
    let store = posdesk::storage::Store::connect(&url, 1)
        .await
        .expect("open");
    assert!(
        store.request("UB-20260101-22222").await.is_err(),
        "no tables: check did not run migrations"
    );
    store.close().await;
}

/// Names of the samples a `/metrics` text exposes.
fn sample_names(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_queries_only_metrics_that_metrics_exposes() {
    let app = TestApp::spawn().await;
    let text = reqwest::get(format!("{}/metrics", app.admin_url))
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    let exposed = sample_names(&text);
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../deploy/grafana-dashboard.json"))
            .expect("the dashboard is JSON");
    let name = regex::Regex::new(r"\b(?:posdesk|process)_[a-z_]+\b").expect("regex");
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for m in name.find_iter(expr) {
                queried += 1;
                assert!(
                    exposed.contains(m.as_str()),
                    "panel {:?} queries {} which /metrics does not expose",
                    panel["title"],
                    m.as_str()
                );
            }
        }
    }
    assert!(queried > 10, "the dashboard queries posdesk's metrics");
    // Every metric has its help text.
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let metric = line.split_whitespace().nth(2).expect("name");
        assert!(
            text.contains(&format!("# HELP {metric} ")),
            "{metric} has no HELP"
        );
    }
}

#[test]
fn the_compose_file_dockerfile_and_unit_are_what_the_readme_describes() {
    let compose: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../deploy/compose.yaml")).expect("compose parses");
    let services = &compose["services"];
    for service in ["postgres", "posdesk"] {
        assert!(
            services[service]["healthcheck"]["test"].is_sequence(),
            "{service} has a healthcheck"
        );
        assert!(
            services[service]["volumes"].is_sequence(),
            "{service} keeps its data on a volume"
        );
    }
    let probe = serde_yaml::to_string(&services["posdesk"]["healthcheck"]["test"]).expect("yaml");
    assert!(probe.contains("healthcheck"), "{probe}");
    let env = &services["posdesk"]["environment"];
    for var in [
        "TELOXIDE_TOKEN_FILE",
        "DATABASE_URL_FILE",
        "POSDESK_OTP__WEBHOOK_SECRET_FILE",
    ] {
        let path = env[var].as_str().expect("a *_FILE variable");
        assert!(path.starts_with("/run/secrets/"), "{var} = {path}");
    }
    for secret in compose["secrets"].as_mapping().expect("secrets").values() {
        assert!(secret["file"].as_str().is_some(), "secrets are files");
    }
    let dockerfile = include_str!("../../deploy/Dockerfile");
    let healthcheck = dockerfile
        .lines()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    assert!(
        healthcheck.contains(r#"CMD ["posdesk", "healthcheck"]"#)
            && !healthcheck.contains("/bin/sh"),
        "exec form, no shell: {healthcheck}"
    );
    assert!(dockerfile.contains("VOLUME"), "the database is on a volume");
    let ignore = include_str!("../../.dockerignore");
    for entry in ["target/", ".git/", "*.db", "posdesk.toml"] {
        assert!(ignore.contains(entry), ".dockerignore lists {entry}");
    }
    let unit = include_str!("../../deploy/posdesk.service");
    for directive in [
        "RestartPreventExitStatus=2",
        "SystemCallFilter=@system-service",
        "RestrictAddressFamilies=",
        "CapabilityBoundingSet=\n",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "PrivateDevices=yes",
        "UMask=0077",
        "DynamicUser=yes",
        "LimitNOFILE=",
    ] {
        assert!(unit.contains(directive), "the unit sets {directive:?}");
    }
}

/// The Docker healthcheck's own command against a live `posdesk run`, the
/// way the container runs it (no shell, no curl).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_container_healthcheck_command_passes_against_a_live_run() {
    let api = FakeBotApi::start().await;
    let dockerfile = include_str!("../../deploy/Dockerfile");
    let line = dockerfile
        .lines()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    let json = line.split("CMD").nth(1).expect("CMD").trim();
    let argv: Vec<String> = serde_json::from_str(json).expect("exec form is a JSON array");
    assert_eq!(argv[0], "posdesk");
    let api_for_thread = api.clone();
    let healthy = tokio::task::spawn_blocking(move || {
        let mut running = Running::start(&api_for_thread);
        running.wait_healthy(&api_for_thread);
        let status = posdesk(running.dir.path(), &api_for_thread.url, running.port)
            .args(&argv[1..])
            .stdout(Stdio::null())
            .status()
            .expect("run the healthcheck");
        running.terminate();
        let _ = running.wait_exit(Duration::from_secs(20));
        status.success()
    })
    .await
    .expect("join");
    assert!(healthy);
}

#[test]
fn merchants_import_reads_gbk_and_fails_when_nothing_is_imported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let import = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_posdesk"))
            .args(["merchants", "import", file])
            .env_remove("POSDESK_CONFIG")
            .env("DATABASE_URL", &url)
            .current_dir(dir.path())
            .output()
            .expect("run posdesk")
    };
    let (gbk, _, _) = encoding_rs::GBK.encode(posdesk::merchants::DEMO_CSV);
    std::fs::write(dir.path().join("gbk.csv"), &gbk).expect("write");
    let output = import("gbk.csv");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("imported 3 new, 0 updated, 0 rejected (GB18030)"),
        "{stdout}"
    );
    std::fs::write(
        dir.path().join("bad.csv"),
        "merchant_id,name,phone,card_number,bank_name\nx,,,,\n",
    )
    .expect("write");
    let output = import("bad.csv");
    assert_eq!(
        output.status.code(),
        Some(1),
        "nothing imported is a failure"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("nothing imported"),
        "{stderr}"
    );
    let no_header = posdesk::merchants::DEMO_CSV
        .split_once('\n')
        .expect("lines")
        .1;
    std::fs::write(dir.path().join("noheader.csv"), no_header).expect("write");
    let output = import("noheader.csv");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not the header"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_show_lists_only_that_requests_audit_lines() {
    let app = TestApp::spawn().await;
    let reference = submitted_reference(&app).await;
    let url = app.settings.database.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_posdesk"))
            .args(["requests", "show", &reference])
            .env_remove("POSDESK_CONFIG")
            .env("DATABASE_URL", url)
            .output()
            .expect("run posdesk")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("unbind.submitted"), "{stdout}");
    assert!(
        !stdout.contains("otp.issued"),
        "the merchant's other audit lines stay out: {stdout}"
    );
}
