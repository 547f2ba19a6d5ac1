//! The unbinding flow: merchant number, one-time code, summary, two
//! confirmations, checks, submission; and the request-status query that
//! shares its verification.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Timelike, Utc};
use regex::Regex;

use crate::domain::{MerchantId, OtpCode, Reference, mask_phone_digits};
use crate::intents::Intent;
use crate::otp;

use super::effect::{Arg, Effect, Msg, Write};
use super::event::{Continuation, Delivery};
use super::facts::MerchantFacts;
use super::keyboards;
use super::state::{CodeLock, Purpose, State, Verified};
use super::step::Turn;
use super::{Button, CallbackData};

static RESEND_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(重发|重發|重新发|重新發|再发|再發|没收到|沒收到|收不到|resend|send again|new code|didn'?t (get|receive))")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});
/// "I'd rather not unbind after all", said in a sentence (a bare 取消 or
/// cancel cancels at once).
pub(super) static STOP_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(算了|不办了|不辦了|不解了|不解绑了|不解綁了|先不解|先不办|先不弄|不想解|不想办|不想换了|不换了|不弄了|改天再|以后再说|下次再办|never ?mind|forget it|changed my mind|don'?t want to (unbind|continue|go on|do (it|this))|not now)")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});
/// The registered phone is not the merchant's any more: codes cannot reach
/// them until it is changed, which a person does.
static PHONE_GONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)((不是|非)(我|本人)的?(手机|号码|电话|手机号)|(手机|号码|电话|手机号)(不是我的|换了|丢了|停机|停用|注销|不用了|变了|没了|欠费)|停机了|号码(换|变|丢)了|换号了|换手机号了|not my (phone|number)|(changed|lost) (my )?(phone|number)|(phone|number) (is )?(no longer|not) (in use|mine|working))")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});
/// The final, irreversible confirmation takes only explicit words (a bare
/// 好的 or OK often only acknowledges the warning above the button).
static SUBMIT_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(确认提交|確認提交|提交|确认|確認|submit|confirm)\s*[。.!！]?\s*$")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});
static YES_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(确认|確認|确定|確定|是|是的|好|好的|提交|yes|y|ok|okay|confirm|submit)\s*[。.!！]?\s*$")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});

/// "Where do I find it?", "I don't know it" while a merchant number is asked for.
static WHERE_IS_IT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(哪|哪里|哪儿|在哪|啥是|什么是|是什么|是啥|怎么查|怎么找|如何查|如何找|去哪|查不到|找不到|不知道|不清楚|不记得|忘了|忘记|没有商户|where|how (do|can) i (find|get|see)|don'?t know|do not know|dont have|don'?t have|forgot|not sure|what is (a|the|my))")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});

/// Words naming the merchant number.
static NUMBER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(编号|编码|号码|商户号|户号|\bit\b|number|\bid\b|merchant)")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});

/// Starts unbinding (or the verification before a status query).
pub(super) fn start(t: &mut Turn<'_, '_>, purpose: Purpose) {
    t.conv.unknown_streak = 0;
    if purpose == Purpose::Unbind
        && let Some(refusal) = blackout_refusal(t)
    {
        t.conv.state = State::Idle;
        return t.say(refusal, keyboards::main_menu());
    }
    t.conv.state = State::AwaitingMerchantId { purpose };
    let msg = match purpose {
        Purpose::Unbind => "unbind-intro",
        Purpose::Status => "status-need-verify",
    };
    t.say(Msg::new(msg), keyboards::cancel_only());
}

/// A merchant number typed alone with no flow open: offers to unbind with
/// it (`unbind:start:<number>`), and the rest of the menu.
pub(super) fn offer_with(t: &mut Turn<'_, '_>, merchant: MerchantId) {
    t.conv.unknown_streak = 0;
    let with = CallbackData::UnbindWith(merchant.as_str().to_string());
    let mut keyboard = Vec::new();
    // Callback data holds 64 bytes; a number too long for it (a pattern
    // configured that way) gets the plain menu button instead.
    match with.to_data().len() <= 64 {
        true => keyboard.push(vec![Button::new("btn-unbind-with", with)]),
        false => keyboard.push(vec![Button::new("btn-unbind", CallbackData::MenuUnbind)]),
    }
    keyboard.push(vec![
        Button::new("btn-status", CallbackData::MenuStatus),
        Button::new("btn-faq", CallbackData::MenuFaq),
    ]);
    keyboard.push(vec![Button::new("btn-human", CallbackData::MenuHuman)]);
    t.say(
        Msg::new("unbind-offer-with").arg("merchant_id", merchant.as_str()),
        keyboard,
    );
}

/// `unbind:start:<number>`: starts unbinding with that number already
/// taken, as if typed at the merchant-number step (blackout first).
pub(super) fn start_with(t: &mut Turn<'_, '_>, raw: &str) {
    let Some(merchant) = MerchantId::bare(raw, &t.ctx.derived.merchant_pattern) else {
        return t.toast(Some(Msg::new("callback-expired")));
    };
    t.conv.unknown_streak = 0;
    if let Some(refusal) = blackout_refusal(t) {
        t.conv.state = State::Idle;
        return t.say(refusal, keyboards::main_menu());
    }
    t.conv.state = State::AwaitingMerchantId {
        purpose: Purpose::Unbind,
    };
    merchant_taken(t, merchant, Purpose::Unbind);
}

/// `/status`: lists requests if a merchant is verified here, else verifies first.
pub(super) fn status(t: &mut Turn<'_, '_>) {
    t.conv.unknown_streak = 0;
    match verified_merchant(t) {
        Some(merchant) => t.effects.push(Effect::Fetch {
            merchant,
            then: Continuation::ShowStatus,
        }),
        None => start(t, Purpose::Status),
    }
}

fn verified_merchant(t: &Turn<'_, '_>) -> Option<MerchantId> {
    t.conv
        .verified
        .as_ref()
        .filter(|v| v.until > t.ctx.now_ms())
        .map(|v| v.merchant.clone())
}

/// What any step of the flow understands before its own input: leaving
/// ("算了，先不解绑了", asked once before it cancels) and a registered phone
/// that is not the merchant's any more. Whether it was handled.
fn flow_words(t: &mut Turn<'_, '_>, raw: &str) -> bool {
    if Turn::is_cancel_word(raw) {
        t.cancel();
        return true;
    }
    if STOP_WORD.is_match(raw) {
        t.say(
            Msg::new("unbind-stop-confirm"),
            vec![vec![Button::new(
                "btn-stop-unbind",
                CallbackData::UnbindCancel,
            )]],
        );
        return true;
    }
    let before_verification = matches!(
        t.conv.state,
        State::AwaitingMerchantId { .. } | State::AwaitingCode { .. }
    );
    if before_verification && PHONE_GONE.is_match(raw) {
        t.say(
            Msg::new("unbind-phone-changed"),
            vec![vec![
                Button::new("btn-human", CallbackData::MenuHuman),
                Button::new("btn-cancel", CallbackData::UnbindCancel),
            ]],
        );
        return true;
    }
    false
}

/// Text while a merchant number is expected.
pub(super) fn merchant_id_entered(t: &mut Turn<'_, '_>, raw: &str, purpose: Purpose) {
    if flow_words(t, raw) {
        return;
    }
    if let Some(merchant) = MerchantId::find_in(raw, &t.ctx.derived.merchant_pattern) {
        return merchant_taken(t, merchant, purpose);
    }
    // "Where is it / I don't know it" about the number itself (or said in a
    // few words), not a question that happens to say 哪.
    // A topic the rules name out of scope ("T+1是啥意思") is that topic,
    // however short.
    let intent = t.ctx.classify(raw);
    let about_the_number = NUMBER_WORD.is_match(raw)
        || (raw.chars().count() <= 8 && !matches!(intent, Intent::Outside(_)));
    if about_the_number && WHERE_IS_IT.is_match(raw) {
        return t.say(
            Msg::new("unbind-where-merchant-id"),
            keyboards::cancel_only(),
        );
    }
    if let Intent::Outside(topic) = intent {
        // "不是银行卡，是机器": not this flow at all; name the topic.
        if topic == crate::intents::Outside::Terminal {
            t.conv.state = State::Idle;
        }
        t.answer_intent(intent, raw);
        if matches!(t.conv.state, State::AwaitingMerchantId { .. }) {
            t.say(
                Msg::new("unbind-reminder-merchant-id"),
                keyboards::cancel_only(),
            );
        }
        return;
    }
    if intent.is_in_scope() {
        t.answer_intent(intent, raw);
        if matches!(t.conv.state, State::AwaitingMerchantId { .. }) && intent.is_faq() {
            t.say(
                Msg::new("unbind-reminder-merchant-id"),
                keyboards::cancel_only(),
            );
        }
        return;
    }
    let example = t.ctx.settings.merchant.id_example.clone();
    t.say(
        Msg::new("unbind-merchant-id-invalid").arg("example", example),
        keyboards::cancel_only(),
    );
}

/// A merchant number was given: a code is sent, or for a merchant
/// verified here, on to the summary or the requests.
fn merchant_taken(t: &mut Turn<'_, '_>, merchant: MerchantId, purpose: Purpose) {
    let then = match (verified_merchant(t).as_ref() == Some(&merchant), purpose) {
        (true, Purpose::Unbind) => Continuation::Summarise,
        (true, Purpose::Status) => Continuation::ShowStatus,
        (false, _) => Continuation::IssueCode,
    };
    t.effects.push(Effect::Fetch { merchant, then });
}

/// Text while a code is expected.
pub(super) fn code_entered(t: &mut Turn<'_, '_>, raw: &str, merchant: MerchantId) {
    if flow_words(t, raw) {
        return;
    }
    let digits = t.ctx.settings.otp.digits;
    if let Some(code) = OtpCode::parse(raw, digits) {
        return t.effects.push(Effect::Fetch {
            merchant,
            then: Continuation::VerifyCode(code),
        });
    }
    if RESEND_WORD.is_match(raw) {
        return t.effects.push(Effect::Fetch {
            merchant,
            then: Continuation::IssueCode,
        });
    }
    let mostly_digits = raw.chars().filter(char::is_ascii_digit).count() * 2 >= raw.chars().count();
    let intent = t.ctx.classify(raw);
    if !mostly_digits && (intent.is_in_scope() || matches!(intent, Intent::Outside(_))) {
        t.answer_intent(intent, raw);
        if matches!(t.conv.state, State::AwaitingCode { .. }) && intent.is_faq() {
            t.say(
                Msg::new("unbind-reminder-code"),
                keyboards::resend_or_cancel(),
            );
        }
        return;
    }
    t.say(
        Msg::new("unbind-code-format").arg("digits", digits as i64),
        keyboards::resend_or_cancel(),
    );
}

/// Text while a confirmation is expected.
pub(super) fn confirm_text(t: &mut Turn<'_, '_>, raw: &str) {
    if flow_words(t, raw) {
        return;
    }
    let yes = match t.conv.state {
        State::AwaitingFinalConfirm { .. } => SUBMIT_WORD.is_match(raw),
        _ => YES_WORD.is_match(raw),
    };
    if yes {
        return confirm_pressed(t);
    }
    match t.ctx.classify(raw) {
        Intent::Faq(id) => t.faq(id, false),
        Intent::Human => return t.answer_intent(Intent::Human, raw),
        _ => {}
    }
    let keyboard = match t.conv.state {
        State::AwaitingFinalConfirm { .. } => keyboards::submit_or_cancel(),
        _ => keyboards::confirm_or_cancel(),
    };
    t.say(Msg::new("unbind-reminder-confirm"), keyboard);
}

/// `unbind:confirm`: first confirmation leads to the second; the second submits.
pub(super) fn confirm_pressed(t: &mut Turn<'_, '_>) {
    match t.conv.state.clone() {
        State::AwaitingConfirm { merchant, card } => {
            t.conv.state = State::AwaitingFinalConfirm {
                merchant,
                card: card.clone(),
            };
            t.say(
                Msg::new("unbind-final-confirm").arg("card", card),
                keyboards::submit_or_cancel(),
            );
        }
        State::AwaitingFinalConfirm { merchant, .. } => t.effects.push(Effect::Fetch {
            merchant,
            then: Continuation::Submit,
        }),
        _ => t.toast(Some(Msg::new("callback-expired"))),
    }
}

/// `unbind:resend`.
pub(super) fn resend_pressed(t: &mut Turn<'_, '_>) {
    match t.conv.state.clone() {
        State::AwaitingCode { merchant, .. } => t.effects.push(Effect::Fetch {
            merchant,
            then: Continuation::IssueCode,
        }),
        _ => t.toast(Some(Msg::new("callback-expired"))),
    }
}

/// Facts arrived: continue where the flow asked for them.
pub(super) fn with_facts(t: &mut Turn<'_, '_>, facts: MerchantFacts, then: Continuation) {
    match then {
        Continuation::IssueCode => issue_code(t, &facts),
        Continuation::VerifyCode(code) => verify(t, &facts, &code),
        Continuation::Summarise => summarise(t, &facts),
        Continuation::Submit => submit(t, &facts),
        Continuation::ShowStatus => show_status(t, &facts),
    }
}

fn purpose_for(t: &Turn<'_, '_>, merchant: &MerchantId) -> Option<Purpose> {
    match &t.conv.state {
        State::AwaitingMerchantId { purpose } => Some(*purpose),
        State::AwaitingCode {
            merchant: m,
            purpose,
            ..
        } if m == merchant => Some(*purpose),
        _ => None,
    }
}

fn locked_message(t: &Turn<'_, '_>, until_ms: i64) -> Msg {
    let minutes = ((until_ms - t.ctx.now_ms()) as f64 / 60_000.0)
        .ceil()
        .max(1.0) as i64;
    Msg::new("unbind-code-locked")
        .arg("max_attempts", t.ctx.settings.otp.max_attempts)
        .arg("minutes", minutes)
        .arg("until", format_time(t, until_ms))
}

fn issue_code(t: &mut Turn<'_, '_>, facts: &MerchantFacts) {
    let merchant = &facts.merchant_id;
    let Some(purpose) = purpose_for(t, merchant) else {
        return;
    };
    let now = t.ctx.now_ms();
    let otp = &t.ctx.settings.otp;
    if let Some(until) = facts.otp.locked_until.filter(|u| *u > now) {
        t.conv.state = State::Idle;
        let msg = locked_message(t, until);
        return t.say(msg, keyboards::human_or_menu());
    }
    let phone_masked = masked_phone_for(t, facts);
    let code_active =
        facts.otp.code_hash.is_some() && facts.otp.expires_at.is_some_and(|e| e > now);
    if let Some(last) = facts.otp.last_sent_at {
        let wait_ms = otp.resend_seconds * 1000 - (now - last);
        if wait_ms > 0 && code_active {
            t.conv.state = State::AwaitingCode {
                merchant: merchant.clone(),
                purpose,
                phone_masked,
            };
            let seconds = (wait_ms + 999) / 1000;
            return t.say(
                Msg::new("unbind-resend-wait").arg("seconds", seconds),
                keyboards::resend_or_cancel(),
            );
        }
    }
    if facts.otp.sends_last_hour >= otp.max_sends_per_merchant_per_hour
        || facts.user_sends_last_hour >= otp.max_sends_per_user_per_hour
    {
        t.conv.state = State::Idle;
        t.audit(
            "otp.send_limit",
            Some(merchant),
            "hourly send limit reached",
        );
        return t.say(
            Msg::new("unbind-send-limit").arg("minutes", 60i64),
            keyboards::human_or_menu(),
        );
    }
    let mut random = [0u8; 8];
    random.copy_from_slice(&t.ctx.random[..8]);
    let code = OtpCode::from_random(random, otp.digits);
    let expires_at = t.ctx.now + Duration::minutes(otp.valid_minutes);
    t.write(Write::OtpIssued {
        merchant: merchant.clone(),
        code_hash: otp::hash_code(t.ctx.hash_key, merchant, &code),
        expires_at: expires_at.timestamp_millis(),
    });
    let known = if facts.merchant.is_some() {
        "known"
    } else {
        "unknown"
    };
    t.audit("otp.issued", Some(merchant), format!("merchant {known}"));
    if let Some(record) = &facts.merchant {
        t.effects.push(Effect::DeliverOtp {
            merchant: merchant.clone(),
            phone: record.phone.clone(),
            code,
            expires_at,
        });
    }
    t.conv.state = State::AwaitingCode {
        merchant: merchant.clone(),
        purpose,
        phone_masked: phone_masked.clone(),
    };
    t.conv.code_sent_at = Some(t.ctx.now_ms());
    t.say(
        Msg::new("unbind-code-sent")
            .arg("phone", phone_masked)
            .arg("minutes", otp.valid_minutes)
            .arg("digits", otp.digits as i64),
        keyboards::resend_or_cancel(),
    );
}

/// The masked phone shown for a merchant number. An unknown number gets a
/// stable, made-up mask so the reply does not reveal which numbers exist.
fn masked_phone_for(t: &Turn<'_, '_>, facts: &MerchantFacts) -> String {
    if let Some(record) = &facts.merchant {
        return record.phone.masked();
    }
    let pseudo =
        OtpCode::parse("000000", 6).map(|c| otp::hash_code(t.ctx.hash_key, &facts.merchant_id, &c));
    let digits: String = pseudo
        .unwrap_or_default()
        .bytes()
        .filter(u8::is_ascii_digit)
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .map(char::from)
        .collect();
    let second = ["3", "5", "7", "8", "9"][usize::from(digits.as_bytes()[0] - b'0') % 5];
    mask_phone_digits(&format!("1{second}{digits}"))
}

fn verify(t: &mut Turn<'_, '_>, facts: &MerchantFacts, code: &OtpCode) {
    let merchant = &facts.merchant_id;
    let Some(purpose) = (match &t.conv.state {
        State::AwaitingCode {
            merchant: m,
            purpose,
            ..
        } if m == merchant => Some(*purpose),
        _ => None,
    }) else {
        return;
    };
    let now = t.ctx.now_ms();
    let otp_settings = &t.ctx.settings.otp;
    if let Some(until) = facts.otp.locked_until.filter(|u| *u > now) {
        t.conv.state = State::Idle;
        let msg = locked_message(t, until);
        return t.say(msg, keyboards::human_or_menu());
    }
    let active = match (&facts.otp.code_hash, facts.otp.expires_at) {
        (Some(hash), Some(expires)) if expires > now => Some(hash),
        _ => None,
    };
    let Some(hash) = active else {
        return t.say(
            Msg::new("unbind-code-expired"),
            keyboards::resend_or_cancel(),
        );
    };
    // An unregistered number never verifies (its code was never sent to
    // anyone), and fails exactly like a wrong code so nothing is revealed.
    if facts.merchant.is_some() && otp::verify_code(t.ctx.hash_key, merchant, code, hash) {
        t.write(Write::OtpConsumed {
            merchant: merchant.clone(),
        });
        t.audit("otp.verified", Some(merchant), "");
        t.conv.code_locked = None;
        t.conv.verified = Some(Verified {
            merchant: merchant.clone(),
            until: now + otp_settings.verified_window_minutes * 60_000,
        });
        return match purpose {
            Purpose::Unbind => summarise(t, facts),
            Purpose::Status => show_status(t, facts),
        };
    }
    let failures = facts.otp.failures + 1;
    if failures >= otp_settings.max_attempts {
        let until = now + otp_settings.lock_minutes * 60_000;
        t.write(Write::OtpLocked {
            merchant: merchant.clone(),
            until,
        });
        t.audit(
            "otp.locked",
            Some(merchant),
            format!("{failures} wrong codes"),
        );
        // No ticket opens by itself: the merchant is told what happened and
        // what they can do; a person asked for now sees the locked number.
        t.conv.state = State::Idle;
        t.conv.code_locked = Some(CodeLock {
            merchant: merchant.clone(),
            until,
        });
        let msg = locked_message(t, until);
        return t.say(msg, keyboards::human_or_menu());
    }
    t.write(Write::OtpFailed {
        merchant: merchant.clone(),
    });
    t.audit(
        "otp.wrong",
        Some(merchant),
        format!("{failures} wrong so far"),
    );
    let left = otp_settings.max_attempts - failures;
    t.say(
        Msg::new("unbind-code-wrong").arg("attempts_left", left),
        keyboards::resend_or_cancel(),
    );
}

fn is_verified_for(t: &Turn<'_, '_>, merchant: &MerchantId) -> bool {
    verified_merchant(t).as_ref() == Some(merchant)
}

fn summarise(t: &mut Turn<'_, '_>, facts: &MerchantFacts) {
    let merchant = &facts.merchant_id;
    let (Some(record), true) = (&facts.merchant, is_verified_for(t, merchant)) else {
        t.conv.state = State::Idle;
        return t.say(Msg::new("error-internal"), keyboards::main_menu());
    };
    if let Some(refusal) = request_refusal(t, facts) {
        t.conv.state = State::Idle;
        return t.say(refusal, keyboards::human_or_menu());
    }
    t.conv.state = State::AwaitingConfirm {
        merchant: merchant.clone(),
        card: record.card.as_str().to_string(),
    };
    t.say(
        Msg::new("unbind-summary")
            .arg("merchant_name", record.name.as_str())
            .arg("merchant_id", merchant.as_str())
            .arg("bank", record.bank.as_str())
            .arg("card", record.card.as_str()),
        keyboards::confirm_or_cancel(),
    );
}

fn submit(t: &mut Turn<'_, '_>, facts: &MerchantFacts) {
    let merchant = &facts.merchant_id;
    let in_final =
        matches!(&t.conv.state, State::AwaitingFinalConfirm { merchant: m, .. } if m == merchant);
    if !in_final {
        return;
    }
    if !is_verified_for(t, merchant) || facts.merchant.is_none() {
        t.conv.state = State::Idle;
        return t.say(
            Msg::new("unbind-flow-expired")
                .arg("minutes", t.ctx.settings.unbind.flow_timeout_minutes),
            keyboards::main_menu(),
        );
    }
    let refusal = blackout_refusal(t).or_else(|| {
        let now = t.ctx.now_ms();
        facts
            .otp
            .locked_until
            .filter(|u| *u > now)
            .map(|until| Msg::new("unbind-refused-locked").arg("until", format_time(t, until)))
    });
    if let Some(refusal) = refusal.or_else(|| request_refusal(t, facts)) {
        t.conv.state = State::Idle;
        return t.say(refusal, keyboards::human_or_menu());
    }
    let local = t.ctx.now.with_timezone(&t.ctx.derived.unbind_tz);
    let mut random = [0u8; 5];
    random.copy_from_slice(&t.ctx.random[8..13]);
    let reference = Reference::generate(&local.format("%Y%m%d").to_string(), random);
    t.write(Write::RequestCreated {
        reference: reference.clone(),
        merchant: merchant.clone(),
    });
    t.audit("unbind.submitted", Some(merchant), reference.as_str());
    t.conv.state = State::Idle;
    t.say(
        Msg::new("unbind-submitted")
            .arg("reference", reference.as_str())
            .arg("time", format_time(t, t.ctx.now_ms()))
            .arg("sla_hours", t.ctx.settings.unbind.sla_hours),
        vec![vec![
            Button::new("btn-status", CallbackData::MenuStatus),
            Button::new("btn-menu", CallbackData::MenuMain),
        ]],
    );
}

/// A refusal because of a pending request or the per-period limit.
fn request_refusal(t: &Turn<'_, '_>, facts: &MerchantFacts) -> Option<Msg> {
    if let Some(pending) = facts.requests.iter().find(|r| r.status.is_pending()) {
        return Some(
            Msg::new("unbind-refused-pending").arg("reference", pending.reference.as_str()),
        );
    }
    let unbind = &t.ctx.settings.unbind;
    let period_ms = unbind.period_days * 86_400_000;
    let since = t.ctx.now_ms() - period_ms;
    let counted: Vec<i64> = facts
        .requests
        .iter()
        .filter(|r| r.status.counts_against_limit() && r.created_at >= since)
        .map(|r| r.created_at)
        .collect();
    if counted.len() < unbind.max_per_period as usize {
        return None;
    }
    let oldest = counted.iter().copied().min().unwrap_or(t.ctx.now_ms());
    Some(
        Msg::new("unbind-refused-limit")
            .arg("max_unbinds", unbind.max_per_period)
            .arg("period_days", unbind.period_days)
            .arg("next_date", format_date(t, oldest + period_ms)),
    )
}

/// A refusal if now is inside a blackout window.
fn blackout_refusal(t: &Turn<'_, '_>) -> Option<Msg> {
    let tz = t.ctx.derived.unbind_tz;
    let local = t.ctx.now.with_timezone(&tz);
    let minute = local.hour() * 60 + local.minute();
    let (index, &(_, end)) = t
        .ctx
        .derived
        .blackout
        .iter()
        .enumerate()
        .find(|(_, (start, end))| in_window(minute, *start, *end))?;
    let window = t
        .ctx
        .settings
        .unbind
        .blackout
        .get(index)
        .cloned()
        .unwrap_or_default();
    Some(
        Msg::new("unbind-refused-blackout")
            .arg("window", window)
            .arg(
                "timezone",
                super::handoff::zone_name(&t.ctx.settings.unbind.timezone),
            )
            .arg(
                "next_time",
                format!("{:02}:{:02}", (end / 60) % 24, end % 60),
            ),
    )
}

/// Whether `minute` (from midnight) is in `[start, end)`, windows may cross midnight.
pub fn in_window(minute: u32, start: u32, end: u32) -> bool {
    if start <= end {
        (start..end).contains(&minute)
    } else {
        minute >= start || minute < end
    }
}

fn show_status(t: &mut Turn<'_, '_>, facts: &MerchantFacts) {
    let merchant = &facts.merchant_id;
    t.conv.state = State::Idle;
    if !is_verified_for(t, merchant) {
        return start(t, Purpose::Status);
    }
    if facts.requests.is_empty() {
        return t.say(
            Msg::new("status-none").arg("merchant_id", merchant.as_str()),
            keyboards::main_menu(),
        );
    }
    let now = t.ctx.now_ms();
    let sla_ms = t.ctx.settings.unbind.sla_hours * 3_600_000;
    let mut parts = vec![Msg::new("status-header").arg("merchant_id", merchant.as_str())];
    let mut overdue = Vec::new();
    for request in facts.requests.iter().take(5) {
        let age_ms = (now - request.created_at).max(0);
        let status_msg = request.status.message_id();
        parts.push(
            Msg::new("status-line")
                .arg("reference", request.reference.as_str())
                .arg("status", Arg::Ref(status_msg))
                .arg("submitted", format_time(t, request.created_at))
                .arg("age_days", age_ms / 86_400_000)
                .arg("age_hours", (age_ms % 86_400_000) / 3_600_000),
        );
        if request.status.is_pending() && age_ms > sla_ms {
            overdue.push(request.reference.clone());
        }
    }
    t.say_parts(parts, keyboards::main_menu());
    for reference in overdue {
        t.say(
            Msg::new("status-overdue")
                .arg("reference", reference.as_str())
                .arg("sla_hours", t.ctx.settings.unbind.sla_hours),
            keyboards::human_only(),
        );
    }
}

/// The gateway's answer for a code sent earlier.
pub(super) fn delivery_result(t: &mut Turn<'_, '_>, merchant: MerchantId, outcome: Delivery) {
    let (audit, msg) = match outcome {
        Delivery::Delivered => return t.audit("otp.delivered", Some(&merchant), ""),
        Delivery::Failed => ("otp.delivery_failed", "unbind-code-send-failed"),
        // The code may or may not have reached the phone: it is withdrawn
        // (a late SMS cannot verify), and a new one may be asked for at
        // once, uncounted.
        Delivery::Unknown => ("otp.delivery_unknown", "unbind-code-maybe-lost"),
    };
    t.write(Write::OtpRefunded {
        merchant: merchant.clone(),
    });
    t.audit(audit, Some(&merchant), "send not counted");
    if matches!(&t.conv.state, State::AwaitingCode { merchant: m, .. } if *m == merchant) {
        t.say(Msg::new(msg), keyboards::resend_or_cancel());
    }
}

fn format_time(t: &Turn<'_, '_>, ms: i64) -> String {
    let at = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(t.ctx.now);
    at.with_timezone(&t.ctx.derived.unbind_tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn format_date(t: &Turn<'_, '_>, ms: i64) -> String {
    let at = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(t.ctx.now);
    at.with_timezone(&t.ctx.derived.unbind_tz)
        .format("%Y-%m-%d")
        .to_string()
}
