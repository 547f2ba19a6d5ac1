//! The dispatcher of the core: routes an event to the flow that owns it, and
//! the flow-independent parts (menu, FAQ, language, cancel, media).

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::{Reference, RequestStatus};
use crate::intents::Intent;
use crate::redact;

use super::effect::{Effect, Msg, Outgoing, TicketReason, Write};
use super::event::{CallbackData, Command, Event, MediaKind};
use super::keyboards::{self, Keyboard};
use super::state::{Conversation, Purpose, State};
use super::{Ctx, Transition, handoff, unbind};

/// A bare one-time-code-like number (4 to 10 digits, spaces or dashes allowed).
pub(super) static CODE_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*\d(?:[\s-]?\d){3,9}\s*$").expect("static regex")); // ok: constant
static PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(密码|密碼|口令|pin码|pin碼|\bpin\b|password|passcode|passwd)")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});
static URGENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(投诉|投訴|生气|生氣|气死|氣死|急|垃圾|骗子|騙子|报警|報警|urgent|asap|angry|complain|furious|ridiculous|scam)")
        .expect("static regex") // ok: a constant pattern, checked by every test run
});
static CANCEL_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(取消|退出|不办了|不辦了|算了|不要了|cancel|stop|quit|exit)\s*[。.!！]?\s*$",
    )
    .expect("static regex") // ok: a constant pattern, checked by every test run
});

/// Applies one event to a conversation.
pub fn step(conversation: &Conversation, event: Event, ctx: &Ctx<'_>) -> Transition {
    let mut turn = Turn::new(conversation, ctx);
    let user_input = event.is_user_input();
    let is_callback = matches!(event, Event::Callback(_));
    if user_input || matches!(event, Event::Tick) {
        turn.expire_idle_flow();
    }
    match (ctx.ticket.clone(), event) {
        (_, _) if user_input && turn.conv.blocked.is_some() => handoff::while_blocked(&mut turn),
        (Some(ticket), event) if user_input => {
            handoff::while_ticket_open(&mut turn, &ticket, event)
        }
        (_, Event::Command(command)) => turn.command(command),
        (_, Event::Text(text)) => turn.text(&text),
        (_, Event::Callback(data)) => turn.callback(data),
        (_, Event::Media(kind)) => turn.media(kind),
        (_, Event::Edited(_)) => turn.say(Msg::new("edited-message"), Vec::new()),
        (_, Event::Facts { facts, then }) => unbind::with_facts(&mut turn, *facts, then),
        (
            _,
            Event::OtpDelivery {
                merchant, outcome, ..
            },
        ) => unbind::delivery_result(&mut turn, merchant, outcome),
        (_, Event::TicketOpened(opened)) => handoff::opened(&mut turn, opened),
        (_, Event::TicketClaimed { agent }) => {
            turn.say(Msg::new("handoff-claimed").arg("agent", agent), Vec::new())
        }
        (_, Event::TicketClosed { ticket }) => handoff::closed(&mut turn, ticket),
        (_, Event::Blocked { reason }) => handoff::blocked(&mut turn, reason),
        (_, Event::Unblocked) => {
            turn.conv.blocked = None;
            turn.conv.block_noticed = false;
        }
        (_, Event::Tick) => {}
    }
    if user_input {
        turn.conv.last_input_at = ctx.now_ms();
        // "Unknown twice in a row" means two unanswered inputs with nothing
        // in between: any other input (button, command, answered question)
        // breaks the run.
        if turn.conv.unknown_streak != 0 && turn.conv.unknown_streak == conversation.unknown_streak
        {
            turn.conv.unknown_streak = 0;
        }
    }
    if is_callback && !turn.effects.iter().any(|e| matches!(e, Effect::Toast(_))) {
        turn.effects.insert(0, Effect::Toast(None));
    }
    Transition {
        next: turn.conv,
        effects: turn.effects,
    }
}

