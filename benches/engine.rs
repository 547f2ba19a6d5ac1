//! Engine micro-benchmarks: intent classification per utterance, one core
//! transition, one Fluent render. `cargo bench --bench engine`.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use posdesk::config::Settings;
use posdesk::conversation::{
    Continuation, Conversation, Ctx, Event, MerchantFacts, MerchantRecord, Msg, OtpFacts, Purpose,
    State, step,
};
use posdesk::domain::{Lang, MaskedCard, MerchantId, OtpCode, Phone};
use posdesk::i18n::Texts;

const UTTERANCES: [&str; 12] = [
    "验证码一直收不到怎么办",
    "解绑好几天了还在处理中",
    "新的结算卡怎么还没生效，钱还是到旧卡",
    "我要解绑结算卡",
    "解綁需要準備什麼資料",
    "有人打电话说是客服，要我的验证码",
    "how do I unbind my settlement card",
    "verification code not received",
    "转人工",
    "查一下我的解绑进度",
    "请问怎么申请免费的POS机",
    "你好",
];

fn benches(c: &mut Criterion) {
    let settings = Settings::default();
    let derived = settings.derive().expect("defaults are valid");
    let classifier = posdesk::app::load_classifier(&settings).expect("rules");
    let texts = Texts::load(None).expect("texts");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 30, 2, 0, 0)
        .single()
        .expect("time");
    let ctx = Ctx {
        now,
        random: [7; 32],
        settings: &settings,
        derived: &derived,
        classifier: &classifier,
        hash_key: b"bench-key",
        ticket: None,
        client_lang: None,
        classified: Default::default(),
    };

    // Start-up: the rules compiled and the statistical model trained from
    // locales/phrasings.tsv, as `posdesk run` does once.
    let mut startup = c.benchmark_group("start-up");
    startup.sample_size(10);
    startup.bench_function("load classifier (rules + model training)", |b| {
        b.iter(|| black_box(posdesk::app::load_classifier(&settings).expect("rules")))
    });
    startup.finish();

    c.bench_function("classify one utterance (mixed set of 12)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % UTTERANCES.len();
            black_box(classifier.classify(black_box(UTTERANCES[i])))
        })
    });

    let idle = Conversation::default();
    c.bench_function("step: /start in idle", |b| {
        b.iter(|| {
            black_box(step(
                &idle,
                Event::Command(posdesk::conversation::Command::Start),
                &ctx,
            ))
        })
    });
    c.bench_function("step: free-text FAQ question", |b| {
        b.iter(|| {
            // A new turn: nothing classified yet.
            ctx.classified.replace(None);
            black_box(step(
                &idle,
                Event::Text("验证码一直收不到怎么办".into()),
                &ctx,
            ))
        })
    });

    let pattern = derived.merchant_pattern.clone();
    let merchant = MerchantId::parse("M100200300", &pattern).expect("id");
    let code = OtpCode::parse("123456", 6).expect("code");
    let hash = posdesk::otp::hash_code(b"bench-key", &merchant, &code);
    let awaiting = Conversation {
        state: State::AwaitingCode {
            merchant: merchant.clone(),
            purpose: Purpose::Unbind,
            phone_masked: "138****1234".into(),
        },
        last_input_at: now.timestamp_millis(),
        ..Conversation::default()
    };
    let facts = MerchantFacts {
        merchant_id: merchant.clone(),
        merchant: Some(MerchantRecord {
            name: "示例便利店".into(),
            phone: Phone::parse("13800131234").expect("phone"),
            card: MaskedCard::parse("6222021234567890123").expect("card"),
            bank: "中国工商银行".into(),
        }),
        otp: OtpFacts {
            code_hash: Some(hash),
            expires_at: Some(now.timestamp_millis() + 300_000),
            ..OtpFacts::default()
        },
        user_sends_last_hour: 1,
        requests: Vec::new(),
    };
    c.bench_function("step: right code -> summary (HMAC check)", |b| {
        b.iter(|| {
            let event = Event::Facts {
                facts: Box::new(facts.clone()),
                then: Continuation::VerifyCode(code.clone()),
            };
            black_box(step(&awaiting, event, &ctx))
        })
    });

    let welcome = Msg::new("menu-welcome").arg("brand", "DemoPay");
    c.bench_function("render menu-welcome (zh-CN)", |b| {
        b.iter(|| black_box(texts.render(Lang::ZhCn, black_box(&welcome))))
    });
    let summary = Msg::new("unbind-summary")
        .arg("merchant_name", "示例便利店")
        .arg("merchant_id", "M100200300")
        .arg("bank", "中国工商银行")
        .arg("card", "6222 **** **** 0123");
    c.bench_function("render unbind-summary (en)", |b| {
        b.iter(|| black_box(texts.render(Lang::En, black_box(&summary))))
    });
}

criterion_group!(engine, benches);
criterion_main!(engine);
