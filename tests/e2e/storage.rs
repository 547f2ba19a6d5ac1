//! One storage contract, run on SQLite and on PostgreSQL.

use posdesk::conversation::{Conversation, State, TicketReason, Write};
use posdesk::domain::{Lang, MerchantId, Reference};
use posdesk::storage::{MerchantRow, OutboxPayload, Priority};
use regex::Regex;

use crate::backends::stores;

fn merchant(id: &str) -> MerchantId {
    MerchantId::parse(id, &Regex::new("^[A-Z0-9]{6,20}$").expect("regex")).expect("valid id")
}

fn text(s: &str) -> OutboxPayload {
    OutboxPayload::Text {
        html: s.into(),
        buttons: vec![vec![("OK".into(), "menu:main".into())]],
    }
}

#[tokio::test]
async fn an_update_id_is_claimed_once() {
    for (name, store, _guard) in stores("an_update_id_is_claimed_once").await {
        let mut tx = store.begin().await.expect("begin");
        assert!(tx.claim_update(7, 1, 0).await.expect("claim"), "{name}");
        assert!(
            !tx.claim_update(7, 1, 0).await.expect("claim again"),
            "{name}"
        );
        tx.commit().await.expect("commit");
        let mut tx = store.begin().await.expect("begin");
        assert!(
            !tx.claim_update(7, 1, 0).await.expect("claim after commit"),
            "{name}"
        );
        tx.rollback().await.expect("rollback");
    }
}

#[tokio::test]
async fn conversations_round_trip_and_a_rollback_leaves_nothing() {
    for (name, store, _guard) in stores("conversations_round_trip").await {
        let conv = Conversation {
            state: State::AwaitingMerchantId {
                purpose: posdesk::conversation::Purpose::Unbind,
            },
            lang: Some(Lang::En),
            ..Conversation::default()
        };
        let mut tx = store.begin().await.expect("begin");
        tx.save_conversation(5, 5, &conv, Lang::En, 1)
            .expect("save");
        tx.enqueue(5, None, &text("hi"), Priority::Interactive, 1)
            .expect("enqueue");
        tx.rollback().await.expect("rollback");
        let mut tx = store.begin().await.expect("begin");
        assert_eq!(tx.load_conversation(5).await.expect("load"), None, "{name}");
        tx.save_conversation(5, 5, &conv, Lang::En, 1)
            .expect("save");
        tx.commit().await.expect("commit");
        assert_eq!(
            store.due_outbox(10, 10).await.expect("due").len(),
            0,
            "{name}: rolled back message is gone"
        );
        let mut tx = store.begin().await.expect("begin");
        assert_eq!(
            tx.load_conversation(5).await.expect("load"),
            Some(conv.clone()),
            "{name}"
        );
        assert_eq!(tx.chat_lang(5).await.expect("lang"), Lang::En);
        tx.commit().await.expect("commit");
    }
}

#[tokio::test]
async fn a_dropped_transaction_leaves_nothing_and_the_pool_stays_usable() {
    for (name, store, _guard) in stores("a_dropped_transaction").await {
        for round in 0..6 {
            let mut tx = store.begin().await.expect("begin");
            assert!(
                tx.claim_update(70, 7, 0).await.expect("claim"),
                "{name}: round {round}: the dropped claim did not stay"
            );
            tx.save_conversation(7, 7, &Conversation::default(), Lang::ZhCn, 1)
                .expect("save");
            drop(tx);
        }
        let mut tx = store.begin().await.expect("begin");
        assert_eq!(tx.load_conversation(7).await.expect("load"), None, "{name}");
        tx.commit().await.expect("commit");
    }
}

/// Connections of the store's pool: (open, idle in the pool).
fn pool_counts(store: &posdesk::storage::Store) -> (u32, usize) {
    match store {
        posdesk::storage::Store::Sqlite(s) => (s.pool.size(), s.pool.num_idle()),
        posdesk::storage::Store::Postgres(p) => (p.size(), p.num_idle()),
    }
}

/// Waits up to two seconds for `check` to hold (connections go back to the
/// pool on a task of their own).
async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if check() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    check()
}