/// The message that tells a merchant their request changed status.
/// `None` for `submitted`, which the back office never sets.
pub fn notification_for_status(
    reference: &Reference,
    status: RequestStatus,
    reason: Option<&str>,
) -> Option<Outgoing> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let reason_arg = |msg: Msg| match reason {
        Some(reason) => msg.arg("reason", redact::redacted(reason)),
        None => msg.arg("reason", ""),
    };
    let (msg, keyboard) = match status {
        RequestStatus::Submitted => return None,
        RequestStatus::Processing => (
            Msg::new("notify-processing").arg("reference", reference.as_str()),
            vec![vec![super::Button::new(
                "btn-status",
                CallbackData::MenuStatus,
            )]],
        ),
        RequestStatus::Completed => (
            Msg::new("notify-completed").arg("reference", reference.as_str()),
            vec![vec![super::Button::new(
                "btn-faq-after-unbind",
                CallbackData::Faq(Intent::AfterUnbind),
            )]],
        ),
        RequestStatus::Rejected => (
            reason_arg(Msg::new("notify-rejected").arg("reference", reference.as_str())),
            keyboards::human_or_menu(),
        ),
        RequestStatus::Cancelled => (
            reason_arg(Msg::new("notify-cancelled").arg("reference", reference.as_str())),
            keyboards::main_menu(),
        ),
    };
    let mut parts = vec![msg];
    if reason.is_none() && matches!(status, RequestStatus::Rejected | RequestStatus::Cancelled) {
        parts.push(Msg::new("reason-none"));
    }
    Some(Outgoing { parts, keyboard })
}

/// A turn in progress: the conversation being changed and the effects so far.
pub(super) struct Turn<'a, 'c> {
    pub conv: Conversation,
    pub effects: Vec<Effect>,
    pub ctx: &'a Ctx<'c>,
}

impl<'a, 'c> Turn<'a, 'c> {
    fn new(conversation: &Conversation, ctx: &'a Ctx<'c>) -> Self {
        Turn {
            conv: conversation.clone(),
            effects: Vec::new(),
            ctx,
        }
    }

    /// Sends one message.
    pub fn say(&mut self, msg: Msg, keyboard: Keyboard) {
        self.say_parts(vec![msg], keyboard);
    }

    /// Sends one message of several paragraphs.
    pub fn say_parts(&mut self, parts: Vec<Msg>, keyboard: Keyboard) {
        self.effects
            .push(Effect::Send(Outgoing { parts, keyboard }));
    }

    /// Applies a write in the turn's transaction.
    pub fn write(&mut self, write: Write) {
        self.effects.push(Effect::Write(write));
    }

    /// Records an audit line.
    pub fn audit(
        &mut self,
        action: &'static str,
        merchant: Option<&crate::domain::MerchantId>,
        detail: impl Into<String>,
    ) {
        self.write(Write::Audit {
            action,
            merchant: merchant.cloned(),
            detail: detail.into(),
        });
    }

    /// A toast for a button press.
    pub fn toast(&mut self, msg: Option<Msg>) {
        self.effects.push(Effect::Toast(msg));
    }

    /// The main menu with a short prompt.
    pub fn menu(&mut self) {
        self.say(Msg::new("menu-prompt"), keyboards::main_menu());
    }

    fn expire_idle_flow(&mut self) {
        let timeout_ms = self.ctx.settings.unbind.flow_timeout_minutes * 60_000;
        let idle = self.ctx.now_ms() - self.conv.last_input_at;
        if self.conv.state.in_flow() && self.conv.last_input_at > 0 && idle > timeout_ms {
            self.conv.state = State::Idle;
            self.say(
                Msg::new("unbind-flow-expired")
                    .arg("minutes", self.ctx.settings.unbind.flow_timeout_minutes),
                Vec::new(),
            );
        }
    }

    /// Leaves any flow.
    pub fn cancel(&mut self) {
        if !self.conv.state.in_flow() {
            self.say(Msg::new("cancel-nothing"), keyboards::main_menu());
            return;
        }
        let in_unbind = !matches!(
            self.conv.state,
            State::AwaitingMerchantId {
                purpose: Purpose::Status
            } | State::AwaitingCode {
                purpose: Purpose::Status,
                ..
            }
        );
        self.conv.state = State::Idle;
        let msg = if in_unbind {
            "unbind-cancelled"
        } else {
            "cancel-done"
        };
        self.say(Msg::new(msg), keyboards::main_menu());
    }

