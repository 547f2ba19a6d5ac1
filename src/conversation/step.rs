//! The dispatcher of the core: routes an event to the flow that owns it, and
//! the flow-independent parts (menu, FAQ, language, cancel, media).

use std::sync::LazyLock;

use regex::Regex;

use crate::config::Settings;
use crate::domain::{Lang, Reference, RequestStatus};
use crate::faq::{Catalogue, FaqId, Quote, Topic};
use crate::intents::{ChitChat, Intent, Outside};
use crate::redact;

use super::effect::{Effect, Msg, Outgoing, TicketReason, Write};
use super::event::{CallbackData, Command, Event, MediaKind};
use super::keyboards::{self, Keyboard};
use super::state::{Conversation, Purpose, State};
use super::{Ctx, Transition, handoff, unbind};

/// The catalogue topic a completed request points to.
const AFTER_UNBIND: &str = "after_unbind";

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
    // One redactor decides: a message holding a card number or a password
    // is deleted from the chat, answered with a warning, and goes no further
    // (no flow reads it, no ticket relays it).
    let typed = match &event {
        Event::Text(text) | Event::Edited(text) => Some(text.clone()),
        _ => None,
    };
    let expecting = match turn.conv.state {
        State::AwaitingMerchantId { .. } => redact::Expecting::MerchantNumber,
        _ => redact::Expecting::Anything,
    };
    let (masked, findings) = match &typed {
        Some(text) => {
            let known = known_merchant_numbers(conversation);
            let (masked, findings) = redact::redact_knowing(text, expecting, &known);
            (Some(masked), findings)
        }
        None => (None, redact::Findings::default()),
    };
    // Written in the other language than the app's, and no language chosen
    // with /lang: answer in the language written, and say how to choose.
    let switched = match (&event, ctx.ticket.is_none() && conversation.lang.is_none()) {
        (Event::Text(text), true) if !findings.secret() => {
            written_lang(text).filter(|written| *written != ctx.client_lang.unwrap_or_default())
        }
        _ => None,
    };
    if let Some(written) = switched {
        turn.conv.lang = Some(written);
        turn.say(Msg::new("lang-written"), keyboards::languages());
    }
    match (ctx.ticket.clone(), event) {
        (_, _) if findings.secret() => turn.secret_typed(findings),
        (_, _) if user_input && turn.conv.blocked.is_some() => handoff::while_blocked(&mut turn),
        // Without a staff chat nobody reads a ticket's topic: the bot keeps
        // answering the merchant itself.
        (Some(ticket), event) if user_input && ctx.settings.support.staff_chat_id != 0 => {
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
    // A one-time code (typed while one is expected, or deleted as one) is
    // kept without its digits.
    let deleted = turn
        .effects
        .iter()
        .any(|e| matches!(e, Effect::DeleteIncoming));
    let was_code =
        matches!(conversation.state, State::AwaitingCode { .. }) || (deleted && !findings.secret());
    let input = masked.map(|masked| match was_code {
        true => redact::without_digits(&masked),
        false => masked,
    });
    Transition {
        next: turn.conv,
        effects: turn.effects,
        input,
    }
}

/// The message that tells a merchant their request changed status.
/// `None` for `submitted`, which the back office never sets. A completed
/// request offers the catalogue's `after_unbind` answer when it has one.
pub fn notification_for_status(
    reference: &Reference,
    status: RequestStatus,
    reason: Option<&str>,
    faq: &Catalogue,
) -> Option<Outgoing> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let reason_arg = |msg: Msg| match reason {
        Some(reason) => msg.arg("reason", redact::redacted(reason)),
        None => msg.arg("reason", "none"),
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
            match faq.find(AFTER_UNBIND) {
                Some(topic) => vec![vec![keyboards::topic_button(topic)]],
                None => keyboards::main_menu(),
            },
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
    Some(Outgoing {
        parts: vec![msg],
        keyboard,
    })
}

/// The whole of `text` as a merchant number, as the merchant-number step
/// takes it; a mainland mobile number is not one.
fn bare_merchant_number(text: &str, ctx: &Ctx<'_>) -> Option<crate::domain::MerchantId> {
    let merchant = crate::domain::MerchantId::bare(text, &ctx.derived.merchant_pattern)?;
    match redact::redact(text).1.phone {
        true => None,
        false => Some(merchant),
    }
}

/// The merchant numbers a chat knows: the verified one and the one of the
/// flow in progress.
fn known_merchant_numbers(conv: &Conversation) -> Vec<&str> {
    let verified = conv.verified.as_ref().map(|v| v.merchant.as_str());
    let in_flow = match &conv.state {
        State::AwaitingCode { merchant, .. }
        | State::AwaitingConfirm { merchant, .. }
        | State::AwaitingFinalConfirm { merchant, .. } => Some(merchant.as_str()),
        State::Idle | State::AwaitingMerchantId { .. } => None,
    };
    verified.into_iter().chain(in_flow).collect()
}

/// The language a message is clearly written in: Chinese with two Han
/// characters or more, English with three words or more, one of them a
/// common one, and no Han (a merchant number, a code, "OK" or markup says
/// nothing).
pub fn written_lang(text: &str) -> Option<Lang> {
    if text.trim_start().starts_with('/') {
        return None;
    }
    let han = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    if han >= 2 {
        return Some(Lang::ZhCn);
    }
    const COMMON: [&str; 24] = [
        "i", "my", "me", "the", "a", "is", "are", "how", "what", "do", "can", "to", "you", "it",
        "not", "please", "where", "why", "when", "this", "need", "want", "have", "your",
    ];
    let words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let english = words.len() >= 3 && words.iter().any(|w| COMMON.contains(&w.as_str()));
    (han == 0 && english).then_some(Lang::En)
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
            Command::Faq => self.faq_menu(),
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
        if self.conv.state.in_flow() && !CODE_LIKE.is_match(raw) && self.chit_chat_in_flow(raw) {
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

    /// Whether `raw` is a bare number of the code's length.
    fn is_code_shaped(&self, raw: &str) -> bool {
        CODE_LIKE.is_match(raw)
            && raw
                .chars()
                .filter(|&c| redact::digit_value(c).is_some())
                .count()
                == self.ctx.settings.otp.digits
    }

    /// Whether a bare number is to be taken for a one-time code: exactly
    /// the code's length, while a code is awaited or within the hour after
    /// one was sent.
    pub fn looks_like_a_live_code(&self, raw: &str) -> bool {
        const HOUR_MS: i64 = 60 * 60 * 1000;
        let recent = self
            .conv
            .code_sent_at
            .is_some_and(|at| self.ctx.now_ms() - at <= HOUR_MS);
        self.is_code_shaped(raw)
            && (matches!(self.conv.state, State::AwaitingCode { .. }) || recent)
    }

    /// A card number or a password was typed: the message is deleted and
    /// the merchant warned; nothing else happens.
    fn secret_typed(&mut self, findings: redact::Findings) {
        self.effects.push(Effect::DeleteIncoming);
        let detail = match self.ctx.ticket {
            Some(_) => "message deleted, not relayed",
            None => "message deleted",
        };
        if findings.card_number {
            self.audit("sensitive.card_number", None, detail);
            return self.say(Msg::new("sensitive-card-number"), Vec::new());
        }
        self.audit("sensitive.password", None, detail);
        self.say(
            Msg::new("sensitive-password-deleted").arg("brand", self.ctx.settings.brand.as_str()),
            Vec::new(),
        );
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
        // "算了，不解绑了" with no flow open: nothing to cancel here; say
        // what to do if a request was already submitted.
        if unbind::STOP_WORD.is_match(raw) {
            return self.say(
                Msg::new("unbind-not-started"),
                vec![vec![
                    super::Button::new("btn-status", CallbackData::MenuStatus),
                    super::Button::new("btn-human", CallbackData::MenuHuman),
                ]],
            );
        }
        if self.is_code_shaped(raw) {
            self.effects.push(Effect::DeleteIncoming);
            return self.say(Msg::new("sensitive-code"), keyboards::main_menu());
        }
        if let Some(merchant) = bare_merchant_number(raw, self.ctx) {
            return unbind::offer_with(self, merchant);
        }
        let (intent, clarify) = self.ctx.understand(raw);
        // Two questions in one message: the first answered, the second
        // offered, when the message's own verdict is one of them.
        if let Some((first, second)) = self.ctx.classifier.two_topics(raw)
            && (intent == Intent::Faq(first) || intent == Intent::Faq(second))
        {
            return self.two_questions(first, second, raw);
        }
        match clarify {
            Some((a, b)) => self.clarify(a, b),
            None => self.answer_intent(intent, raw),
        }
    }

    /// The first topic's answer, then "you also asked about B" with B's
    /// button (`faq:<id>`, as in the FAQ menu).
    fn two_questions(&mut self, first: FaqId, second: FaqId, raw: &str) {
        self.answer_intent(Intent::Faq(first), raw);
        let faq = self.ctx.classifier.faq();
        let Some(topic) = faq.get(second) else {
            return;
        };
        self.say(
            Msg::new("also-asked").arg("topic", super::Arg::Ref(topic.label)),
            vec![vec![keyboards::topic_button(topic)]],
        );
    }

    /// "Did you mean A or B?": two buttons and "neither, a person". Counts
    /// as neither understood nor not; the pick is a turn of its own.
    fn clarify(&mut self, a: Intent, b: Intent) {
        let button = |intent: Intent| {
            super::Button::new(
                keyboards::intent_label(intent, self.ctx.classifier.faq()),
                CallbackData::Clarify(intent),
            )
        };
        self.say(
            Msg::new("clarify-question")
                .arg(
                    "first",
                    super::Arg::Ref(keyboards::intent_label(a, self.ctx.classifier.faq())),
                )
                .arg(
                    "second",
                    super::Arg::Ref(keyboards::intent_label(b, self.ctx.classifier.faq())),
                ),
            vec![
                vec![button(a)],
                vec![button(b)],
                vec![super::Button::new(
                    "btn-clarify-none",
                    CallbackData::MenuHuman,
                )],
            ],
        );
    }

    /// Answers a classified free-text input.
    pub fn answer_intent(&mut self, intent: Intent, raw: &str) {
        match intent {
            Intent::Unknown => {
                self.conv.unknown_streak = self.conv.unknown_streak.saturating_add(1)
            }
            // Small talk is understood, but says nothing about the
            // questions before it: the run of unanswered ones is left alone.
            Intent::Chat(_) => {}
            _ => self.conv.unknown_streak = 0,
        }
        if !matches!(intent, Intent::Chat(ChitChat::Abuse)) {
            self.conv.abuse_streak = 0;
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
            Intent::Chat(kind) => self.chit_chat(kind),
            Intent::Outside(topic) => self.outside(topic),
            Intent::Faq(id) => self.faq(id, mentions_password),
        }
    }

    /// A POS question out of scope: name it and offer a person for it. A
    /// terminal question that says 解绑 may mean the settlement card: ask.
    fn outside(&mut self, topic: Outside) {
        let human = super::Button::new("btn-outside-human", CallbackData::Outside(topic));
        if topic == Outside::Terminal {
            return self.say(
                Msg::new("outside-terminal-or-card"),
                vec![
                    vec![super::Button::new(
                        "btn-unbind",
                        CallbackData::Clarify(Intent::UnbindStart),
                    )],
                    vec![human],
                ],
            );
        }
        self.say(
            Msg::new("outside-topic").arg("topic", super::Arg::Ref(topic.label())),
            vec![
                vec![human],
                vec![super::Button::new("btn-menu", CallbackData::MenuMain)],
            ],
        );
    }

    /// A short reply to small talk. Thanks, OK and goodbye get a line and
    /// nothing else to tap; a question about the bot says what it can do;
    /// an insult gets a calm answer, and a second one in a row a person.
    pub fn chit_chat(&mut self, kind: ChitChat) {
        let brand = self.ctx.settings.brand.as_str();
        match kind {
            ChitChat::Thanks => self.say(Msg::new("chat-thanks"), Vec::new()),
            ChitChat::Ack => self.say(Msg::new("chat-ack"), Vec::new()),
            ChitChat::Goodbye => self.say(Msg::new("chat-goodbye"), Vec::new()),
            ChitChat::Bot => self.say(
                Msg::new("chat-bot").arg("brand", brand),
                keyboards::human_or_menu(),
            ),
            ChitChat::Abuse => {
                self.conv.abuse_streak = self.conv.abuse_streak.saturating_add(1);
                if self.conv.abuse_streak >= 2 {
                    self.conv.abuse_streak = 0;
                    self.say(Msg::new("chat-abuse-handoff"), Vec::new());
                    return handoff::request(self, TicketReason::UserRequest);
                }
                self.say(Msg::new("chat-abuse"), keyboards::human_or_menu())
            }
        }
    }

    /// Small talk in the middle of a flow: the short reply, then where the
    /// flow stands. `false` if `raw` is not small talk.
    fn chit_chat_in_flow(&mut self, raw: &str) -> bool {
        let Intent::Chat(kind) = self.ctx.classify(raw) else {
            return false;
        };
        let confirming = matches!(
            self.conv.state,
            State::AwaitingConfirm { .. } | State::AwaitingFinalConfirm { .. }
        );
        if confirming && kind == ChitChat::Ack {
            // "好的" / "OK" answers the confirmation question.
            return false;
        }
        if kind == ChitChat::Abuse {
            self.answer_intent(Intent::Chat(kind), raw);
            if !self.conv.state.in_flow() {
                return true;
            }
        } else {
            let msg = match kind {
                ChitChat::Thanks => "chat-thanks-in-flow",
                ChitChat::Goodbye => "chat-goodbye-in-flow",
                _ => "chat-ack-in-flow",
            };
            self.say(Msg::new(msg), Vec::new());
        }
        let digits = self.ctx.settings.otp.digits as i64;
        match self.conv.state {
            State::AwaitingMerchantId { .. } => self.say(
                Msg::new("unbind-reminder-merchant-id"),
                keyboards::cancel_only(),
            ),
            State::AwaitingCode { .. } => self.say(
                Msg::new("unbind-code-format").arg("digits", digits),
                keyboards::resend_or_cancel(),
            ),
            State::AwaitingConfirm { .. } => self.say(
                Msg::new("unbind-reminder-confirm"),
                keyboards::confirm_or_cancel(),
            ),
            State::AwaitingFinalConfirm { .. } => self.say(
                Msg::new("unbind-reminder-confirm"),
                keyboards::submit_or_cancel(),
            ),
            State::Idle => {}
        }
        true
    }

    /// Sends an FAQ answer; a topic the live catalogue does not have (an
    /// old button) gets the menu.
    pub fn faq(&mut self, id: FaqId, mentions_password: bool) {
        let faq = self.ctx.classifier.faq();
        let Some(topic) = faq.get(id) else {
            return self.say(Msg::new("faq-menu"), keyboards::faq_menu(faq));
        };
        let mut parts = Vec::new();
        if mentions_password && !topic.safety {
            parts.push(
                Msg::new("sensitive-password").arg("brand", self.ctx.settings.brand.as_str()),
            );
        }
        parts.push(topic_answer(topic, self.ctx.settings));
        self.say_parts(parts, keyboards::after_faq(topic, faq));
    }

    /// The FAQ menu.
    pub fn faq_menu(&mut self) {
        self.say(
            Msg::new("faq-menu"),
            keyboards::faq_menu(self.ctx.classifier.faq()),
        );
    }

    fn callback(&mut self, data: CallbackData) {
        match data {
            CallbackData::UnbindConfirm => unbind::confirm_pressed(self),
            CallbackData::UnbindCancel if self.conv.state.in_flow() => self.cancel(),
            CallbackData::UnbindResend => unbind::resend_pressed(self),
            CallbackData::MenuUnbind => unbind::start(self, Purpose::Unbind),
            CallbackData::UnbindWith(raw) => unbind::start_with(self, &raw),
            CallbackData::MenuFaq => self.faq_menu(),
            CallbackData::MenuStatus => unbind::status(self),
            CallbackData::MenuHuman => handoff::request(self, TicketReason::UserRequest),
            CallbackData::MenuMain => self.menu(),
            CallbackData::Faq(id) => self.faq(id, false),
            CallbackData::Clarify(intent) => self.answer_intent(intent, ""),
            CallbackData::Outside(topic) => handoff::request(self, TicketReason::Outside(topic)),
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

/// The answer of an FAQ topic under `settings` (`None`: not in `faq`).
pub fn faq_message(id: FaqId, faq: &Catalogue, s: &Settings) -> Option<Msg> {
    faq.get(id).map(|topic| topic_answer(topic, s))
}

/// A topic's answer with the settings it quotes.
pub fn topic_answer(topic: &Topic, s: &Settings) -> Msg {
    topic
        .quotes
        .iter()
        .fold(Msg::new(topic.answer), |msg, quote| {
            msg.arg(quote.name(), quoted(*quote, s))
        })
}

/// The value of a quoted setting; zones and hours in the reader's language.
fn quoted(quote: Quote, s: &Settings) -> super::Arg {
    match quote {
        Quote::Brand => s.brand.as_str().into(),
        Quote::CodeMinutes => s.otp.valid_minutes.into(),
        Quote::MaxAttempts => s.otp.max_attempts.into(),
        Quote::LockMinutes => s.otp.lock_minutes.into(),
        Quote::ResendSeconds => s.otp.resend_seconds.into(),
        Quote::CodeDigits => (s.otp.digits as i64).into(),
        Quote::SlaHours => s.unbind.sla_hours.into(),
        Quote::MaxUnbinds => s.unbind.max_per_period.into(),
        Quote::PeriodDays => s.unbind.period_days.into(),
        Quote::Blackout if s.unbind.blackout.is_empty() => "none".into(),
        Quote::Blackout => s.unbind.blackout.join(", ").into(),
        Quote::Timezone => handoff::zone_name(&s.unbind.timezone),
        Quote::SupportHours => handoff::hours_text(&s.support.hours),
        Quote::MerchantIdExample => s.merchant.id_example.as_str().into(),
    }
}
