//! The staff desk end to end: every action from a ticket's topic (buttons
//! and commands), the context card kept current, topic names and state,
//! help and unknown commands, and a non-staff member changing nothing.

use std::time::Duration;

use posdesk::storage::TicketRow;
use regex::Regex;

use crate::fake_bot_api::Call;
use crate::helpers::{AGENT_A, AGENT_B, MERCHANT, STAFF_CHAT, TestApp};

/// A ticket's id, topic and card (its first message).
struct Opened {
    ticket: i64,
    thread: i64,
    card: Call,
}

/// Waits for a new ticket's card in its topic.
async fn ticket_card(app: &TestApp) -> Opened {
    let calls = app
        .api
        .wait_until(10, "a ticket card in a topic", |calls| {
            calls.iter().any(|c| {
                c.method == "sendMessage"
                    && c.chat_id() == Some(STAFF_CHAT)
                    && c.thread_id().is_some()
                    && c.buttons().iter().any(|b| b.starts_with("ticket:claim:"))
            })
        })
        .await;
    let card = calls
        .into_iter()
        .rfind(|c| {
            c.method == "sendMessage" && c.buttons().iter().any(|b| b.starts_with("ticket:claim:"))
        })
        .expect("card");
    let ticket = card
        .buttons()
        .iter()
        .find_map(|b| {
            b.strip_prefix("ticket:claim:")
                .and_then(|id| id.parse().ok())
        })
        .expect("claim button");
    Opened {
        ticket,
        thread: card.thread_id().expect("topic"),
        card,
    }
}

async fn open_ticket(app: &TestApp, user: i64) -> Opened {
    app.say(user, "/human").await;
    ticket_card(app).await
}

async fn ticket_row(app: &TestApp, id: i64) -> TicketRow {
    app.engine
        .store
        .ticket(id)
        .await
        .expect("db")
        .expect("ticket")
}

/// Waits for a staff-group message whose text contains `needle`.
async fn staff_says(app: &TestApp, needle: &str) -> Call {
    app.api
        .wait_until(10, &format!("staff group told {needle:?}"), |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(STAFF_CHAT) && c.text().contains(needle))
        })
        .await
        .into_iter()
        .rfind(|c| c.chat_id() == Some(STAFF_CHAT) && c.text().contains(needle))
        .expect("found")
}

/// Waits for the `n`-th (1-based) call of `method`.
async fn nth_call(app: &TestApp, method: &str, n: usize) -> Call {
    app.api
        .wait_until(10, &format!("{method} #{n}"), |calls| {
            calls.iter().filter(|c| c.method == method).count() >= n
        })
        .await;
    app.api.calls_of(method).remove(n - 1)
}