    pub fn command(&mut self, command: Command) {
        match command {
            Command::Start => {
                self.conv.state = State::Idle;
                self.conv.unknown_streak = 0;
                self.say(
                    Msg::new("menu-welcome").arg("brand", self.ctx.settings.brand.as_str()),
                    keyboards::main_menu(),
                );
            }
            Command::Unbind => unbind::start(self, Purpose::Unbind),
            Command::Status => unbind::status(self),
            Command::Faq => self.say(Msg::new("faq-menu"), keyboards::faq_menu()),
            Command::Human => handoff::request(self, TicketReason::UserRequest),
            Command::Cancel => self.cancel(),
            Command::Lang => self.say(Msg::new("lang-choose"), keyboards::languages()),
            Command::Help | Command::Unknown(_) => {
                self.say(Msg::new("help"), keyboards::main_menu())
            }
        }
    }

    fn text(&mut self, raw: &str) {
        if let Some(command) = Command::parse(raw) {
            return self.command(command);
        }
        // A merchant number may be all digits: while one is expected, only
        // 16 to 19 digit card numbers count (the common card lengths).
        let min_card_digits = match self.conv.state {
            State::AwaitingMerchantId { .. } => 16,
            _ => 13,
        };
        if redact::contains_card_number_of_length(raw, min_card_digits) {
            self.effects.push(Effect::DeleteIncoming);
            self.audit("sensitive.card_number", None, "message deleted");
            return self.say(Msg::new("sensitive-card-number"), Vec::new());
        }
        if raw.chars().count() > self.ctx.settings.limits.max_text_chars {
            let max = self.ctx.settings.limits.max_text_chars as i64;
            return self.say(Msg::new("text-too-long").arg("max", max), Vec::new());
        }
        if raw.trim().is_empty() {
            return self.say(Msg::new("help"), keyboards::main_menu());
        }
        if self.take_comment(raw) {
            return;
        }
        match self.conv.state.clone() {
            State::Idle => self.free_text(raw),
            State::AwaitingMerchantId { purpose } => {
                unbind::merchant_id_entered(self, raw, purpose)
            }
            State::AwaitingCode { merchant, .. } => unbind::code_entered(self, raw, merchant),
            State::AwaitingConfirm { .. } | State::AwaitingFinalConfirm { .. } => {
                unbind::confirm_text(self, raw)
            }
        }
    }

    fn take_comment(&mut self, raw: &str) -> bool {
        let Some((ticket, until)) = self.conv.awaiting_comment else {
            return false;
        };
        self.conv.awaiting_comment = None;
        if self.ctx.now_ms() > until || self.conv.state.in_flow() || CODE_LIKE.is_match(raw) {
            return false;
        }
        let intent = self.ctx.classify(raw);
        if intent != Intent::Unknown && intent != Intent::Greeting {
            return false;
        }
        self.write(Write::TicketComment {
            ticket,
            comment: redact::redacted(raw),
        });
        self.say(Msg::new("handoff-comment-thanks"), keyboards::main_menu());
        true
    }

    /// Whether `raw` is a cancel word ("取消", "cancel").
    pub fn is_cancel_word(raw: &str) -> bool {
        CANCEL_WORD.is_match(raw)
    }

    fn free_text(&mut self, raw: &str) {
        if CODE_LIKE.is_match(raw) {
            let digits = raw.chars().filter(char::is_ascii_digit).count();
            if digits == self.ctx.settings.otp.digits {
                self.effects.push(Effect::DeleteIncoming);
                return self.say(Msg::new("sensitive-code"), keyboards::main_menu());
            }
        }
        let intent = self.ctx.classify(raw);
        self.answer_intent(intent, raw);
    }

    /// Answers a classified free-text input.
    pub fn answer_intent(&mut self, intent: Intent, raw: &str) {
        if intent == Intent::Unknown {
            self.conv.unknown_streak = self.conv.unknown_streak.saturating_add(1);
        } else {
            self.conv.unknown_streak = 0;
        }
        let mentions_password = PASSWORD.is_match(raw);
        match intent {
            Intent::Greeting => self.say(
                Msg::new("menu-welcome").arg("brand", self.ctx.settings.brand.as_str()),
                keyboards::main_menu(),
            ),
            Intent::UnbindStart => unbind::start(self, Purpose::Unbind),
            Intent::ProgressQuery => unbind::status(self),
            Intent::Human => {
                let reason = if URGENT.is_match(raw) {
                    TicketReason::Urgent
                } else {
                    TicketReason::UserRequest
                };
                handoff::request(self, reason)
            }
            Intent::Unknown if self.conv.unknown_streak >= 2 => {
                self.conv.unknown_streak = 0;
                self.say(Msg::new("unknown-again"), Vec::new());
                handoff::request(self, TicketReason::UnknownTwice);
            }
            Intent::Unknown => {
                let mut parts = Vec::new();
                if mentions_password {
                    parts.push(
                        Msg::new("sensitive-password")
                            .arg("brand", self.ctx.settings.brand.as_str()),
                    );
                }
                parts.push(Msg::new("unknown").arg("brand", self.ctx.settings.brand.as_str()));
                self.say_parts(parts, keyboards::human_or_menu());
            }
            faq => self.faq(faq, mentions_password),
        }
    }

