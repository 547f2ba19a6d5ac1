//! Human handoff end to end: tickets, forum topics, relays, claim, close, rating.

use crate::fake_bot_api::Call;
use crate::helpers::{AGENT_A, AGENT_B, STAFF_CHAT, TestApp};

fn staff_calls(app: &TestApp) -> Vec<Call> {
    app.api.sent_to(STAFF_CHAT)
}

async fn open_ticket(app: &TestApp, user: i64) -> (i64, i64) {
    app.say(user, "/human").await;
    let calls = app
        .api
        .wait_until(10, "ticket summary in a topic", |calls| {
            calls.iter().any(|c| {
                c.method == "sendMessage"
                    && c.chat_id() == Some(STAFF_CHAT)
                    && c.thread_id().is_some()
            })
        })
        .await;
    let summary = calls
        .iter()
        .rev()
        .find(|c| c.method == "sendMessage" && c.chat_id() == Some(STAFF_CHAT))
        .expect("summary");
    let ticket: i64 = summary
        .buttons()
        .iter()
        .find_map(|b| {
            b.strip_prefix("ticket:claim:")
                .and_then(|id| id.parse().ok())
        })
        .expect("claim button");
    // The merchant's queue notice (after "the unbinding stopped" when a
    // flow was open) is the last message of the handoff.
    app.api
        .wait_until(10, "the queue notice", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(user) && c.text().contains("已为您转接人工客服"))
        })
        .await;
    (ticket, summary.thread_id().expect("topic"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_reaches_staff_and_staff_reply_claim_close_and_get_rated() {
    let app = TestApp::spawn().await;
    app.say(42, "我要解绑").await;
    let (ticket, thread) = open_ticket(&app, 42).await;
    let topic = app
        .api
        .calls()
        .into_iter()
        .find(|c| c.method == "createForumTopic")
        .expect("topic created");
    assert!(
        topic.body["name"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("#{ticket}"))
    );
    let summary = staff_calls(&app)
        .into_iter()
        .find(|c| c.thread_id() == Some(thread))
        .expect("summary");
    assert!(
        summary.text().contains("我要解绑"),
        "the summary carries the recent messages: {}",
        summary.text()
    );
    assert_eq!(
        summary.buttons()[..2],
        [
            format!("ticket:claim:{ticket}"),
            format!("ticket:close:{ticket}")
        ]
    );

    // Merchant text and photo go to the topic; the bot does not answer them.
    let before = app.api.sent_to(42).len();
    app.api.merchant_text(42, "zh-hans", "卡号尾号1234的那张卡");
    app.api.merchant_photo(42, "zh-hans");
    app.api
        .wait_until(10, "two copies in the topic", |calls| {
            calls
                .iter()
                .filter(|c| {
                    c.method == "copyMessage"
                        && c.chat_id() == Some(STAFF_CHAT)
                        && c.thread_id() == Some(thread)
                })
                .count()
                >= 2
        })
        .await;
    assert_eq!(
        app.api.sent_to(42).len(),
        before,
        "the bot stays quiet while a person owns the chat"
    );

    // A #note stays internal; a reply goes to the merchant and claims the ticket.
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "#note 先查一下这个商户");
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "您好，我来帮您处理");
    let claimed = app.api.nth_sent_to(42, before + 1).await;
    let reply = app.api.nth_sent_to(42, before + 2).await;
    assert!(
        claimed.text().contains("客服 01"),
        "the merchant is told a person is there, by alias: {}",
        claimed.text()
    );
    assert!(
        reply.text().contains("您好，我来帮您处理"),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("客服 01"), "signed: {}", reply.text());
    assert!(
        !reply.text().contains("User501"),
        "no Telegram name: {}",
        reply.text()
    );
    assert!(
        !app.api
            .sent_to(42)
            .iter()
            .any(|c| c.text().contains("先查一下")),
        "notes are not relayed"
    );

    // Close: the merchant gets a one-tap rating, the chat returns to the bot.
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/close");
    let closed = app.api.nth_sent_to(42, before + 3).await;
    assert_eq!(
        closed.buttons(),
        (1..=5)
            .map(|n| format!("csat:{n}:{ticket}"))
            .collect::<Vec<_>>()
    );
    let thanks = app.press(42, &closed, &format!("csat:5:{ticket}")).await;
    assert!(thanks.text().contains('5'), "{}", thanks.text());
    app.say(42, "服务很好").await;
    app.api
        .wait_until(10, "rating and comment shown in the topic", |calls| {
            calls.iter().any(|c| {
                c.chat_id() == Some(STAFF_CHAT)
                    && c.thread_id() == Some(thread)
                    && c.text().contains("服务很好")
            })
        })
        .await;
    let row = app
        .engine
        .store
        .ticket(ticket)
        .await
        .expect("db")
        .expect("ticket");
    assert_eq!(row.status, "closed");
    assert_eq!(row.rating, Some(5));
    assert_eq!(row.comment.as_deref(), Some("服务很好"));
    let transcript = app
        .engine
        .store
        .ticket_transcript(ticket)
        .await
        .expect("transcript");
    assert!(
        transcript
            .iter()
            .any(|(dir, _, body, _)| dir == "note" && body.contains("先查一下"))
    );
    assert!(
        transcript
            .iter()
            .any(|(dir, _, body, _)| dir == "in" && body.contains("尾号1234"))
    );
    let back = app.say(42, "/start").await;
    assert_eq!(back.buttons().len(), 4, "the bot answers again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_staff_and_forged_ticket_actions_are_refused() {
    let app = TestApp::spawn_with(|s| s.support.staff_user_ids = vec![AGENT_A]).await;
    let (ticket, thread) = open_ticket(&app, 42).await;
    // A group member who is not on the allow-list.
    app.api
        .staff_press(STAFF_CHAT, AGENT_B, 1, &format!("ticket:claim:{ticket}"));
    let answer = app
        .api
        .wait_until(10, "callback answered", |calls| {
            calls
                .iter()
                .any(|c| c.method == "answerCallbackQuery" && c.body["text"].is_string())
        })
        .await
        .into_iter()
        .rfind(|c| c.method == "answerCallbackQuery")
        .expect("answer");
    assert!(!answer.body["text"].as_str().unwrap_or("").is_empty());
    app.api
        .staff_text(STAFF_CHAT, AGENT_B, Some(thread), "/close");
    // A merchant forging staff buttons in their own chat.
    app.api
        .merchant_press(42, "zh-hans", 1, &format!("ticket:close:{ticket}"));
    app.api
        .merchant_press(42, "zh-hans", 1, "ticket:claim:999999");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let row = app
        .engine
        .store
        .ticket(ticket)
        .await
        .expect("db")
        .expect("ticket");
    assert_eq!(row.status, "open", "nothing changed");
    // The allowed agent can.
    app.api
        .staff_press(STAFF_CHAT, AGENT_A, 1, &format!("ticket:claim:{ticket}"));
    app.api
        .wait_until(10, "claimed notice to merchant", |calls| {
            calls.iter().filter(|c| c.chat_id() == Some(42)).count() >= 2
        })
        .await;
    assert_eq!(
        app.engine
            .store
            .ticket(ticket)
            .await
            .expect("db")
            .expect("ticket")
            .status,
        "claimed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_listing_and_restart_mid_ticket_keeps_relaying() {
    let app = TestApp::spawn().await;
    let (ticket, thread) = open_ticket(&app, 42).await;
    app.api.staff_text(STAFF_CHAT, AGENT_A, None, "/tickets");
    let listing = app
        .api
        .wait_until(10, "ticket listing", |calls| {
            calls.iter().any(|c| {
                c.chat_id() == Some(STAFF_CHAT)
                    && c.text().contains(&format!("#{ticket}"))
                    && c.thread_id().is_none()
            })
        })
        .await;
    assert!(!listing.is_empty());
    let app = app.restart().await;
    app.api.merchant_text(42, "zh-hans", "还在吗");
    app.api
        .wait_until(10, "relay after restart", |calls| {
            calls
                .iter()
                .any(|c| c.method == "copyMessage" && c.thread_id() == Some(thread))
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_topic_is_recreated_and_nothing_is_lost() {
    let app = TestApp::spawn().await;
    let (_ticket, thread) = open_ticket(&app, 42).await;
    app.api.delete_topic(thread);
    app.api.merchant_text(42, "zh-hans", "第一条");
    let calls = app
        .api
        .wait_until(10, "relay in a new topic", |calls| {
            calls
                .iter()
                .any(|c| c.method == "copyMessage" && c.thread_id().is_some_and(|t| t != thread))
        })
        .await;
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.method == "createForumTopic")
            .count(),
        2,
        "exactly one new topic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_withdraws_an_unclaimed_ticket() {
    let app = TestApp::spawn().await;
    let (ticket, _) = open_ticket(&app, 42).await;
    app.say(42, "/cancel").await;
    assert_eq!(
        app.engine
            .store
            .ticket(ticket)
            .await
            .expect("db")
            .expect("ticket")
            .status,
        "withdrawn"
    );
    let back = app.say(42, "/start").await;
    assert_eq!(back.buttons().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_staff_chat_tickets_are_stored_and_the_merchant_told_how_support_reaches_them() {
    let app = TestApp::spawn_with(|s| {
        s.support.staff_chat_id = 0;
        s.support.contact = "客服热线 400-000-0000".into();
    })
    .await;
    let reply = app.say(42, "/human").await;
    assert!(reply.text().contains("400-000-0000"), "{}", reply.text());
    assert_eq!(
        app.engine
            .store
            .list_tickets(true, 10)
            .await
            .expect("tickets")
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unclaimed_ticket_is_re_announced_once_and_edits_keep_the_original() {
    let app = TestApp::spawn().await;
    let (ticket, thread) = open_ticket(&app, 42).await;
    let original = app.api.merchant_text(42, "zh-hans", "卡号尾号是1234");
    app.api
        .wait_until(10, "relay", |calls| {
            calls
                .iter()
                .any(|c| c.method == "copyMessage" && c.thread_id() == Some(thread))
        })
        .await;
    app.api
        .merchant_edit(42, "zh-hans", original, "卡号尾号是5678");
    app.api
        .wait_until(10, "edit shown with the original", |calls| {
            calls.iter().any(|c| {
                c.chat_id() == Some(STAFF_CHAT)
                    && c.thread_id() == Some(thread)
                    && c.text().contains("1234")
                    && c.text().contains("5678")
            })
        })
        .await;
    // Ten minutes pass without a claim.
    assert_eq!(
        app.engine.remind_unclaimed_tickets().await.expect("remind"),
        0,
        "not yet"
    );
    match &app.engine.store {
        posdesk::storage::Store::Sqlite(pool) => {
            sqlx::query("UPDATE tickets SET opened_at = opened_at - 660000")
                .execute(&pool.pool)
                .await
                .expect("age");
        }
        posdesk::storage::Store::Postgres(pool) => {
            sqlx::query("UPDATE tickets SET opened_at = opened_at - 660000")
                .execute(pool)
                .await
                .expect("age");
        }
    }
    assert_eq!(
        app.engine.remind_unclaimed_tickets().await.expect("remind"),
        1
    );
    assert_eq!(
        app.engine.remind_unclaimed_tickets().await.expect("remind"),
        0,
        "only once"
    );
    app.api
        .wait_until(10, "reminder in the topic with buttons", |calls| {
            calls
                .iter()
                .filter(|c| {
                    c.thread_id() == Some(thread)
                        && c.buttons().contains(&format!("ticket:claim:{ticket}"))
                })
                .count()
                >= 2
        })
        .await;
}