/// Waits for the answer to the button press `id`; returns its toast.
async fn toast(app: &TestApp, id: &str) -> String {
    app.api
        .wait_until(10, &format!("answer to {id}"), |calls| {
            calls
                .iter()
                .any(|c| c.method == "answerCallbackQuery" && c.body["callback_query_id"] == id)
        })
        .await
        .into_iter()
        .find(|c| c.method == "answerCallbackQuery" && c.body["callback_query_id"] == id)
        .map(|c| c.body["text"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_is_pinned_edited_and_the_topic_follows_claim_close_and_reopen() {
    let app = TestApp::spawn().await;
    app.say(42, "我要解绑").await;
    let Opened {
        ticket,
        thread,
        card,
    } = open_ticket(&app, 42).await;
    let card_id = card.message_id.expect("card id");
    assert!(
        card.text().contains(&format!("工单 #{ticket}")),
        "{}",
        card.text()
    );
    assert!(
        card.text().contains("说：我要解绑"),
        "the last messages as people read them: {}",
        card.text()
    );
    let pin = nth_call(&app, "pinChatMessage", 1).await;
    assert_eq!(pin.body["message_id"].as_i64(), Some(card_id));
    let topic = nth_call(&app, "createForumTopic", 1).await;
    assert!(topic.body["name"].as_str().unwrap_or("").contains("待接单"));

    // Claim by button: the card is edited (not re-sent), the topic renamed.
    let press = app.api.staff_press_in(
        STAFF_CHAT,
        AGENT_A,
        thread,
        card_id,
        &format!("ticket:claim:{ticket}"),
    );
    assert!(toast(&app, &press).await.contains("接单"));
    let edit = nth_call(&app, "editMessageText", 1).await;
    assert_eq!(edit.body["message_id"].as_i64(), Some(card_id));
    assert!(
        edit.buttons().contains(&format!("ticket:unclaim:{ticket}")),
        "the claim button became unclaim: {:?}",
        edit.buttons()
    );
    let rename = nth_call(&app, "editForumTopic", 1).await;
    assert_eq!(rename.thread_id(), Some(thread));
    assert!(
        rename.body["name"]
            .as_str()
            .unwrap_or("")
            .contains("User501")
    );
    assert_eq!(ticket_row(&app, ticket).await.status, "claimed");

    // Close: the topic is closed, the card offers a reopen.
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/close");
    let closed = nth_call(&app, "closeForumTopic", 1).await;
    assert_eq!(closed.thread_id(), Some(thread));
    let edit = nth_call(&app, "editMessageText", 2).await;
    assert_eq!(edit.buttons()[0], format!("ticket:reopen:{ticket}"));
    assert!(
        nth_call(&app, "editForumTopic", 2).await.body["name"]
            .as_str()
            .unwrap_or("")
            .contains("已关闭")
    );
    assert_eq!(ticket_row(&app, ticket).await.status, "closed");

    // Reopen by button: the topic opens again and the ticket is the agent's.
    app.api.staff_press_in(
        STAFF_CHAT,
        AGENT_B,
        thread,
        card_id,
        &format!("ticket:reopen:{ticket}"),
    );
    let reopened = nth_call(&app, "reopenForumTopic", 1).await;
    assert_eq!(reopened.thread_id(), Some(thread));
    let row = ticket_row(&app, ticket).await;
    assert_eq!(row.status, "claimed");
    assert_eq!(row.assignee_id, Some(AGENT_B));

    // /info posts the card again, fresh.
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/info");
    app.api
        .wait_until(10, "a fresh card", |calls| {
            calls
                .iter()
                .filter(|c| {
                    c.method == "sendMessage"
                        && c.thread_id() == Some(thread)
                        && c.text().contains(&format!("工单 #{ticket}"))
                        && c.text().contains("User502")
                })
                .count()
                >= 1
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unclaim_and_assign_to_a_colleague_by_replying_to_them() {
    let app = TestApp::spawn().await;
    let Opened { ticket, thread, .. } = open_ticket(&app, 42).await;
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/claim");
    staff_says(&app, "已由 User501 接单").await;
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/unclaim");
    staff_says(&app, "已由 User501 退回").await;
    let row = ticket_row(&app, ticket).await;
    assert_eq!((row.status.as_str(), row.assignee_id), ("open", None));

    // B says something in the topic; A answers it with /assign.
    let said = app
        .api
        .staff_text(STAFF_CHAT, AGENT_B, Some(thread), "#note 这个我熟");
    let before = app.api.sent_to(42).len();
    app.api.staff_reply(
        STAFF_CHAT,
        AGENT_A,
        thread,
        (said, Some(AGENT_B)),
        "/assign",
    );
    staff_says(&app, "转给 User502").await;
    let row = ticket_row(&app, ticket).await;
    assert_eq!(row.status, "claimed");
    assert_eq!(row.assignee_id, Some(AGENT_B));
    let told = app.api.nth_sent_to(42, before + 1).await;
    assert!(
        told.text().contains("客服 02"),
        "the merchant sees the new agent's alias: {}",
        told.text()
    );
    // /assign without anyone to assign to says how.
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/assign");
    staff_says(&app, "/assign").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlock_lifts_the_code_lock_of_a_locked_out_merchant() {
    let app = TestApp::spawn_with(|s| s.otp.resend_seconds = 0).await;
    app.say(42, "/unbind").await;
    app.say(42, MERCHANT).await;
    let code = app.sms.nth(1).await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut locked = app.say(42, wrong).await;
    for _ in 1..5 {
        locked = app.say(42, wrong).await;
    }
    // The lock offers a person; the ticket carries the locked number.
    app.press(42, &locked, "menu:human").await;
    let Opened {
        ticket,
        thread,
        card,
    } = ticket_card(&app).await;
    assert!(card.text().contains(MERCHANT), "{}", card.text());
    assert!(
        card.text().contains("🔒"),
        "the lock is on the card: {}",
        card.text()
    );
    assert!(card.buttons().contains(&format!("ticket:unlock:{ticket}")));
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/unlock");
    staff_says(&app, "解除验证码锁定").await;
    app.api
        .wait_until(10, "the merchant told", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(42) && c.text().contains("已为您解除验证码锁定"))
        })
        .await;
    let audit = app
        .engine
        .store
        .audit_for_merchant(MERCHANT)
        .await
        .expect("audit");
    assert!(
        audit
            .iter()
            .any(|a| a.action == "otp.unlocked" && a.actor == format!("staff:{AGENT_A}"))
    );
    // Back with the bot, a new code goes out instead of the lock notice.
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/close");
    app.api
        .wait_until(10, "the rating question", |calls| {
            calls.iter().any(|c| {
                c.chat_id() == Some(42) && c.buttons().iter().any(|b| b.starts_with("csat:"))
            })
        })
        .await;
    app.say(42, "/unbind").await;
    let sent = app.say(42, MERCHANT).await;
    assert!(
        sent.buttons().contains(&"unbind:resend".to_string()),
        "a code is sent again: {}",
        sent.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_answers_go_to_the_merchant_in_their_language_signed() {
    let app = TestApp::spawn().await;
    app.say_en(43, "/human").await;
    let Opened { ticket, thread, .. } = ticket_card(&app).await;
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/faq");
    let menu = staff_says(&app, "常用回复").await;
    let data = format!("canned:verification_failed:{ticket}");
    assert!(menu.buttons().contains(&data), "{:?}", menu.buttons());
    let before = app.api.sent_to(43).len();
    app.api.staff_press_in(
        STAFF_CHAT,
        AGENT_A,
        thread,
        menu.message_id.expect("menu id"),
        &data,
    );
    let answer = app.api.nth_sent_to(43, before + 2).await;
    assert!(
        answer.text().starts_with("Support agent 01"),
        "{}",
        answer.text()
    );
    assert!(
        answer.text().contains("code"),
        "the FAQ text, in English: {}",
        answer.text()
    );
    staff_says(&app, "发送了常用回复「验证失败怎么办」").await;
    assert_eq!(ticket_row(&app, ticket).await.status, "claimed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_user_gets_one_notice_then_silence_and_no_ticket_until_unblocked() {
    let app = TestApp::spawn().await;
    let Opened { ticket, thread, .. } = open_ticket(&app, 42).await;
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/block");
    staff_says(&app, "请写明屏蔽原因").await;
    assert_eq!(ticket_row(&app, ticket).await.status, "open");
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/block 反复辱骂");
    staff_says(&app, "原因：反复辱骂").await;
    nth_call(&app, "closeForumTopic", 1).await;
    assert_eq!(ticket_row(&app, ticket).await.status, "closed");

    let notice = app.say(42, "你好").await;
    assert!(notice.text().contains("无法使用"), "{}", notice.text());
    let after_notice = app.api.sent_to(42).len();
    app.api.merchant_text(42, "zh-hans", "/human");
    app.api.merchant_text(42, "zh-hans", "人工！");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.api.sent_to(42).len(), after_notice, "then nothing");
    let open = app
        .engine
        .store
        .list_tickets(true, 10)
        .await
        .expect("tickets");
    assert!(open.is_empty(), "and no ticket");

    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/unblock");
    staff_says(&app, "已解除对该用户的屏蔽").await;
    let menu = app.say(42, "/start").await;
    assert_eq!(menu.buttons().len(), 4, "the bot answers again");
}

fn reference_in(text: &str) -> String {
    Regex::new(r"UB-\d{8}-[2-9A-HJ-NP-Z]{5}")
        .expect("regex")
        .find(text)
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| panic!("no reference in {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_status_from_the_card_and_a_rejection_reason_typed_as_a_reply() {
    let app = TestApp::spawn().await;
    let summary = app.verify(42, MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    let done = app.press(42, &second, "unbind:confirm").await;
    let reference = reference_in(&done.text());
    let Opened { thread, card, .. } = open_ticket(&app, 42).await;
    let card_id = card.message_id.expect("card id");
    assert!(card.text().contains(&reference), "{}", card.text());
    assert!(
        !Regex::new(r"说：\d{4,}")
            .expect("regex")
            .is_match(&card.text()),
        "the one-time code typed earlier is not on the card: {}",
        card.text()
    );
    // (The turn record keeps a code without its digits, so the card has
    // nothing of it to hide.)
    assert!(
        card.text().contains("138****1234"),
        "phone masked: {}",
        card.text()
    );
    let processing = format!("request:processing:{reference}");
    assert!(card.buttons().contains(&processing), "{:?}", card.buttons());

    let before = app.api.sent_to(42).len();
    let press = app
        .api
        .staff_press_in(STAFF_CHAT, AGENT_A, thread, card_id, &processing);
    assert!(toast(&app, &press).await.contains(&reference));
    let told = app.api.nth_sent_to(42, before + 1).await;
    assert!(told.text().contains(&reference), "{}", told.text());
    let row = app
        .engine
        .store
        .request(&reference)
        .await
        .expect("db")
        .expect("row");
    assert_eq!(row.status, "processing");
    let edit = nth_call(&app, "editMessageText", 1).await;
    assert!(!edit.buttons().contains(&processing), "no longer offered");

    // Rejected asks for the reason; the agent's reply is the reason.
    app.api.staff_press_in(
        STAFF_CHAT,
        AGENT_A,
        thread,
        card_id,
        &format!("request:rejected:{reference}"),
    );
    let ask = staff_says(&app, "写明驳回申请").await;
    assert_eq!(
        app.engine
            .store
            .request(&reference)
            .await
            .expect("db")
            .expect("row")
            .status,
        "processing",
        "nothing changes until the reason comes"
    );
    app.api.staff_reply(
        STAFF_CHAT,
        AGENT_A,
        thread,
        (ask.message_id.expect("ask id"), None),
        "开户名与身份证不一致",
    );
    let told = app.api.nth_sent_to(42, before + 2).await;
    assert!(
        told.text().contains("开户名与身份证不一致"),
        "{}",
        told.text()
    );
    let row = app
        .engine
        .store
        .request(&reference)
        .await
        .expect("db")
        .expect("row");
    assert_eq!(row.status, "rejected");
    assert_eq!(row.reason.as_deref(), Some("开户名与身份证不一致"));
    assert!(
        !app.api
            .sent_to(42)
            .iter()
            .any(|c| c.text().contains("客服 01：\n开户名")),
        "the reason is not also relayed as a reply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_find_their_way_help_menu_and_unknown_commands() {
    let app = TestApp::spawn().await;
    let menu = app
        .api
        .wait_until(10, "the staff command menu", |calls| {
            calls
                .iter()
                .any(|c| c.method == "setMyCommands" && c.body["scope"]["type"] == "chat")
        })
        .await
        .into_iter()
        .find(|c| c.method == "setMyCommands" && c.body["scope"]["type"] == "chat")
        .expect("menu");
    assert_eq!(menu.body["scope"]["chat_id"].as_i64(), Some(STAFF_CHAT));
    assert!(menu.body["commands"].to_string().contains("unlock"));

    app.api.staff_text(STAFF_CHAT, AGENT_A, None, "/help");
    let help = staff_says(&app, "客服工作台").await;
    assert!(help.text().contains("/claim") && help.text().contains("#note"));
    app.api.staff_text(STAFF_CHAT, AGENT_A, None, "/frobnicate");
    staff_says(&app, "没有 /frobnicate 这个命令").await;
    app.api.staff_text(STAFF_CHAT, AGENT_A, None, "/claim");
    staff_says(&app, "要在工单的话题里使用").await;
    let Opened { thread, .. } = open_ticket(&app, 42).await;
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/frob");
    let unknown = staff_says(&app, "没有 /frob 这个命令").await;
    assert_eq!(
        unknown.thread_id(),
        Some(thread),
        "answered where it was asked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_staff_member_changes_nothing_with_each_action() {
    let app = TestApp::spawn_with(|s| s.support.staff_user_ids = vec![AGENT_A]).await;
    let summary = app.verify(42, MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    let done = app.press(42, &second, "unbind:confirm").await;
    let reference = reference_in(&done.text());
    let Opened {
        ticket,
        thread,
        card,
    } = open_ticket(&app, 42).await;
    let card_id = card.message_id.expect("card id");
    let merchant_before = app.api.sent_to(42).len();
    let buttons = [
        format!("ticket:claim:{ticket}"),
        format!("ticket:unclaim:{ticket}"),
        format!("ticket:close:{ticket}"),
        format!("ticket:reopen:{ticket}"),
        format!("ticket:unlock:{ticket}"),
        format!("ticket:info:{ticket}"),
        format!("canned:security:{ticket}"),
        format!("request:processing:{reference}"),
        format!("request:completed:{reference}"),
        format!("request:rejected:{reference}"),
    ];
    let presses: Vec<String> = buttons
        .iter()
        .map(|data| {
            app.api
                .staff_press_in(STAFF_CHAT, AGENT_B, thread, card_id, data)
        })
        .collect();
    for (press, data) in presses.iter().zip(&buttons) {
        assert_eq!(
            toast(&app, press).await,
            "仅限客服人员操作。",
            "button {data}"
        );
    }
    let commands = [
        "/claim",
        "/unclaim",
        "/assign 501",
        "/close",
        "/reopen",
        "/unlock",
        "/faq",
        "/block spam",
        "/unblock",
        "/info",
        "a reply to the merchant",
    ];
    for command in commands {
        app.api
            .staff_text(STAFF_CHAT, AGENT_B, Some(thread), command);
    }
    app.api
        .wait_until(10, "every command refused", |calls| {
            calls
                .iter()
                .filter(|c| c.chat_id() == Some(STAFF_CHAT) && c.text() == "仅限客服人员操作。")
                .count()
                >= commands.len()
        })
        .await;
    let row = ticket_row(&app, ticket).await;
    assert_eq!((row.status.as_str(), row.assignee_id), ("open", None));
    assert_eq!(
        app.engine
            .store
            .request(&reference)
            .await
            .expect("db")
            .expect("row")
            .status,
        "submitted"
    );
    assert_eq!(
        app.api.sent_to(42).len(),
        merchant_before,
        "the merchant heard nothing"
    );
    assert!(
        app.api.calls_of("editMessageText").is_empty(),
        "the card did not change"
    );
    assert!(app.api.calls_of("closeForumTopic").is_empty());
    // The allowed agent still can, after all of that.
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/claim");
    staff_says(&app, "已由 User501 接单").await;
    assert_eq!(ticket_row(&app, ticket).await.status, "claimed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_again_within_reopen_days_reopens_the_same_ticket_and_topic() {
    let app = TestApp::spawn().await;
    let Opened { ticket, thread, .. } = open_ticket(&app, 42).await;
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/close");
    nth_call(&app, "closeForumTopic", 1).await;
    let closed_notice = app.api.sent_to(42).len();
    app.api.nth_sent_to(42, closed_notice).await;
    // Until they ask, the bot answers them itself.
    let menu = app.say(42, "/start").await;
    assert_eq!(menu.buttons().len(), 4);
    app.say(42, "/human").await;
    let reopened = nth_call(&app, "reopenForumTopic", 1).await;
    assert_eq!(reopened.thread_id(), Some(thread));
    staff_says(&app, "商户再次请求人工").await;
    let row = ticket_row(&app, ticket).await;
    assert_eq!((row.status.as_str(), row.assignee_id), ("open", None));
    assert_eq!(
        app.api.calls_of("createForumTopic").len(),
        1,
        "no new topic"
    );
    // Messages go to the same topic again.
    app.api.merchant_text(42, "zh-hans", "又出问题了");
    app.api
        .wait_until(10, "relay into the old topic", |calls| {
            calls.iter().any(|c| {
                c.method == "copyMessage"
                    && c.chat_id() == Some(STAFF_CHAT)
                    && c.thread_id() == Some(thread)
            })
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_reopen_window_a_new_ticket_links_the_previous_one() {
    let app = TestApp::spawn_with(|s| s.support.reopen_days = 0).await;
    let first = open_ticket(&app, 42).await;
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(first.thread), "/close");
    nth_call(&app, "closeForumTopic", 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    app.say(42, "/human").await;
    let second = app
        .api
        .wait_until(10, "a second card", |calls| {
            calls.iter().any(|c| {
                c.buttons().iter().any(|b| {
                    b.starts_with("ticket:claim:") && !b.ends_with(&format!(":{}", first.ticket))
                })
            })
        })
        .await
        .into_iter()
        .rfind(|c| c.buttons().iter().any(|b| b.starts_with("ticket:claim:")))
        .expect("second card");
    assert_ne!(second.thread_id(), Some(first.thread), "a new topic");
    assert!(
        second
            .text()
            .contains(&format!("工单 #{}：已关闭", first.ticket)),
        "the card lists the earlier ticket: {}",
        second.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_ticket_closes_its_topic_and_edits_its_card() {
    let app = TestApp::spawn().await;
    let Opened { thread, card, .. } = open_ticket(&app, 42).await;
    app.say(42, "/cancel").await;
    assert_eq!(
        nth_call(&app, "closeForumTopic", 1).await.thread_id(),
        Some(thread)
    );
    let edit = nth_call(&app, "editMessageText", 1).await;
    assert_eq!(edit.body["message_id"].as_i64(), card.message_id);
    assert!(edit.text().contains("商户已撤回"), "{}", edit.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_formatting_survives_and_an_edit_updates_the_merchants_copy() {
    let app = TestApp::spawn().await;
    let Opened { thread, .. } = open_ticket(&app, 42).await;
    let before = app.api.sent_to(42).len();
    let text = "请打开 设置 页面";
    let said = app.api.staff_formatted(
        STAFF_CHAT,
        AGENT_A,
        thread,
        text,
        serde_json::json!([{ "type": "bold", "offset": 4, "length": 2 }]),
    );
    let reply = app.api.nth_sent_to(42, before + 2).await;
    assert!(reply.html().contains("<b>设置</b>"), "{}", reply.html());
    app.api.staff_edit(
        STAFF_CHAT,
        AGENT_A,
        thread,
        said,
        "请打开 设置 页面，然后点“结算账户”",
    );
    let edit = app
        .api
        .wait_until(10, "the merchant's copy edited", |calls| {
            calls
                .iter()
                .any(|c| c.method == "editMessageText" && c.chat_id() == Some(42))
        })
        .await
        .into_iter()
        .find(|c| c.method == "editMessageText" && c.chat_id() == Some(42))
        .expect("edit");
    assert_eq!(edit.body["message_id"].as_i64(), reply.message_id);
    assert!(edit.text().contains("结算账户"), "{}", edit.text());
    assert!(
        edit.text().contains("客服 01"),
        "still signed: {}",
        edit.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_show_response_and_resolution_times_csat_and_agents() {
    let app = TestApp::spawn().await;
    let Opened { ticket, thread, .. } = open_ticket(&app, 42).await;
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "您好，我来处理");
    app.api
        .staff_text(STAFF_CHAT, AGENT_A, Some(thread), "/close");
    let closed = app
        .api
        .wait_until(10, "the rating question", |calls| {
            calls.iter().any(|c| {
                c.chat_id() == Some(42) && c.buttons().contains(&format!("csat:5:{ticket}"))
            })
        })
        .await
        .into_iter()
        .rfind(|c| c.chat_id() == Some(42) && c.buttons().contains(&format!("csat:5:{ticket}")))
        .expect("rating question");
    app.press(42, &closed, &format!("csat:5:{ticket}")).await;
    app.api.staff_text(STAFF_CHAT, AGENT_A, None, "/stats");
    let stats = staff_says(&app, "服务统计").await;
    assert!(stats.text().contains("全部：1 个工单"), "{}", stats.text());
    assert!(stats.text().contains("满意度 5.0 (1)"), "{}", stats.text());
    assert!(
        stats.text().contains("User501：1 个工单"),
        "{}",
        stats.text()
    );
    let metrics = reqwest::get(format!("{}/metrics", app.http_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("posdesk_ticket_csat_average{agent=\"User501\"} 5"),
        "{metrics}"
    );
    assert!(metrics.contains("posdesk_ticket_first_response_seconds{agent=\"\",quantile=\"0.5\"}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitted_requests_are_posted_to_the_requests_topic_and_worked_from_there() {
    const TOPIC: i64 = 7;
    let app = TestApp::spawn_with(|s| {
        s.support.requests_topic = TOPIC;
        s.support.staff_user_ids = vec![AGENT_A];
    })
    .await;
    app.api.add_topic(TOPIC);
    let summary = app.verify(42, MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    let done = app.press(42, &second, "unbind:confirm").await;
    let reference = reference_in(&done.text());
    let post = app
        .api
        .wait_until(10, "the request's post", |calls| {
            calls
                .iter()
                .any(|c| c.thread_id() == Some(TOPIC) && c.text().contains(&reference))
        })
        .await
        .into_iter()
        .find(|c| c.thread_id() == Some(TOPIC) && c.text().contains(&reference))
        .expect("post");
    assert!(post.text().contains("138****1234"), "{}", post.text());
    let post_id = post.message_id.expect("post id");
    let processing = format!("request:processing:{reference}");
    assert!(post.buttons().contains(&processing), "{:?}", post.buttons());

    // Not staff: refused, nothing changes.
    let press = app
        .api
        .staff_press_in(STAFF_CHAT, AGENT_B, TOPIC, post_id, &processing);
    assert_eq!(toast(&app, &press).await, "仅限客服人员操作。");
    let status = |app: &TestApp| {
        let engine = app.engine.clone();
        let reference = reference.clone();
        async move {
            engine
                .store
                .request(&reference)
                .await
                .expect("db")
                .expect("row")
                .status
        }
    };
    assert_eq!(status(&app).await, "submitted");

    // Staff: like the API, and the post is edited.
    let before = app.api.sent_to(42).len();
    let press = app
        .api
        .staff_press_in(STAFF_CHAT, AGENT_A, TOPIC, post_id, &processing);
    assert!(toast(&app, &press).await.contains(&reference));
    app.api.nth_sent_to(42, before + 1).await;
    assert_eq!(status(&app).await, "processing");
    let edit = nth_call(&app, "editMessageText", 1).await;
    assert_eq!(edit.body["message_id"].as_i64(), Some(post_id));
    assert!(!edit.buttons().contains(&processing));

    // Rejected with the reason as a reply, in the topic.
    app.api.staff_press_in(
        STAFF_CHAT,
        AGENT_A,
        TOPIC,
        post_id,
        &format!("request:rejected:{reference}"),
    );
    let ask = staff_says(&app, "写明驳回申请").await;
    assert_eq!(ask.thread_id(), Some(TOPIC));
    app.api.staff_reply(
        STAFF_CHAT,
        AGENT_A,
        TOPIC,
        (ask.message_id.expect("ask id"), None),
        "资料不全",
    );
    let told = app.api.nth_sent_to(42, before + 2).await;
    assert!(told.text().contains("资料不全"), "{}", told.text());
    assert_eq!(status(&app).await, "rejected");
    let edit = nth_call(&app, "editMessageText", 2).await;
    assert!(edit.text().contains("资料不全"), "{}", edit.text());
    assert!(
        edit.buttons().is_empty(),
        "nothing left to do: {:?}",
        edit.buttons()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_through_the_api_edits_the_card_of_an_active_ticket() {
    let app = TestApp::spawn().await;
    let summary = app.verify(42, MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    let done = app.press(42, &second, "unbind:confirm").await;
    let reference = reference_in(&done.text());
    let Opened { card, .. } = open_ticket(&app, 42).await;
    let response = app
        .set_status(&reference, "processing", None, "backoffice-token")
        .await;
    assert!(response.status().is_success());
    let edit = nth_call(&app, "editMessageText", 1).await;
    assert_eq!(edit.body["message_id"].as_i64(), card.message_id);
    assert!(
        edit.text().contains("处理中") || edit.text().contains(&reference),
        "{}",
        edit.text()
    );
    assert!(
        !edit
            .buttons()
            .contains(&format!("request:processing:{reference}")),
        "{:?}",
        edit.buttons()
    );
}

/// The staff group's messages in a topic: copies and texts, in order.
fn topic_posts(app: &TestApp, thread: i64) -> Vec<Call> {
    app.api
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(c.method.as_str(), "sendMessage" | "copyMessage")
                && c.chat_id() == Some(STAFF_CHAT)
                && c.thread_id() == Some(thread)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_waiting_for_the_groups_rate_goes_as_one_relay_and_replies_still_reach_the_merchant()
 {
    // Telegram's limits on: the group takes 5 at once, then one every 3 s.
    let app = TestApp::spawn_with(|s| s.telegram.throttle = true).await;
    let Opened { thread, .. } = open_ticket(&app, 42).await;
    let before = topic_posts(&app, thread).len();
    let texts: Vec<String> = (1..=9)
        .map(|n| format!("第{n}条：终端提示结算失败"))
        .collect();
    let mut ids = Vec::new();
    for text in &texts {
        ids.push(app.api.merchant_text(42, "zh-hans", text));
    }
    // Every text reaches the topic, once and in order, in fewer messages.
    let seen = |posts: &[Call]| -> Vec<String> {
        posts
            .iter()
            .flat_map(|c| match c.method.as_str() {
                "copyMessage" => {
                    let id = c.body["message_id"].as_i64();
                    ids.iter()
                        .position(|m| Some(*m) == id)
                        .map(|i| vec![texts[i].clone()])
                        .unwrap_or_default()
                }
                _ => texts
                    .iter()
                    .filter(|t| c.text().contains(t.as_str()))
                    .cloned()
                    .collect(),
            })
            .collect()
    };
    app.api
        .wait_until(30, "all nine texts in the topic", |_| {
            seen(&topic_posts(&app, thread)[before..]).len() >= texts.len()
        })
        .await;
    let posts = topic_posts(&app, thread)[before..].to_vec();
    assert_eq!(seen(&posts), texts, "each text once, in order");
    assert!(
        posts.len() < texts.len(),
        "{} messages for {} texts",
        posts.len(),
        texts.len()
    );
    let merged = posts
        .iter()
        .find(|c| c.method == "sendMessage" && c.text().contains(&texts[8]))
        .expect("the last texts merged into one message");
    let body = merged.text();
    assert!(
        body.contains("User42") && body.contains("说：\n第9条"),
        "each part under its sender and time: {body}"
    );
    assert!(
        Regex::new(r"User42 \d{2}:\d{2} 说：")
            .expect("regex")
            .find_iter(&body)
            .count()
            >= 2,
        "{body}"
    );
    // Every row marked sent: nothing pending, nothing sent twice.
    for _ in 0..50 {
        if app.engine.store.outbox_pending_count().await.expect("db") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.engine.store.outbox_pending_count().await.expect("db"),
        0
    );

    // An agent answering the merged message reaches the merchant.
    let to_merchant = app.api.sent_to(42).len();
    app.api.staff_reply(
        STAFF_CHAT,
        AGENT_A,
        thread,
        (merged.message_id.expect("id"), None),
        "请重启终端后再试一次",
    );
    app.api
        .wait_until(10, "the agent's answer at the merchant", |calls| {
            calls
                .iter()
                .filter(|c| c.chat_id() == Some(42) && c.method == "sendMessage")
                .skip(to_merchant)
                .any(|c| c.text().contains("客服 01：\n请重启终端后再试一次"))
        })
        .await;
}

/// The edits of a ticket's card so far.
fn card_edits(app: &TestApp, card: &Call) -> Vec<Call> {
    app.api
        .calls_of("editMessageText")
        .into_iter()
        .filter(|c| {
            c.chat_id() == Some(STAFF_CHAT) && c.body["message_id"].as_i64() == card.message_id
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cards_last_messages_follow_the_merchant_one_edit_a_burst() {
    let app = TestApp::spawn().await;
    let Opened { card, .. } = open_ticket(&app, 42).await;
    let before = card_edits(&app, &card).len();
    for n in 1..=5 {
        app.api
            .merchant_text(42, "zh-hans", &format!("刷卡显示交易失败 {n}"));
    }
    app.api
        .wait_until(10, "the card showing the burst", |_| {
            card_edits(&app, &card)
                .iter()
                .any(|c| c.text().contains("刷卡显示交易失败 5"))
        })
        .await;
    // Quiet for longer than the debounce: still that one edit.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let edits = card_edits(&app, &card);
    assert_eq!(edits.len(), before + 1, "one edit for the burst");
    let shown = edits[before].text();
    for n in 1..=5 {
        assert!(
            shown.contains(&format!("说：刷卡显示交易失败 {n}")),
            "{shown}"
        );
    }
    // A later message: the card follows again.
    app.api.merchant_text(42, "zh-hans", "现在可以了吗");
    app.api
        .wait_until(10, "the card showing the next message", |_| {
            card_edits(&app, &card)
                .iter()
                .any(|c| c.text().contains("现在可以了吗"))
        })
        .await;
    assert_eq!(card_edits(&app, &card).len(), before + 2);
    // The buttons stay on the edited card.
    assert!(
        card_edits(&app, &card)
            .last()
            .is_some_and(|c| c.buttons().iter().any(|b| b.starts_with("ticket:claim:"))),
        "the card keeps its buttons"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_edit_of_a_photos_caption_reaches_the_merchants_copy() {
    let app = TestApp::spawn().await;
    let Opened { thread, .. } = open_ticket(&app, 42).await;
    let photo = app
        .api
        .staff_photo(STAFF_CHAT, AGENT_A, thread, "这是设置页面");
    let copy = app
        .api
        .wait_until(10, "the photo copied to the merchant", |calls| {
            calls
                .iter()
                .any(|c| c.method == "copyMessage" && c.chat_id() == Some(42))
        })
        .await
        .into_iter()
        .find(|c| c.method == "copyMessage" && c.chat_id() == Some(42))
        .expect("copy");
    assert_eq!(copy.body["message_id"].as_i64(), Some(photo));
    app.api.staff_edit_caption(
        STAFF_CHAT,
        AGENT_A,
        thread,
        photo,
        "这是设置页面，点“结算账户”",
        serde_json::json!([{ "type": "bold", "offset": 9, "length": 4 }]),
    );
    let edit = app
        .api
        .wait_until(10, "the copy's caption edited", |calls| {
            calls
                .iter()
                .any(|c| c.method == "editMessageCaption" && c.chat_id() == Some(42))
        })
        .await
        .into_iter()
        .find(|c| c.method == "editMessageCaption" && c.chat_id() == Some(42))
        .expect("caption edit");
    assert_eq!(edit.body["message_id"].as_i64(), copy.message_id);
    let caption = edit.body["caption"].as_str().unwrap_or("");
    assert!(
        caption.contains("<b>结算账户</b>"),
        "formatting kept: {caption}"
    );
    assert_eq!(edit.body["parse_mode"].as_str(), Some("HTML"));
    // Not sent again as a new message, and nothing for the topic.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.api
            .calls_of("copyMessage")
            .iter()
            .filter(|c| c.chat_id() == Some(42))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_reason_too_long_gets_one_line_and_the_next_reply_still_counts() {
    let app = TestApp::spawn().await;
    let summary = app.verify(42, MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    let done = app.press(42, &second, "unbind:confirm").await;
    let reference = reference_in(&done.text());
    let Opened { thread, card, .. } = open_ticket(&app, 42).await;
    let card_id = card.message_id.expect("card id");
    app.api.staff_press_in(
        STAFF_CHAT,
        AGENT_A,
        thread,
        card_id,
        &format!("request:rejected:{reference}"),
    );
    let ask = staff_says(&app, "写明驳回申请").await;
    let merchant_before = app.api.sent_to(42).len();
    let status = |app: &TestApp| {
        let reference = reference.clone();
        let store = app.engine.store.clone();
        async move {
            store
                .request(&reference)
                .await
                .expect("db")
                .expect("row")
                .status
        }
    };
    let too_long = "开户名与身份证不一致，".repeat(101);
    assert!(too_long.chars().count() > 1000);
    app.api.staff_reply(
        STAFF_CHAT,
        AGENT_A,
        thread,
        (ask.message_id.expect("ask id"), None),
        &too_long,
    );
    let answer = staff_says(&app, "驳回原因太长").await;
    assert_eq!(answer.thread_id(), Some(thread));
    assert!(answer.text().contains("1000"), "{}", answer.text());
    assert!(!answer.text().contains('\n'), "one line: {}", answer.text());
    assert_eq!(status(&app).await, "submitted", "nothing changed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.api.sent_to(42).len(),
        merchant_before,
        "the merchant got nothing: no notice, no relay of the long text"
    );
    // The next reply is still taken as the reason.
    app.api.staff_reply(
        STAFF_CHAT,
        AGENT_A,
        thread,
        (answer.message_id.expect("answer id"), None),
        "开户名与身份证不一致",
    );
    let told = app.api.nth_sent_to(42, merchant_before + 1).await;
    assert!(
        told.text().contains("开户名与身份证不一致"),
        "{}",
        told.text()
    );
    assert_eq!(status(&app).await, "rejected");
}