    /// Sends an FAQ answer.
    pub fn faq(&mut self, intent: Intent, mentions_password: bool) {
        let Some(answer) = faq_answer(intent, self.ctx) else {
            return self.say(Msg::new("faq-menu"), keyboards::faq_menu());
        };
        let mut parts = Vec::new();
        if mentions_password && intent != Intent::Security {
            parts.push(
                Msg::new("sensitive-password").arg("brand", self.ctx.settings.brand.as_str()),
            );
        }
        parts.push(answer);
        self.say_parts(parts, keyboards::after_faq(intent));
    }

    fn callback(&mut self, data: CallbackData) {
        match data {
            CallbackData::UnbindConfirm => unbind::confirm_pressed(self),
            CallbackData::UnbindCancel if self.conv.state.in_flow() => self.cancel(),
            CallbackData::UnbindResend => unbind::resend_pressed(self),
            CallbackData::MenuUnbind => unbind::start(self, Purpose::Unbind),
            CallbackData::MenuFaq => self.say(Msg::new("faq-menu"), keyboards::faq_menu()),
            CallbackData::MenuStatus => unbind::status(self),
            CallbackData::MenuHuman => handoff::request(self, TicketReason::UserRequest),
            CallbackData::MenuMain => self.menu(),
            CallbackData::Faq(intent) => self.faq(intent, false),
            CallbackData::Lang(lang) => {
                self.conv.lang = Some(lang);
                self.say(Msg::new("lang-set"), keyboards::main_menu());
            }
            CallbackData::Csat(score, ticket) if self.conv.awaiting_rating == Some(ticket) => {
                handoff::rated(self, ticket, score)
            }
            CallbackData::UnbindCancel
            | CallbackData::TicketClaim(_)
            | CallbackData::TicketClose(_)
            | CallbackData::Csat(..)
            | CallbackData::Invalid(_) => self.toast(Some(Msg::new("callback-expired"))),
        }
    }

    fn media(&mut self, _kind: MediaKind) {
        self.say(Msg::new("media-unsupported"), keyboards::human_or_menu());
    }
}

/// The FAQ answer of an intent, with its arguments from the settings.
pub fn faq_answer(intent: Intent, ctx: &Ctx<'_>) -> Option<Msg> {
    faq_message(intent, ctx.settings)
}

/// The FAQ answer of an intent under `settings` (`None` for non-FAQ intents).
pub fn faq_message(intent: Intent, s: &crate::config::Settings) -> Option<Msg> {
    Some(match intent {
        Intent::UnbindPrepare => Msg::new("faq-unbind-prepare").arg("brand", s.brand.as_str()),
        Intent::VerificationFailed => Msg::new("faq-verification-failed")
            .arg("code_minutes", s.otp.valid_minutes)
            .arg("max_attempts", s.otp.max_attempts)
            .arg("lock_minutes", s.otp.lock_minutes)
            .arg("resend_seconds", s.otp.resend_seconds),
        Intent::UnbindStuck => Msg::new("faq-unbind-stuck").arg("sla_hours", s.unbind.sla_hours),
        Intent::NewAccountInactive => Msg::new("faq-new-account-inactive"),
        Intent::UnbindLimits => {
            let blackout = if s.unbind.blackout.is_empty() {
                "none".to_string()
            } else {
                s.unbind.blackout.join(", ")
            };
            Msg::new("faq-unbind-limits")
                .arg("max_unbinds", s.unbind.max_per_period)
                .arg("period_days", s.unbind.period_days)
                .arg("blackout", blackout)
                .arg("timezone", s.unbind.timezone.as_str())
        }
        Intent::Security => Msg::new("faq-security").arg("brand", s.brand.as_str()),
        Intent::AfterUnbind => Msg::new("faq-after-unbind"),
        _ => return None,
    })
}
