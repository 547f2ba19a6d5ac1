//! Unbinding end to end: SMS gateway, codes, confirmation, limits, back office.

use regex::Regex;

use crate::helpers::{MERCHANT, TestApp};

fn reference_in(text: &str) -> String {
    Regex::new(r"UB-\d{8}-[2-9A-HJ-NP-Z]{5}")
        .expect("regex")
        .find(text)
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| panic!("no reference in {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_gateway_request_cannot_be_replayed_later() {
    let app = TestApp::spawn().await;
    app.say(42, "/unbind").await;
    app.say(42, MERCHANT).await;
    let sms = app.sms.nth(1).await;
    assert!(sms.signature_ok);
    let sent_at: i64 = sms
        .timestamp
        .parse()
        .expect("X-Posdesk-Timestamp is unix seconds");
    let secret = crate::sms_gateway::SECRET.as_bytes();
    let verify =
        |now| posdesk::otp::verify_request(secret, &sms.timestamp, &sms.signature, &sms.raw, now);
    assert!(verify(sent_at + 60), "accepted within five minutes");
    assert!(!verify(sent_at + 6 * 60), "refused six minutes later");
    // A fresh timestamp on the old signature does not verify either.
    let later = (sent_at + 6 * 60).to_string();
    assert!(!posdesk::otp::verify_request(
        secret,
        &later,
        &sms.signature,
        &sms.raw,
        sent_at + 6 * 60
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_unbinds_from_start_to_a_completed_notice() {
    let app = TestApp::spawn().await;
    let menu = app.say(42, "/start").await;
    let intro = app.press(42, &menu, "menu:unbind").await;
    assert!(intro.buttons().contains(&"unbind:cancel".to_string()));
    let sent = app.say(42, "m100 200 300").await;
    assert!(sent.text().contains("138****1234"), "{}", sent.text());
    let sms = app.sms.nth(1).await;
    assert!(sms.signature_ok, "the gateway checks X-Posdesk-Signature");
    assert_eq!(sms.merchant(), MERCHANT);
    assert_eq!(sms.body["purpose"], "unbind");
    assert_eq!(sms.body["phone"], "13800131234");
    let code = sms.code();
    assert_eq!(code.len(), 6);
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let summary = app.say(42, &spaced).await;
    assert!(
        summary.text().contains("6222 **** **** 0123"),
        "{}",
        summary.text()
    );
    assert_eq!(summary.buttons(), vec!["unbind:confirm", "unbind:cancel"]);
    let second = app.press(42, &summary, "unbind:confirm").await;
    assert_eq!(
        second.buttons(),
        vec!["unbind:confirm", "unbind:cancel"],
        "a second, explicit confirmation"
    );
    let done = app.press(42, &second, "unbind:confirm").await;
    let reference = reference_in(&done.text());

    let row = app
        .engine
        .store
        .request(&reference)
        .await
        .expect("db")
        .expect("request stored");
    assert_eq!(row.status, "submitted");
    assert_eq!(row.merchant_id, MERCHANT);

    let before = app.api.sent_to(42).len();
    let response = app
        .set_status(&reference, "processing", None, "backoffice-token")
        .await;
    assert_eq!(response.status(), 200);
    let processing = app.api.nth_sent_to(42, before + 1).await;
    assert!(processing.text().contains(&reference));
    let before = app.api.sent_to(42).len();
    let response = app
        .set_status(&reference, "completed", None, "backoffice-token")
        .await;
    assert_eq!(response.status(), 200);
    let completed = app.api.nth_sent_to(42, before + 1).await;
    assert!(completed.text().contains(&reference));
    assert_ne!(completed.text(), processing.text());

    let status = app.say(42, "/status").await;
    assert!(
        status.text().contains(&reference),
        "verified merchants see their requests: {}",
        status.text()
    );

    // Nothing secret in the database: no code, no full card number.
    let db = app.database_text().await;
    assert!(!db.contains(&code), "the code is never stored");
    assert!(!db.contains("6222021234567890123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_code_five_times_locks_entry_and_offers_a_person() {
    let app = TestApp::spawn().await;
    app.say(42, "/unbind").await;
    app.say(42, MERCHANT).await;
    let code = app.sms.nth(1).await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let reply = app.say(42, wrong).await;
        assert!(
            reply.text().contains(&left.to_string()),
            "attempts left {left}: {}",
            reply.text()
        );
    }
    let locked = app.say(42, wrong).await;
    assert!(
        locked.text().contains("30") && locked.text().contains("/unbind"),
        "locked for 30 minutes, /unbind afterwards: {}",
        locked.text()
    );
    assert_eq!(locked.buttons(), vec!["menu:human", "menu:main"]);
    // No ticket opens by itself, and nothing else is said.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let tickets = app
        .engine
        .store
        .list_tickets(true, 10)
        .await
        .expect("tickets");
    assert!(tickets.is_empty(), "no ticket unasked: {tickets:?}");
    assert_eq!(
        app.api.sent_to(42).last().map(|m| m.text()),
        Some(locked.text())
    );
    let again = app.say(42, &code).await;
    assert!(
        !again.text().contains("6222"),
        "the right code after the lock does not unlock"
    );
    // Asked for, a person gets the reason and the locked merchant number.
    let opened = app.press(42, &locked, "menu:human").await;
    assert!(!opened.text().is_empty());
    let tickets = app
        .engine
        .store
        .list_tickets(true, 10)
        .await
        .expect("tickets");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].reason, "code_locked");
    assert_eq!(tickets[0].merchant_id.as_deref(), Some(MERCHANT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_person_at_the_code_step_ends_the_unbinding_and_says_so() {
    let app = TestApp::spawn().await;
    app.say(42, "/unbind").await;
    app.say(42, MERCHANT).await;
    let code = app.sms.nth(1).await.code();
    let before = app.api.sent_to(42).len();
    let stopped = app.say(42, "转人工").await;
    assert!(
        stopped.text().contains("/unbind") && stopped.text().contains("没有提交"),
        "the unbinding stopped, nothing submitted, /unbind later: {}",
        stopped.text()
    );
    let opened = app.api.nth_sent_to(42, before + 2).await;
    assert!(opened.text().contains("人工客服"), "{}", opened.text());
    let tickets = app
        .engine
        .store
        .list_tickets(true, 10)
        .await
        .expect("tickets");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].reason, "user_request");
    assert_eq!(
        tickets[0].merchant_id.as_deref(),
        Some(MERCHANT),
        "staff see the number"
    );
    // The flow is over: the code no longer verifies anything (it goes to
    // nobody: deleted as a code, not relayed, not a summary).
    let after_code = app.say(42, &code).await;
    assert!(!after_code.text().contains("6222"), "{}", after_code.text());
    app.api
        .wait_until(10, "the code deleted", |calls| {
            calls
                .iter()
                .any(|c| c.method == "deleteMessage" && c.chat_id() == Some(42))
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_number_typed_at_idle_offers_unbinding_with_it() {
    let app = TestApp::spawn().await;
    let offer = app.say(42, "m100 200 300").await;
    assert!(offer.text().contains(MERCHANT), "{}", offer.text());
    assert_eq!(
        offer.buttons(),
        vec![
            "unbind:start:M100200300",
            "menu:status",
            "menu:faq",
            "menu:human"
        ]
    );
    assert!(
        app.sms.received().is_empty(),
        "nothing sent before the press"
    );
    let sent = app.press(42, &offer, "unbind:start:M100200300").await;
    assert!(sent.text().contains("138****1234"), "{}", sent.text());
    let code = app.sms.nth(1).await.code();
    let summary = app.say(42, &code).await;
    assert!(
        summary.text().contains("6222 **** **** 0123"),
        "{}",
        summary.text()
    );
    // A card number is still deleted, never offered.
    let card = app.say(42, "6222 0212 3456 7890 128").await;
    assert!(card.buttons().is_empty(), "{:?}", card.buttons());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_too_soon_is_refused_with_the_wait() {
    let app = TestApp::spawn().await;
    app.say(42, "/unbind").await;
    let sent = app.say(42, MERCHANT).await;
    let wait = app.press(42, &sent, "unbind:resend").await;
    assert!(
        Regex::new(r"\b(5\d|60)\b")
            .expect("regex")
            .is_match(&wait.text()),
        "seconds to wait: {}",
        wait.text()
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.sms.received().len(), 1, "no second SMS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_request_inside_the_limit_is_refused() {
    let app = TestApp::spawn_with(|s| s.unbind.max_per_period = 1).await;
    let summary = app.verify(42, MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    let done = app.press(42, &second, "unbind:confirm").await;
    let reference = reference_in(&done.text());
    // While pending: refused because a request is pending.
    let again = app.say(42, "/unbind").await;
    assert!(again.buttons().contains(&"unbind:cancel".to_string()));
    let pending = app.say(42, MERCHANT).await;
    assert!(
        pending.text().contains(&reference),
        "names the pending request: {}",
        pending.text()
    );
    // Once completed: refused because of the limit (1 per 30 days), with the date.
    let before = app.api.sent_to(42).len();
    assert_eq!(
        app.set_status(&reference, "completed", None, "backoffice-token")
            .await
            .status(),
        200
    );
    app.api.nth_sent_to(42, before + 1).await;
    app.say(42, "/unbind").await;
    let limit = app.say(42, MERCHANT).await;
    assert!(
        limit.text().contains("30"),
        "explains the limit: {}",
        limit.text()
    );
    assert!(
        Regex::new(r"\d{4}-\d{2}-\d{2}")
            .expect("regex")
            .is_match(&limit.text()),
        "says when: {}",
        limit.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_api_refuses_a_wrong_token_and_bad_input() {
    let app = TestApp::spawn().await;
    let summary = app.verify(42, MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    let done = app.press(42, &second, "unbind:confirm").await;
    let reference = reference_in(&done.text());
    assert_eq!(
        app.set_status(&reference, "completed", None, "wrong")
            .await
            .status(),
        401
    );
    assert_eq!(
        app.set_status(&reference, "finished", None, "backoffice-token")
            .await
            .status(),
        400
    );
    assert_eq!(
        app.set_status("UB-20200101-22222", "completed", None, "backoffice-token")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.set_status(
            &reference,
            "rejected",
            Some("银行卡信息不一致"),
            "backoffice-token"
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.set_status(&reference, "completed", None, "backoffice-token")
            .await
            .status(),
        409
    );
    let rejected = app
        .api
        .wait_until(10, "the rejection notice", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(42) && c.text().contains("银行卡信息不一致"))
        })
        .await
        .into_iter()
        .rfind(|c| c.chat_id() == Some(42) && c.text().contains("银行卡信息不一致"))
        .expect("found above");
    assert!(
        rejected.text().contains("银行卡信息不一致"),
        "{}",
        rejected.text()
    );
    assert!(rejected.buttons().contains(&"menu:human".to_string()));
    let health = reqwest::get(format!("{}/healthz", app.admin_url))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let metrics = reqwest::get(format!("{}/metrics", app.admin_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("posdesk_unbind_requests{status=\"rejected\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_merchant_number_gets_the_same_reply_and_no_sms() {
    let app = TestApp::spawn().await;
    app.say(42, "/unbind").await;
    let known = app.say(42, MERCHANT).await;
    app.say(43, "/unbind").await;
    let unknown = app.say(43, "ZZ9900112233").await;
    let mask = Regex::new(r"1\d\d\*\*\*\*\d{4}").expect("regex");
    assert!(
        mask.is_match(&known.text()) && mask.is_match(&unknown.text()),
        "{} / {}",
        known.text(),
        unknown.text()
    );
    assert_eq!(known.buttons(), unknown.buttons());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.sms.received().len(),
        1,
        "only the known merchant gets an SMS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_failure_is_explained_and_not_counted() {
    let app = TestApp::spawn().await;
    app.sms.answer(503);
    app.say(42, "/unbind").await;
    let before = app.api.sent_to(42).len();
    app.say(42, MERCHANT).await;
    // The code-sent reply, then the delivery failure.
    let failed = app.api.nth_sent_to(42, before + 2).await;
    assert!(
        failed.buttons().contains(&"unbind:resend".to_string()),
        "{}",
        failed.text()
    );
    app.sms.answer(200);
    let resent = app.press(42, &failed, "unbind:resend").await;
    assert!(
        resent.text().contains("138****1234"),
        "a new code goes out at once: {}",
        resent.text()
    );
    let code = app.sms.nth(2).await.code();
    let summary = app.say(42, &code).await;
    assert!(summary.text().contains("6222"), "{}", summary.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_with_full_card_numbers_stores_only_masks() {
    let app = TestApp::spawn().await;
    let csv = "\u{feff}merchant_id,name,phone,card_number,bank_name\n\
               M555666777,新店,13900001111,6212 2612 3456 7890 12,中国银行\n\
               bad id!,坏行,13900001111,6212261234567890,中国银行\n\
               M555666778,另一家,13900002222,4111-1111-1111-1111,建设银行\n";
    let pattern = app.settings.derive().expect("valid").merchant_pattern;
    let report = posdesk::merchants::import(&app.engine.store, csv.as_bytes(), &pattern, 0, |_| {})
        .await
        .expect("import");
    assert_eq!(report.inserted, 2);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 3);
    let text = app.database_text().await;
    for full in [
        "621226123456789012",
        "6212261234567890",
        "4111111111111111",
        "4111-1111-1111-1111",
        "6212 2612 3456 7890 12",
    ] {
        assert!(!text.contains(full), "{full} found in the database file");
    }
    assert!(text.contains("6212 **** **** 9012"));
}
