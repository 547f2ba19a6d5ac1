//! Foundation: menu, FAQ, buttons, restart, odd input.

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_shows_the_menu_in_chinese_and_english() {
    let app = TestApp::spawn().await;
    let reply = app.say(42, "/start").await;
    assert!(reply.text().contains("TestPay"), "{}", reply.text());
    assert_eq!(
        reply.buttons(),
        vec!["menu:unbind", "menu:status", "menu:faq", "menu:human"]
    );
    assert_eq!(reply.body["parse_mode"], "HTML");
    let reply = app.say_en(43, "/start").await;
    assert!(
        reply.text().is_ascii() || reply.text().contains("TestPay"),
        "{}",
        reply.text()
    );
    assert_eq!(reply.buttons().len(), 4);
    let zh = app.api.sent_to(42)[0].text();
    assert_ne!(zh, reply.text(), "English and Chinese menus differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_text_question_gets_its_faq_answer() {
    let app = TestApp::spawn().await;
    let reply = app.say(42, "验证码一直收不到怎么办").await;
    assert!(
        reply.buttons().contains(&"menu:human".to_string()),
        "{:?}",
        reply.buttons()
    );
    let expected = app.engine.texts.render(
        posdesk::domain::Lang::ZhCn,
        &posdesk::conversation::faq_message(
            app.engine
                .classifier
                .faq()
                .find("verification_failed")
                .map(|t| t.id)
                .expect("a topic"),
            app.engine.classifier.faq(),
            &app.settings,
        )
        .expect("an FAQ intent"),
    );
    assert_eq!(reply.html(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_asking_two_things_gets_the_first_answer_and_the_second_offered() {
    let app = TestApp::spawn().await;
    let before = app.api.sent_to(42).len();
    let first = app.say(42, "验证码收不到，另外解绑要多久").await;
    assert!(first.text().contains("验证码"), "{}", first.text());
    let also = app.api.nth_sent_to(42, before + 2).await;
    assert!(
        also.text().contains("您还问到了「解绑进度慢或卡住」"),
        "{}",
        also.text()
    );
    assert_eq!(also.buttons(), vec!["faq:unbind_stuck"]);
    let second = app.press(42, &also, "faq:unbind_stuck").await;
    assert!(second.text().contains("48"), "{}", second.text());

    // The same in English.
    let before = app.api.sent_to(43).len();
    app.api
        .merchant_text(43, "en", "how long does unbinding take and is there a fee");
    let first = app.api.nth_sent_to(43, before + 1).await;
    assert!(first.text().contains("48 hours"), "{}", first.text());
    let also = app.api.nth_sent_to(43, before + 2).await;
    assert!(
        also.text().starts_with("You also asked about"),
        "{}",
        also.text()
    );
    assert_eq!(also.buttons(), vec!["faq:unbind_cost"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn menu_button_press_opens_the_faq_menu_and_answers() {
    let app = TestApp::spawn().await;
    let menu = app.say(42, "/start").await;
    let faq = app.press(42, &menu, "menu:faq").await;
    assert!(
        faq.buttons().contains(&"faq:unbind_stuck".to_string()),
        "{:?}",
        faq.buttons()
    );
    let answer = app.press(42, &faq, "faq:unbind_stuck").await;
    assert!(
        answer.text().contains("48"),
        "SLA hours appear: {}",
        answer.text()
    );
    // The answer and the reply go out independently after the commit.
    let answered = app
        .api
        .wait_until(10, "both presses answered", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "answerCallbackQuery")
                .count()
                >= 2
        })
        .await
        .iter()
        .filter(|c| c.method == "answerCallbackQuery")
        .count();
    assert_eq!(answered, 2, "every button press is answered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_the_conversation_state() {
    let app = TestApp::spawn().await;
    app.say(42, "/unbind").await;
    let app = app.restart().await;
    let reply = app.say(42, crate::helpers::MERCHANT).await;
    assert!(
        reply.text().contains("138****1234"),
        "still expects the merchant number after restart: {}",
        reply.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_stickers_edits_and_long_texts_get_polite_replies() {
    let app = TestApp::spawn().await;
    app.api.merchant_photo(42, "zh-hans");
    let r1 = app.api.nth_sent_to(42, 1).await;
    app.api.merchant_sticker(42, "zh-hans");
    let r2 = app.api.nth_sent_to(42, 2).await;
    assert_eq!(r1.text(), r2.text());
    app.api.merchant_edit(42, "zh-hans", 1, "改一下");
    let r3 = app.api.nth_sent_to(42, 3).await;
    assert_ne!(r3.text(), r1.text());
    let r4 = app.say(42, &"长".repeat(5000)).await;
    assert!(r4.text().contains("1000"), "{}", r4.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_update_is_applied_once() {
    let app = TestApp::spawn().await;
    let update = app.api.merchant_text_update(42, "zh-hans", "/start");
    app.api.redeliver(update.clone());
    app.api.nth_sent_to(42, 1).await;
    app.api.redeliver(update);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(
        app.api.sent_to(42).len(),
        1,
        "the same update_id is applied once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_in_both_languages() {
    let app = TestApp::spawn().await;
    let calls = app
        .api
        .wait_until(10, "setMyCommands", |calls| {
            calls.iter().filter(|c| c.method == "setMyCommands").count() >= 3
        })
        .await;
    let langs: Vec<String> = calls
        .iter()
        .filter(|c| c.method == "setMyCommands")
        .map(|c| c.body["language_code"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        langs.contains(&"zh".to_string()) && langs.contains(&"en".to_string()),
        "{langs:?}"
    );
}
