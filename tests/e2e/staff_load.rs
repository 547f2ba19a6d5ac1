//! How far behind the staff group falls with 10 tickets active at once,
//! measured on the real bot (outbox sender, rate limiter, merged relays,
//! card refresh) against the fake Bot API, in real time. Ignored by
//! default (it runs for minutes); BENCHMARKS.md, "Staff group under load":
//!
//! `POSDESK_LAG_EVERY=20 POSDESK_LAG_MINUTES=10 cargo test --test e2e
//! staff_group_lag -- --ignored --nocapture`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::helpers::{AGENT_A, STAFF_CHAT, TestApp};

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy)]
enum Act {
    /// The merchant asks for a person (a new ticket, its card).
    Open,
    /// The merchant writes their `n`-th message.
    Say(usize),
    /// An agent claims the ticket by its button.
    Claim,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs for minutes: BENCHMARKS.md, Staff group under load"]
async fn staff_group_lag_with_ten_active_tickets_measured() {
    let minutes = env_f64("POSDESK_LAG_MINUTES", 10.0);
    let every = env_f64("POSDESK_LAG_EVERY", 20.0);
    let app = TestApp::spawn_with(|s| {
        s.telegram.throttle = true;
        s.support.remind_after_minutes = 0;
        s.limits.inputs_per_minute = 0;
    })
    .await;
    // As the model: 10 tickets opened `every / 10` apart, each merchant
    // writing every `every` seconds for `minutes`, each ticket claimed a
    // minute after it opened.
    let mut plan: Vec<(f64, usize, Act)> = Vec::new();
    for ticket in 0..10 {
        let offset = ticket as f64 * every / 10.0;
        plan.push((offset, ticket, Act::Open));
        plan.push((offset + 60.0, ticket, Act::Claim));
        let mut n = 0;
        while offset + n as f64 * every < minutes * 60.0 {
            plan.push((offset + n as f64 * every + 0.5, ticket, Act::Say(n)));
            n += 1;
        }
    }
    plan.sort_by(|a, b| a.0.total_cmp(&b.0));
    let user = |ticket: usize| 7_000 + ticket as i64;
    let marker = |ticket: usize, n: usize| format!("T{ticket}M{n} 终端还是无法结算");
    let start = Instant::now();
    // marker -> (message id, written at, seen at)
    let mut texts: HashMap<String, (i64, f64, Option<f64>)> = HashMap::new();
    let mut next = 0;
    let deadline = minutes * 60.0 + 600.0;
    loop {
        let now = start.elapsed().as_secs_f64();
        while next < plan.len() && plan[next].0 <= now {
            let (_, ticket, act) = plan[next];
            match act {
                Act::Open => {
                    app.api.merchant_text(user(ticket), "zh-hans", "/human");
                }
                Act::Say(n) => {
                    let text = marker(ticket, n);
                    let id = app.api.merchant_text(user(ticket), "zh-hans", &text);
                    texts.insert(text, (id, now, None));
                }
                Act::Claim => {
                    let rows = app.engine.store.list_tickets(true, 50).await.expect("db");
                    if let Some(row) = rows.iter().find(|r| r.chat_id == user(ticket)) {
                        app.api.staff_press_in(
                            STAFF_CHAT,
                            AGENT_A,
                            row.thread_id.unwrap_or_default(),
                            0,
                            &format!("ticket:claim:{}", row.id),
                        );
                    }
                }
            }
            next += 1;
        }
        let by_id: HashMap<i64, String> = texts
            .iter()
            .map(|(t, (id, _, _))| (*id, t.clone()))
            .collect();
        for call in app.api.calls() {
            if call.chat_id() != Some(STAFF_CHAT) {
                continue;
            }
            let found: Vec<String> = match call.method.as_str() {
                "copyMessage" => call.body["message_id"]
                    .as_i64()
                    .and_then(|id| by_id.get(&id).cloned())
                    .into_iter()
                    .collect(),
                "sendMessage" => {
                    let body = call.text();
                    texts
                        .keys()
                        .filter(|t| body.contains(t.as_str()))
                        .cloned()
                        .collect()
                }
                _ => Vec::new(),
            };
            for text in found {
                if let Some(entry) = texts.get_mut(&text) {
                    entry.2.get_or_insert(now);
                }
            }
        }
        let all_seen = texts.values().all(|(_, _, seen)| seen.is_some());
        if (next == plan.len() && all_seen) || now > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut lags: Vec<f64> = texts
        .values()
        .map(|(_, at, seen)| seen.map_or(f64::INFINITY, |s| s - at))
        .collect();
    lags.sort_by(f64::total_cmp);
    let at = |q: f64| lags[((lags.len() - 1) as f64 * q).round() as usize];
    let calls = app.api.calls();
    let group = |method: &str| {
        calls
            .iter()
            .filter(|c| c.method == method && c.chat_id() == Some(STAFF_CHAT))
            .count()
    };
    let edits = group("editMessageText") + group("editForumTopic");
    println!(
        "staff group, 10 tickets, a message every {every} s each for {minutes} min: \
         {} texts; group messages: {} copies + {} texts (cards, merged relays, answers); \
         {edits} edits; lag median {:.1} s, p90 {:.1} s, worst {:.1} s",
        lags.len(),
        group("copyMessage"),
        group("sendMessage"),
        at(0.5),
        at(0.9),
        at(1.0),
    );
    assert!(at(1.0).is_finite(), "every text reached the staff group");
}