#[tokio::test]
async fn a_kept_connection_serves_the_next_transaction_and_is_let_go_on_close() {
    use posdesk::storage::ConnKeeper;
    for (name, store, _guard) in stores("a_kept_connection").await {
        let keeper = std::sync::Arc::new(ConnKeeper::default());
        for round in 0..3 {
            let mut tx = store.begin_kept(&keeper).await.expect("begin");
            assert!(tx.claim_update(80 + round, 8, 0).await.expect("claim"));
            tx.commit().await.expect("commit");
            assert!(
                eventually(|| {
                    let (open, idle) = pool_counts(&store);
                    open >= 1 && idle + 1 == open as usize
                })
                .await,
                "{name}: round {round}: the committed connection went back to the pool: {:?}",
                pool_counts(&store)
            );
        }
        // A failed (dropped) transaction does not keep its connection.
        let mut tx = store.begin_kept(&keeper).await.expect("begin");
        assert!(!tx.claim_update(80, 8, 0).await.expect("claim again"));
        drop(tx);
        let mut tx = store.begin_kept(&keeper).await.expect("begin after a drop");
        assert!(tx.claim_update(90, 9, 0).await.expect("claim"));
        tx.commit().await.expect("commit");
        keeper.close();
        assert!(
            eventually(|| {
                let (open, idle) = pool_counts(&store);
                idle == open as usize
            })
            .await,
            "{name}: the kept connection was not let go"
        );
        // Closing the keeper stops keeping: the pool closes without waiting.
        let mut tx = store.begin_kept(&keeper).await.expect("begin after close");
        assert!(tx.claim_update(91, 9, 0).await.expect("claim"));
        tx.commit().await.expect("commit");
        tokio::time::timeout(std::time::Duration::from_secs(5), store.close())
            .await
            .unwrap_or_else(|_| panic!("{name}: the pool did not close"));
    }
}

#[tokio::test]
async fn a_batch_claims_its_updates_and_loads_its_chats_at_once() {
    for (name, store, _guard) in stores("a_batch_claims_and_loads").await {
        let conv = Conversation {
            lang: Some(Lang::En),
            ..Conversation::default()
        };
        let mut tx = store.begin().await.expect("begin");
        assert!(tx.claim_update(1, 10, 0).await.expect("claim"), "{name}");
        tx.save_conversation(10, 10, &conv, Lang::En, 1)
            .expect("save");
        tx.save_conversation(11, 11, &conv, Lang::En, 1)
            .expect("save");
        tx.commit().await.expect("commit");
        let mut tx = store.begin().await.expect("begin");
        let ticket = tx
            .open_ticket(
                11,
                11,
                "Li",
                None,
                Lang::En,
                TicketReason::UserRequest,
                false,
                2,
            )
            .await
            .expect("ticket");
        tx.commit().await.expect("commit");
        let mut tx = store.begin().await.expect("begin");
        let claimed = tx
            .claim_and_load(&[10, 11, 12], &[(1, 10), (2, 11), (3, 12)], 5)
            .await
            .expect("claim and load");
        assert_eq!(
            claimed.fresh,
            [2, 3].into_iter().collect(),
            "{name}: update 1 was applied before"
        );
        assert_eq!(claimed.conversations.len(), 2, "{name}: chat 12 is new");
        assert_eq!(claimed.conversations.get(&10), Some(&conv), "{name}");
        assert_eq!(claimed.tickets.len(), 1, "{name}");
        assert_eq!(
            claimed.tickets.get(&11).map(|t| t.id),
            Some(ticket.id),
            "{name}"
        );
        tx.commit().await.expect("commit");
    }
}

#[tokio::test]
async fn any_text_survives_the_commit_script() {
    for (name, store, _guard) in stores("any_text_survives").await {
        // (A NUL reaches the database only as JSON's \u0000.)
        let tricky = "它's \\ \\\\' ''; DROP TABLE outbox; -- 😀 \0end".to_string();
        let mut tx = store.begin().await.expect("begin");
        tx.enqueue(3, None, &text(&tricky), Priority::Interactive, 1)
            .expect("enqueue");
        tx.commit().await.expect("commit");
        let due = store.due_outbox(10, 10).await.expect("due");
        assert_eq!(due.len(), 1, "{name}");
        assert_eq!(due[0].payload, text(&tricky), "{name}");
    }
}

