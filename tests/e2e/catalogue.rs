//! Every message the code uses exists in both languages and renders with the
//! arguments docs/messages.md documents; no isolation marks, no stray HTML.

use std::collections::BTreeSet;

use posdesk::conversation::{Arg, Msg};
use posdesk::domain::Lang;
use posdesk::i18n::Texts;
use regex::Regex;

const NUMERIC: &[&str] = &[
    "position",
    "max",
    "minutes",
    "digits",
    "attempts_left",
    "seconds",
    "max_unbinds",
    "period_days",
    "sla_hours",
    "age_days",
    "age_hours",
    "rating",
    "count",
    "age_minutes",
    "ticket",
    "code_minutes",
    "max_attempts",
    "lock_minutes",
    "resend_seconds",
];

#[test]
fn the_faq_catalogue_fits_the_texts_and_rules() {
    let settings = posdesk::config::Settings::default();
    let texts = posdesk::app::load_texts(&settings).expect("texts");
    let classifier = posdesk::app::load_classifier(&settings).expect("rules");
    let problems = posdesk::app::faq_problems(&settings, &texts, &classifier);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// (id, args) rows of the tables in docs/messages.md, shorthands expanded.
fn documented() -> Vec<(String, Vec<String>)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/messages.md"))
        .expect("docs/messages.md");
    let mut out = Vec::new();
    let mut in_buttons = false;
    for line in doc.lines() {
        if line.starts_with("## ") {
            in_buttons = line.contains("Buttons");
            continue;
        }
        if in_buttons {
            for word in line.split([',', ' ', '…', '.']) {
                let word = word.trim();
                if word.starts_with("btn-") {
                    out.push((word.to_string(), Vec::new()));
                }
            }
            if line.contains("btn-rate-1") {
                for n in 2..=4 {
                    out.push((format!("btn-rate-{n}"), Vec::new()));
                }
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("| ") else {
            continue;
        };
        let cells: Vec<&str> = rest.split('|').map(str::trim).collect();
        if cells.len() < 2 || cells[0] == "id" || cells[0].starts_with("---") {
            continue;
        }
        let args: Vec<String> = cells[1]
            .split(',')
            .map(|a| a.split_whitespace().next().unwrap_or("").to_string())
            .filter(|a| !a.is_empty())
            .collect();
        let ids = cells[0];
        if ids.contains(" / ") {
            let mut parts = ids.split(" / ");
            let first = parts.next().unwrap_or_default().to_string();
            let stem = first
                .rsplit_once('-')
                .map(|(s, _)| s.to_string())
                .unwrap_or_default();
            out.push((first, args.clone()));
            for part in parts {
                let part = part.trim();
                let id = if part.starts_with('-') {
                    format!("{stem}{part}")
                } else {
                    part.to_string()
                };
                out.push((id, args.clone()));
            }
        } else {
            out.push((ids.to_string(), args));
        }
    }
    // The FAQ catalogue's messages: each topic's answer with its quotes, and
    // its label.
    let faq = posdesk::app::builtin_faq().expect("the built-in catalogue");
    for topic in faq.topics() {
        let quotes = topic.quotes.iter().map(|q| q.name().to_string()).collect();
        out.push((topic.answer.to_string(), quotes));
        out.push((topic.label.to_string(), Vec::new()));
    }
    out
}

fn sample_args(id: &str, names: &[String]) -> Msg {
    let leaked: &'static str = Box::leak(id.to_string().into_boxed_str());
    let mut msg = Msg::new(leaked);
    for name in names {
        let name: &'static str = Box::leak(name.clone().into_boxed_str());
        let value = if NUMERIC.contains(&name) {
            Arg::Num(3)
        } else if name == "blackout" {
            Arg::Str("22:30-00:30".into())
        } else {
            Arg::Str(format!("<{name}&>"))
        };
        msg = msg.arg(name, value);
    }
    msg
}

#[test]
fn every_documented_message_renders_in_both_languages() {
    let texts = Texts::load(None).expect("built-in texts load");
    let rows = documented();
    assert!(
        rows.len() > 100,
        "parsed {} rows from docs/messages.md",
        rows.len()
    );
    let mut problems = Vec::new();
    for lang in Lang::ALL {
        for (id, args) in &rows {
            match texts.try_render(lang, &sample_args(id, args)) {
                Ok(text) => {
                    if text.contains('\u{2068}') || text.contains('\u{2069}') {
                        problems.push(format!("{lang} {id}: isolation marks"));
                    }
                    if text.trim().is_empty() {
                        problems.push(format!("{lang} {id}: empty"));
                    }
                    let stripped = text
                        .replace("<b>", "")
                        .replace("</b>", "")
                        .replace("<i>", "")
                        .replace("</i>", "")
                        .replace("<code>", "")
                        .replace("</code>", "")
                        .replace("&lt;", "")
                        .replace("&gt;", "")
                        .replace("&amp;", "");
                    if stripped.contains('<') || stripped.contains('>') {
                        problems.push(format!("{lang} {id}: markup other than b/i/code: {text}"));
                    }
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        // The blackout selector's other branch.
        let mut limits = sample_args(
            "faq-unbind-limits",
            &[
                "max_unbinds".into(),
                "period_days".into(),
                "blackout".into(),
                "timezone".into(),
            ],
        );
        limits.args[2].1 = Arg::Str("none".into());
        if let Err(e) = texts.try_render(lang, &limits) {
            problems.push(e.to_string());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_message_id_used_in_the_code_exists_in_both_languages() {
    let texts = Texts::load(None).expect("built-in texts load");
    let pattern = Regex::new(r#"(?:Msg::new|Button::new|Arg::Ref)\(\s*"([a-z0-9-]+)"|=> "((?:request-status|reason|btn)-[a-z0-9-]+)""#).expect("regex");
    let mut ids = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                // Unit tests use made-up ids of their own.
                let text = text.split("#[cfg(test)]").next().unwrap_or_default();
                for cap in pattern.captures_iter(text) {
                    if let Some(id) = cap.get(1).or(cap.get(2)) {
                        ids.insert(id.as_str().to_string());
                    }
                }
            }
        }
    }
    for (_, id) in posdesk::telegram::COMMANDS {
        ids.insert(id.to_string());
    }
    for n in 1..=5 {
        ids.insert(format!("btn-rate-{n}"));
    }
    assert!(ids.len() > 80, "found {} ids", ids.len());
    let missing: Vec<String> = Lang::ALL
        .iter()
        .flat_map(|lang| {
            ids.iter()
                .filter(|id| !texts.has(*lang, id))
                .map(move |id| format!("{lang}: {id}"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "missing messages:\n{}",
        missing.join("\n")
    );
}

#[test]
fn chinese_texts_are_chinese_and_english_texts_are_english() {
    let texts = Texts::load(None).expect("built-in texts load");
    for (id, args) in documented() {
        if id.starts_with("btn-lang")
            || id.starts_with("btn-rate")
            || id == "list-separator"
            || id == "hours-span"
            || id == "reply-signature"
        {
            continue;
        }
        let msg = sample_args(&id, &args);
        let zh = texts.render(Lang::ZhCn, &msg);
        let en = texts.render(Lang::En, &msg);
        let has_cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        assert!(has_cjk(&zh), "zh-CN {id} has no Chinese: {zh}");
        assert!(
            !has_cjk(&en.replace("中文", "")),
            "en {id} has Chinese: {en}"
        );
    }
}

/// The content fixes found by reading the Chinese as a merchant would, each
/// checked on the rendered text in both languages.
#[test]
fn texts_read_right_to_a_merchant() {
    use posdesk::conversation::{Arg, notification_for_status};
    use posdesk::domain::{Reference, RequestStatus};
    let texts = Texts::load(None).expect("built-in texts load");
    let faq = posdesk::app::builtin_faq().expect("catalogue");
    let reference = Reference::parse("UB-20261130-ABCDE").expect("reference");
    let render = |lang, msg: &Msg| texts.try_render(lang, msg).expect("renders");
    let joined = |lang, out: &posdesk::conversation::Outgoing| {
        out.parts
            .iter()
            .map(|m| render(lang, m))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // No dangling "原因：" when the back office gave no reason.
    for status in [RequestStatus::Rejected, RequestStatus::Cancelled] {
        let plain = notification_for_status(&reference, status, None, &faq).expect("notice");
        let zh = joined(Lang::ZhCn, &plain);
        assert!(!zh.contains("原因："), "{zh}");
        assert!(zh.contains("未注明"), "{zh}");
        let en = joined(Lang::En, &plain);
        assert!(!en.contains("Reason:"), "{en}");
        let given =
            notification_for_status(&reference, status, Some("资料不符"), &faq).expect("notice");
        assert!(joined(Lang::ZhCn, &given).contains("原因：资料不符"));
    }
    // Opening hours and zones in the reader's language.
    let hours = posdesk::conversation::hours_text("Mon-Fri 09:00-18:00; Sat 10:00-16:00");
    let off = Msg::new("handoff-off-hours")
        .arg("hours", hours)
        .arg("next_open", "2026-12-07 09:00");
    let zh = render(Lang::ZhCn, &off);
    assert!(
        zh.contains("周一至周五 9:00–18:00；周六 10:00–16:00"),
        "{zh}"
    );
    assert!(!zh.contains("Mon"), "{zh}");
    let en = render(Lang::En, &off);
    assert!(en.contains("Mon–Fri 9:00–18:00; Sat 10:00–16:00"), "{en}");
    let blackout = Msg::new("unbind-refused-blackout")
        .arg("window", "22:30-00:30")
        .arg(
            "timezone",
            posdesk::conversation::zone_name("Asia/Shanghai"),
        )
        .arg("next_time", "00:30");
    let zh = render(Lang::ZhCn, &blackout);
    assert!(zh.contains("北京时间") && !zh.contains("Asia/"), "{zh}");
    assert!(render(Lang::En, &blackout).contains("Beijing time"));
    let elsewhere = Msg::new("unbind-refused-blackout")
        .arg("window", "22:30-00:30")
        .arg(
            "timezone",
            posdesk::conversation::zone_name("Europe/Berlin"),
        )
        .arg("next_time", "00:30");
    assert!(render(Lang::En, &elsewhere).contains("Europe/Berlin"));
    // "没收到": the code may be late or filtered, a new one after N seconds;
    // never "the code you got is still valid".
    let wait = Msg::new("unbind-resend-wait").arg("seconds", Arg::Num(42));
    let zh = render(Lang::ZhCn, &wait);
    assert!(
        !zh.contains("仍然有效") && zh.contains("垃圾短信") && zh.contains("42"),
        "{zh}"
    );
    assert!(!render(Lang::En, &wait).contains("still valid"));
    // An expired code is resent, not re-entered.
    let verification = posdesk::conversation::faq_message(
        faq.find("verification_failed").expect("topic").id,
        &faq,
        &posdesk::config::Settings::default(),
    )
    .expect("answer");
    let zh = render(Lang::ZhCn, &verification);
    assert!(
        zh.contains("已过期") && zh.contains("重新发送验证码"),
        "{zh}"
    );
    assert!(render(Lang::En, &verification).contains("Resend code"));
    // A submitted request is withdrawn only through a person; an expired
    // flow says how to start again.
    let final_confirm = Msg::new("unbind-final-confirm").arg("card", "6222 **** 0123");
    assert!(render(Lang::ZhCn, &final_confirm).contains("人工客服"));
    assert!(render(Lang::En, &final_confirm).contains("only our support team"));
    let expired = Msg::new("unbind-flow-expired").arg("minutes", Arg::Num(15));
    assert!(render(Lang::ZhCn, &expired).contains("/unbind"));
    assert!(render(Lang::En, &expired).contains("/unbind"));
}
