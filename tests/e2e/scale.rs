//! Webhook mode and several replicas on one PostgreSQL database.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::helpers::{TestApp, WEBHOOK_SECRET};

fn kind(buttons: &[String]) -> &'static str {
    match buttons.first().map(String::as_str) {
        Some("menu:unbind") => "menu",
        Some("faq:verification_failed") => "faq",
        Some("lang:zh-CN") => "lang",
        _ => "other",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_checks_the_secret_and_answers_after_storing() {
    let Some(mut apps) = TestApp::spawn_replicas(1).await else {
        return;
    };
    let app = apps.remove(0);
    let update = app.api.merchant_text_update(42, "zh-hans", "/start");
    assert_eq!(app.post_update(&update, "wrong-secret").await, 401);
    assert_eq!(app.post_update(&update, WEBHOOK_SECRET).await, 200);
    assert_eq!(
        app.post_update(&update, WEBHOOK_SECRET).await,
        200,
        "a retry is accepted"
    );
    let reply = app.api.nth_sent_to(42, 1).await;
    assert_eq!(reply.buttons().len(), 4);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        app.api.sent_to(42).len(),
        1,
        "the retried update is applied once"
    );
    let methods: Vec<String> = app.api.calls().iter().map(|c| c.method.clone()).collect();
    assert!(
        methods.iter().any(|m| m == "setWebhook"),
        "webhook registered: {methods:?}"
    );
    assert!(
        !app.api.calls().iter().any(|c| c.method == "deleteWebhook"),
        "never deleted in webhook mode"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_apply_every_update_once_in_order_and_send_every_reply_once() {
    let Some(mut apps) = TestApp::spawn_replicas(2).await else {
        return;
    };
    let chats: Vec<i64> = (2000..2040).collect();
    let inputs = ["/start", "/faq", "/lang"];
    let mut sent_twice = 0;
    for input in inputs {
        for chat in &chats {
            let update = apps[0].api.merchant_text_update(*chat, "zh-hans", input);
            let pick = posdesk::engine::random_bytes::<1>()[0];
            let first = usize::from(pick % 2);
            assert_eq!(apps[first].post_update(&update, WEBHOOK_SECRET).await, 200);
            if pick.is_multiple_of(5) {
                // As Telegram retries: the same update again, to the other replica.
                assert_eq!(
                    apps[1 - first].post_update(&update, WEBHOOK_SECRET).await,
                    200
                );
                sent_twice += 1;
            }
        }
        // Telegram does not send a chat's next update before the previous one
        // was answered 200; the order of arrival per chat is the order of ids.
    }
    let api = apps[0].api.clone();
    let expected = chats.len() * inputs.len();
    api.wait_until(60, "every reply", |_| {
        chats.iter().map(|c| api.sent_to(*c).len()).sum::<usize>() >= expected
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for chat in &chats {
        let kinds: Vec<&str> = api
            .sent_to(*chat)
            .iter()
            .map(|c| kind(&c.buttons()))
            .collect();
        assert_eq!(
            kinds,
            vec!["menu", "faq", "lang"],
            "chat {chat}: each reply once, in order"
        );
    }
    // Kill one replica mid-load; the other carries on.
    let survivor_chats: Vec<i64> = (3000..3020).collect();
    let mut dead = apps.remove(0);
    for chat in &survivor_chats {
        let update = api.merchant_text_update(*chat, "zh-hans", "/start");
        assert_eq!(apps[0].post_update(&update, WEBHOOK_SECRET).await, 200);
    }
    dead.stop().await;
    api.wait_until(30, "replies after a replica stopped", |_| {
        survivor_chats.iter().all(|c| api.sent_to(*c).len() == 1)
    })
    .await;
    let turns = applied_update_ids(&apps[0]).await;
    let distinct: BTreeSet<i64> = turns.iter().copied().collect();
    assert_eq!(
        turns.len(),
        distinct.len(),
        "no update applied twice ({sent_twice} delivered twice)"
    );
    assert_eq!(distinct.len(), expected + survivor_chats.len());
}

async fn applied_update_ids(app: &TestApp) -> Vec<i64> {
    use sqlx::Row;
    let posdesk::storage::Store::Postgres(pool) = &app.engine.store else {
        panic!("replicas run on PostgreSQL")
    };
    sqlx::query("SELECT update_id FROM turns WHERE update_id IS NOT NULL")
        .fetch_all(pool)
        .await
        .expect("turns")
        .iter()
        .map(|r| r.try_get::<i64, _>("update_id").expect("id"))
        .collect()
}