async fn upsert_merchants(store: &posdesk::storage::Store, ids: &[&str]) {
    for id in ids {
        store
            .upsert_merchant(
                &MerchantRow {
                    merchant_id: (*id).into(),
                    name: "Shop".into(),
                    phone: "13800131234".into(),
                    card_mask: "6222 **** **** 0123".into(),
                    bank_name: "Bank".into(),
                },
                0,
            )
            .await
            .expect("upsert");
    }
}

/// Commits `writes` in one transaction, without reading anything first.
async fn commit_writes(store: &posdesk::storage::Store, writes: Vec<Write>, at: i64) {
    let mut tx = store.begin().await.expect("begin");
    for write in &writes {
        tx.apply(write, 9, 77, at).await.expect("apply");
    }
    tx.commit().await.expect("commit");
}

/// The merchant facts (for user 77) of each merchant, read in a
/// transaction of their own.
async fn facts_of<const N: usize>(
    store: &posdesk::storage::Store,
    merchants: [&MerchantId; N],
) -> [posdesk::conversation::MerchantFacts; N] {
    let mut tx = store.begin().await.expect("begin");
    let mut facts = Vec::with_capacity(N);
    for merchant in merchants {
        facts.push(tx.merchant_facts(merchant, 77, 200).await.expect("facts"));
    }
    tx.commit().await.expect("commit");
    facts
        .try_into()
        .unwrap_or_else(|_| panic!("one set of facts per merchant"))
}

#[tokio::test]
async fn unbinding_writes_committed_unread_land_in_order() {
    for (name, store, _guard) in stores("unbinding_writes_committed_unread").await {
        let (a, b) = (merchant("M100200301"), merchant("M100200302"));
        upsert_merchants(&store, &[a.as_str(), b.as_str()]).await;
        let issued = |m: &MerchantId, hash: &str| Write::OtpIssued {
            merchant: m.clone(),
            code_hash: hash.into(),
            expires_at: 9000,
        };
        let reference = Reference::generate("20261129", [9, 8, 7, 6, 5]);
        // Each merchant's code state changed once: one statement per kind.
        commit_writes(
            &store,
            vec![
                issued(&a, "h1"),
                issued(&b, "h2"),
                Write::RequestCreated {
                    reference: reference.clone(),
                    merchant: a.clone(),
                },
            ],
            100,
        )
        .await;
        commit_writes(
            &store,
            vec![
                Write::OtpFailed {
                    merchant: a.clone(),
                },
                Write::OtpLocked {
                    merchant: b.clone(),
                    until: 5000,
                },
            ],
            110,
        )
        .await;
        let [facts_a, facts_b] = facts_of(&store, [&a, &b]).await;
        assert_eq!(facts_a.otp.code_hash.as_deref(), Some("h1"), "{name}");
        assert_eq!(facts_a.otp.failures, 1, "{name}");
        assert_eq!(facts_a.otp.sends_last_hour, 1, "{name}");
        assert_eq!(facts_a.user_sends_last_hour, 2, "{name}");
        assert_eq!(facts_a.requests.len(), 1, "{name}");
        assert_eq!(facts_a.requests[0].reference, reference, "{name}");
        assert_eq!(facts_b.otp.code_hash, None, "{name}: locked");
        assert_eq!(facts_b.otp.locked_until, Some(5000), "{name}");
        assert_eq!(facts_b.otp.failures, 0, "{name}");
        // One merchant's code state changed twice: the order must hold (a
        // refund after the send takes it back; a send after the refund stays).
        commit_writes(
            &store,
            vec![
                issued(&a, "h3"),
                Write::OtpRefunded {
                    merchant: a.clone(),
                },
            ],
            120,
        )
        .await;
        commit_writes(
            &store,
            vec![
                Write::OtpRefunded {
                    merchant: b.clone(),
                },
                issued(&b, "h4"),
            ],
            130,
        )
        .await;
        let [facts_a, facts_b] = facts_of(&store, [&a, &b]).await;
        assert_eq!(facts_a.otp.code_hash, None, "{name}: refunded last");
        assert_eq!(
            facts_a.otp.sends_last_hour, 1,
            "{name}: the refund took back one send"
        );
        assert_eq!(
            facts_b.otp.code_hash.as_deref(),
            Some("h4"),
            "{name}: sent last"
        );
        assert_eq!(facts_b.otp.sends_last_hour, 1, "{name}");
        commit_writes(
            &store,
            vec![Write::OtpConsumed {
                merchant: b.clone(),
            }],
            140,
        )
        .await;
        let [facts_b] = facts_of(&store, [&b]).await;
        assert_eq!(facts_b.otp.code_hash, None, "{name}: used");
    }
}

#[tokio::test]
async fn otp_writes_show_in_merchant_facts() {
    for (name, store, _guard) in stores("otp_writes_show_in_merchant_facts").await {
        let m = merchant("M100200300");
        upsert_merchants(&store, &[m.as_str()]).await;
        let mut tx = store.begin().await.expect("begin");
        tx.apply(
            &Write::OtpIssued {
                merchant: m.clone(),
                code_hash: "abc".into(),
                expires_at: 1000,
            },
            9,
            77,
            100,
        )
        .await
        .expect("issue");
        tx.apply(
            &Write::OtpFailed {
                merchant: m.clone(),
            },
            9,
            77,
            110,
        )
        .await
        .expect("fail");
        tx.apply(
            &Write::OtpFailed {
                merchant: m.clone(),
            },
            9,
            77,
            120,
        )
        .await
        .expect("fail");
        let facts = tx.merchant_facts(&m, 77, 200).await.expect("facts");
        assert!(facts.merchant.is_some(), "{name}");
        assert_eq!(facts.otp.code_hash.as_deref(), Some("abc"), "{name}");
        assert_eq!(facts.otp.failures, 2, "{name}");
        assert_eq!(facts.otp.sends_last_hour, 1, "{name}");
        assert_eq!(facts.user_sends_last_hour, 1, "{name}");
        assert_eq!(facts.otp.last_sent_at, Some(100), "{name}");
        tx.apply(
            &Write::OtpRefunded {
                merchant: m.clone(),
            },
            9,
            77,
            130,
        )
        .await
        .expect("refund");
        let facts = tx.merchant_facts(&m, 77, 200).await.expect("facts");
        assert_eq!(
            facts.otp.sends_last_hour, 0,
            "{name}: a refused send is not counted"
        );
        assert_eq!(facts.otp.code_hash, None, "{name}");
        tx.apply(
            &Write::OtpLocked {
                merchant: m.clone(),
                until: 5000,
            },
            9,
            77,
            140,
        )
        .await
        .expect("lock");
        let facts = tx.merchant_facts(&m, 77, 200).await.expect("facts");
        assert_eq!(facts.otp.locked_until, Some(5000), "{name}");
        assert_eq!(facts.otp.failures, 0, "{name}");
        let unknown = tx
            .merchant_facts(&merchant("ZZZ999999"), 77, 200)
            .await
            .expect("facts");
        assert!(unknown.merchant.is_none(), "{name}");
        let reference = Reference::generate("20261129", [1, 2, 3, 4, 5]);
        tx.apply(
            &Write::RequestCreated {
                reference: reference.clone(),
                merchant: m.clone(),
            },
            9,
            77,
            150,
        )
        .await
        .expect("request");
        let facts = tx.merchant_facts(&m, 77, 200).await.expect("facts");
        assert_eq!(facts.requests.len(), 1, "{name}");
        assert_eq!(facts.requests[0].reference, reference, "{name}");
        tx.commit().await.expect("commit");
        assert_eq!(
            store
                .list_requests(Some("submitted"), 10)
                .await
                .expect("list")
                .len(),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn facts_of_several_merchants_are_read_at_once_and_writes_refresh_them() {
    for (name, store, _guard) in stores("facts_of_several_merchants").await {
        let (a, b) = (merchant("AAA111111"), merchant("BBB222222"));
        for m in [&a, &b] {
            store
                .upsert_merchant(
                    &MerchantRow {
                        merchant_id: m.as_str().into(),
                        name: "店铺 'quoted' \\ 名".into(),
                        phone: "13800131234".into(),
                        card_mask: "6222 **** **** 0123".into(),
                        bank_name: "Bank".into(),
                    },
                    0,
                )
                .await
                .expect("upsert");
        }
        let mut tx = store.begin().await.expect("begin");
        for n in 0..25u8 {
            tx.apply(
                &Write::RequestCreated {
                    reference: Reference::generate("20261129", [n, 1, 2, 3, 4]),
                    merchant: a.clone(),
                },
                9,
                77,
                i64::from(n),
            )
            .await
            .expect("request");
        }
        tx.read_facts(&[(a.clone(), 77), (b.clone(), 88), (a.clone(), 88)], 100)
            .await
            .expect("read");
        let facts_a = tx.merchant_facts(&a, 77, 100).await.expect("facts");
        assert_eq!(facts_a.requests.len(), 20, "{name}: the latest 20");
        assert_eq!(facts_a.requests[0].created_at, 24, "{name}: newest first");
        assert_eq!(
            facts_a.merchant.as_ref().map(|m| m.name.as_str()),
            Some("店铺 'quoted' \\ 名"),
            "{name}"
        );
        let facts_b = tx.merchant_facts(&b, 88, 100).await.expect("facts");
        assert!(facts_b.requests.is_empty(), "{name}");
        // User 88 is sent a code for A: A's facts and user 88's counts change.
        tx.apply(
            &Write::OtpIssued {
                merchant: a.clone(),
                code_hash: "h".into(),
                expires_at: 500,
            },
            9,
            88,
            100,
        )
        .await
        .expect("issue");
        let facts_b = tx.merchant_facts(&b, 88, 100).await.expect("facts");
        assert_eq!(facts_b.user_sends_last_hour, 1, "{name}");
        assert_eq!(facts_b.otp.sends_last_hour, 0, "{name}");
        let facts_a = tx.merchant_facts(&a, 77, 100).await.expect("facts");
        assert_eq!(facts_a.otp.sends_last_hour, 1, "{name}");
        assert_eq!(facts_a.user_sends_last_hour, 0, "{name}");
        tx.commit().await.expect("commit");
    }
}

#[tokio::test]
async fn outbox_keeps_order_and_retries() {
    for (name, store, _guard) in stores("outbox_keeps_order_and_retries").await {
        let mut tx = store.begin().await.expect("begin");
        tx.enqueue(1, None, &text("a"), Priority::Bulk, 0)
            .expect("a");
        tx.enqueue(1, None, &text("b"), Priority::Interactive, 0)
            .expect("b");
        tx.enqueue(2, None, &text("c"), Priority::Interactive, 0)
            .expect("c");
        tx.commit().await.expect("commit");
        let due = store.due_outbox(0, 10).await.expect("due");
        let (a, b, c) = (id_of(&due, "a"), id_of(&due, "b"), id_of(&due, "c"));
        assert!(a < b && b < c, "{name}: ids follow the order queued");
        let ids: Vec<i64> = due.iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![b, c, a], "{name}: interactive first");
        assert!(
            store.has_earlier_pending(1, b).await.expect("earlier"),
            "{name}"
        );
        store.outbox_retry(a, 500, "429").await.expect("retry");
        assert_eq!(
            store
                .due_outbox(100, 10)
                .await
                .expect("due")
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>(),
            vec![c],
            "{name}: a waits for its retry, and b (same chat, later) waits behind it"
        );
        store.outbox_sent(&[b], 1).await.expect("sent");
        store.outbox_sent(&[c], 1).await.expect("sent");
        assert_eq!(
            store.outbox_pending_count().await.expect("count"),
            1,
            "{name}"
        );
        assert_eq!(
            store.due_outbox(600, 10).await.expect("due")[0].id,
            a,
            "{name}"
        );
    }
}

#[tokio::test]
async fn one_open_ticket_per_chat_and_queue_positions() {
    for (name, store, _guard) in stores("one_open_ticket_per_chat").await {
        let mut tx = store.begin().await.expect("begin");
        let first = tx
            .open_ticket(
                10,
                10,
                "A",
                None,
                Lang::ZhCn,
                TicketReason::UserRequest,
                true,
                1,
            )
            .await
            .expect("open");
        let second = tx
            .open_ticket(
                11,
                11,
                "B",
                Some("M100200300"),
                Lang::En,
                TicketReason::CodeLocked,
                true,
                2,
            )
            .await
            .expect("open");
        assert_eq!((first.position, second.position), (1, 2), "{name}");
        tx.commit().await.expect("commit");
        let mut tx = store.begin().await.expect("begin");
        assert!(
            tx.open_ticket(
                10,
                10,
                "A",
                None,
                Lang::ZhCn,
                TicketReason::UserRequest,
                true,
                3
            )
            .await
            .is_err(),
            "{name}: second open ticket refused"
        );
        tx.rollback().await.expect("rollback");
        let mut tx = store.begin().await.expect("begin");
        assert!(
            tx.claim_ticket(first.id, 501, "Agent", 5)
                .await
                .expect("claim")
        );
        assert!(
            !tx.claim_ticket(first.id, 502, "Other", 6)
                .await
                .expect("claim twice"),
            "{name}"
        );
        let view = tx
            .open_ticket_of_chat(11)
            .await
            .expect("view")
            .expect("open");
        assert_eq!(view.position, 1, "{name}: claimed tickets leave the queue");
        assert!(tx.close_ticket(first.id, 7).await.expect("close"));
        assert_eq!(
            tx.open_ticket_of_chat(10).await.expect("view"),
            None,
            "{name}"
        );
        tx.commit().await.expect("commit");
        assert_eq!(
            store.list_tickets(true, 10).await.expect("list").len(),
            1,
            "{name}"
        );
        store
            .set_ticket_thread(second.id, Some(4242))
            .await
            .expect("thread");
        assert_eq!(
            store
                .ticket_by_thread(4242)
                .await
                .expect("by thread")
                .map(|t| t.id),
            Some(second.id),
            "{name}"
        );
    }
}

#[tokio::test]
async fn secrets_are_created_once() {
    for (name, store, _guard) in stores("secrets_are_created_once").await {
        let a = store.secret("k", || "first".into()).await.expect("secret");
        let b = store.secret("k", || "second".into()).await.expect("secret");
        assert_eq!((a.as_str(), b.as_str()), ("first", "first"), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_db_round_trips_a_populated_database_through_postgresql() {
    let Some(pg_url) = crate::backends::postgres_url("copy_db_round_trips").await else {
        return;
    };
    // A populated SQLite database: merchants, a finished unbinding, a ticket, turns, outbox.
    let app = crate::helpers::TestApp::spawn().await;
    let summary = app.verify(42, crate::helpers::MERCHANT).await;
    let second = app.press(42, &summary, "unbind:confirm").await;
    app.press(42, &second, "unbind:confirm").await;
    app.say(43, "/human").await;
    // Stop the bot so nothing changes while copying (as an operator would).
    let mut app = app;
    let url = app.settings.database.url.clone();
    app.stop().await;
    let source = posdesk::storage::Store::connect(&url, 2)
        .await
        .expect("reopen");
    let before = source.dump_for_comparison().await.expect("dump");
    assert!(before.iter().any(|l| l.starts_with("unbind_requests:")));
    assert!(before.iter().any(|l| l.starts_with("tickets:")));

    let pg = posdesk::storage::Store::connect(&pg_url, 4)
        .await
        .expect("pg");
    pg.migrate().await.expect("migrate");
    source.copy_into(&pg).await.expect("copy to PostgreSQL");
    assert_eq!(
        pg.dump_for_comparison().await.expect("dump"),
        before,
        "source -> PostgreSQL"
    );
    assert!(
        source.copy_into(&pg).await.is_err(),
        "a non-empty target is refused"
    );

    let (back_url, _dir) = crate::backends::sqlite_url();
    let back = posdesk::storage::Store::connect(&back_url, 2)
        .await
        .expect("sqlite");
    back.migrate().await.expect("migrate");
    pg.copy_into(&back).await.expect("copy back");
    assert_eq!(
        back.dump_for_comparison().await.expect("dump"),
        before,
        "PostgreSQL -> SQLite"
    );
    // Identity columns continue after the copied rows.
    let mut tx = pg.begin().await.expect("begin");
    tx.enqueue(
        1,
        None,
        &posdesk::storage::OutboxPayload::Text {
            html: "x".into(),
            buttons: vec![],
        },
        posdesk::storage::Priority::Bulk,
        0,
    )
    .expect("insert after copy");
    tx.commit().await.expect("commit");
    let due = pg.due_outbox_for_chat(1, 0, 100).await.expect("due");
    assert!(id_of(&due, "x") > 1);
}

#[tokio::test]
async fn old_sent_messages_and_update_ids_are_purged_pending_ones_kept() {
    for (name, store, _guard) in stores("old_rows_are_purged").await {
        let mut tx = store.begin().await.expect("begin");
        tx.claim_update(1, 1, 10).await.expect("claim");
        tx.enqueue(1, None, &text("old"), Priority::Interactive, 10)
            .expect("enqueue");
        tx.enqueue(1, None, &text("waiting"), Priority::Interactive, 10)
            .expect("enqueue");
        tx.commit().await.expect("commit");
        let due = store.due_outbox(1000, 10).await.expect("due");
        let (sent, pending) = (id_of(&due, "old"), id_of(&due, "waiting"));
        store.outbox_sent(&[sent], 11).await.expect("sent");
        assert_eq!(store.purge_before(100).await.expect("purge"), 2, "{name}");
        let due = store.due_outbox(1000, 10).await.expect("due");
        assert_eq!(
            due.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![pending],
            "{name}"
        );
        let mut tx = store.begin().await.expect("begin");
        assert!(
            tx.claim_update(1, 1, 200).await.expect("claim"),
            "{name}: the id was forgotten"
        );
        tx.rollback().await.expect("rollback");
    }
}

/// The id of the queued text message `html` among `rows`.
fn id_of(rows: &[posdesk::storage::OutboxRow], html: &str) -> i64 {
    rows.iter()
        .find(|r| matches!(&r.payload, posdesk::storage::OutboxPayload::Text { html: h, .. } if h == html))
        .map(|r| r.id)
        .unwrap_or_else(|| panic!("no queued message {html:?}"))
}

/// A text that breaks SQL written with literals: quotes, backslashes, a
/// JSON escape spelled out, a NUL, and a character of each of the 17
/// Unicode planes (plus the edges of the surrogate gap and a BOM).
fn hostile_text() -> String {
    let planes: String = (0..=16u32)
        .filter_map(|plane| char::from_u32((plane << 16) | 0x0100))
        .collect();
    format!(
        "它's \\ \\\\' ''; DROP TABLE outbox; -- \"\\u0000\" \0 {planes} \u{D7FF}\u{E000}\u{FEFF}\u{10FFFD} end"
    )
}

/// What a backend gives back of `text` stored as a column's text:
/// PostgreSQL's text cannot hold a NUL, which is written as U+FFFD (the row
/// is kept, the turn goes on). Texts stored as JSON (conversations, queued
/// messages) hold a NUL as an escape and keep it on both.
fn as_stored(backend: &str, text: &str) -> String {
    match backend {
        "postgres" => text.replace('\0', "\u{FFFD}"),
        _ => text.to_string(),
    }
}

#[tokio::test]
async fn hostile_text_goes_through_every_row_kind_and_comes_back() {
    use posdesk::conversation::Purpose;
    use posdesk::storage::{InboxRow, PendingCode};
    for (name, store, _guard) in stores("hostile_text_through_every_row_kind").await {
        let typed = hostile_text();
        let back = as_stored(name, &typed);
        let odd = MerchantId::from_trusted(typed.clone());
        let odd_back = MerchantId::from_trusted(back.clone());
        let conv = Conversation {
            state: State::AwaitingCode {
                merchant: odd.clone(),
                purpose: Purpose::Unbind,
                phone_masked: typed.clone(),
            },
            ..Conversation::default()
        };
        let reference = Reference::generate("20261203", [1, 2, 3, 4, 5]);
        // Every row kind that carries a text, in one transaction.
        let mut tx = store.begin().await.expect("begin");
        tx.inbox_put_many(
            &[InboxRow {
                update_id: 41,
                chat_id: 5,
                payload: typed.clone(),
                original: None,
            }],
            1,
        );
        tx.save_conversation(5, 6, &conv, Lang::En, 1)
            .expect("save");
        tx.record_turn(
            5,
            Some(41),
            "text",
            None,
            Some(typed.clone()),
            "idle",
            "awaiting_code",
            1,
        );
        tx.audit(&typed, &typed, Some(&typed), Some(5), &typed, 1)
            .await
            .expect("audit");
        let pending = PendingCode {
            merchant_id: typed.clone(),
            issued_at: 1,
            chat_id: 5,
            user_id: 6,
        };
        tx.code_pending(&pending, &typed, 2).await.expect("pending");
        tx.enqueue(5, None, &text(&typed), Priority::Interactive, 1)
            .expect("enqueue");
        let issued = Write::OtpIssued {
            merchant: odd.clone(),
            code_hash: typed.clone(),
            expires_at: 900,
        };
        let request = Write::RequestCreated {
            reference: reference.clone(),
            merchant: odd.clone(),
        };
        for write in [
            &issued,
            &Write::OtpFailed {
                merchant: odd.clone(),
            },
            &request,
        ] {
            tx.apply(write, 5, 6, 10).await.expect("apply");
        }
        let ticket = tx
            .open_ticket(
                5,
                6,
                &typed,
                Some(&typed),
                Lang::En,
                TicketReason::UserRequest,
                false,
                1,
            )
            .await
            .expect("ticket");
        tx.ticket_message(ticket.id, "in", &typed, &typed, 1)
            .await
            .expect("transcript");
        tx.commit().await.expect("commit");

        let due = store.inbox_due(10).await.expect("inbox");
        assert_eq!(due.len(), 1, "{name}");
        assert_eq!(due[0].payload, back, "{name}: stored update");
        let outbox = store.due_outbox(10, 10).await.expect("outbox");
        assert_eq!(outbox.len(), 1, "{name}");
        // Stored as JSON text, where a NUL is an escape: kept everywhere.
        assert_eq!(outbox[0].payload, text(&typed), "{name}: queued message");
        let audit = store.audit_for_merchant(&back).await.expect("audit");
        assert_eq!(audit.len(), 1, "{name}");
        assert_eq!(
            (&audit[0].actor, &audit[0].action, &audit[0].detail),
            (&back, &back, &back),
            "{name}: audit"
        );
        let overdue = store.codes_pending_overdue(10, 10).await.expect("pending");
        assert_eq!(overdue.len(), 1, "{name}");
        assert_eq!(overdue[0].merchant_id, back, "{name}: code pending");
        let request_row = store
            .request(reference.as_str())
            .await
            .expect("request")
            .expect("stored");
        assert_eq!(request_row.merchant_id, back, "{name}: request");
        let ticket_row = store
            .ticket(ticket.id)
            .await
            .expect("ticket")
            .expect("stored");
        assert_eq!(ticket_row.user_name, back, "{name}: ticket");
        let transcript = store
            .ticket_transcript(ticket.id)
            .await
            .expect("transcript");
        assert_eq!(
            (&transcript[0].1, &transcript[0].2),
            (&back, &back),
            "{name}"
        );

        let mut tx = store.begin().await.expect("begin");
        assert_eq!(
            tx.load_conversation(5).await.expect("load"),
            Some(conv),
            "{name}: conversation"
        );
        assert_eq!(
            tx.recent_inputs(5, 5).await.expect("inputs"),
            vec![back.clone()],
            "{name}: turn record"
        );
        let facts = tx.merchant_facts(&odd_back, 6, 100).await.expect("facts");
        assert_eq!(
            facts.otp.code_hash.as_deref(),
            Some(back.as_str()),
            "{name}"
        );
        assert_eq!(
            facts.otp.failures, 1,
            "{name}: the wrong code found its merchant"
        );
        assert_eq!(facts.requests.len(), 1, "{name}");
        // The code-state writes keyed by the odd merchant number, each seen.
        tx.apply(
            &Write::OtpLocked {
                merchant: odd_back.clone(),
                until: 77,
            },
            5,
            6,
            20,
        )
        .await
        .expect("lock");
        let facts = tx.merchant_facts(&odd_back, 6, 100).await.expect("facts");
        assert_eq!(facts.otp.locked_until, Some(77), "{name}");
        assert_eq!(facts.otp.code_hash, None, "{name}");
        tx.apply(
            &Write::OtpRefunded {
                merchant: odd_back.clone(),
            },
            5,
            6,
            21,
        )
        .await
        .expect("refund");
        tx.apply(
            &Write::OtpConsumed {
                merchant: odd_back.clone(),
            },
            5,
            6,
            22,
        )
        .await
        .expect("consume");
        let facts = tx.merchant_facts(&odd_back, 6, 100).await.expect("facts");
        assert_eq!(
            facts.otp.sends_last_hour, 0,
            "{name}: the refund took the send back"
        );
        tx.commit().await.expect("commit");
    }
}
