//! Presentation of a ticket for staff: the context card at the top of its
//! topic, the topic's name, the buttons that are still possible, the
//! canned-answer menu. Pure: message ids with arguments, rendered by the
//! engine in the staff language.

use crate::conversation::{
    Arg, Button, CallbackData, MerchantRecord, Msg, Outgoing, RequestSummary,
};
use crate::domain::{Lang, RequestStatus};
use crate::faq::Catalogue;

use super::{StaffCallback, Status, Ticket};

/// An earlier ticket of the same chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierTicket {
    /// Its id.
    pub id: i64,
    /// Where it ended.
    pub status: Status,
    /// Its forum topic, if one was created.
    pub thread_id: Option<i64>,
}

/// Everything the card shows, loaded by the engine in the action's transaction.
#[derive(Debug, Clone)]
pub struct CardFacts {
    /// The ticket.
    pub ticket: Ticket,
    /// The merchant's Telegram name and id.
    pub user_name: String,
    /// The merchant's Telegram user id.
    pub user_id: i64,
    /// The merchant's language.
    pub lang: Lang,
    /// The verified merchant's record.
    pub merchant: Option<MerchantRecord>,
    /// Code entry locked until (Unix ms), if locked now.
    pub locked_until: Option<i64>,
    /// Where the merchant is (conversation state name).
    pub state: &'static str,
    /// Whether staff blocked the user.
    pub blocked: bool,
    /// The merchant's requests, newest first.
    pub requests: Vec<RequestSummary>,
    /// Earlier tickets of the chat, newest first.
    pub earlier: Vec<EarlierTicket>,
    /// The last inputs of the chat as recorded (redacted), oldest first.
    pub recent: Vec<String>,
    /// The staff supergroup (for links to topics).
    pub staff_chat: i64,
}

/// A rendered-later card: lines (joined by line breaks) and buttons.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// One message a line.
    pub lines: Vec<Msg>,
    /// Buttons still possible.
    pub keyboard: Vec<Vec<Button>>,
}

/// A staff-group button: the label and the staff callback data, carried
/// verbatim (the merchant side parses it as invalid, which it is there).
pub fn button(label: Msg, data: StaffCallback) -> Button {
    Button {
        label,
        data: CallbackData::Invalid(data.to_data()),
    }
}

/// The buttons of a ticket in its state.
pub fn buttons(ticket: &Ticket, requests: &[RequestSummary]) -> Vec<Vec<Button>> {
    let id = ticket.id;
    let mut rows = Vec::new();
    match ticket.status {
        Status::Open => rows.push(vec![
            button(Msg::new("btn-claim"), StaffCallback::Claim(id)),
            button(Msg::new("btn-close"), StaffCallback::Close(id)),
        ]),
        Status::Claimed => rows.push(vec![
            button(Msg::new("btn-unclaim"), StaffCallback::Unclaim(id)),
            button(Msg::new("btn-close"), StaffCallback::Close(id)),
        ]),
        Status::Closed | Status::Withdrawn => rows.push(vec![button(
            Msg::new("btn-reopen"),
            StaffCallback::Reopen(id),
        )]),
    }
    let mut tools = vec![button(Msg::new("btn-info"), StaffCallback::Info(id))];
    if ticket.merchant.is_some() {
        tools.push(button(Msg::new("btn-unlock"), StaffCallback::Unlock(id)));
    }
    rows.push(tools);
    rows.extend(buttons_for_requests(requests));
    rows
}

/// Status buttons for pending requests (at most two).
fn buttons_for_requests(requests: &[RequestSummary]) -> Vec<Vec<Button>> {
    let mut rows = Vec::new();
    for request in requests.iter().filter(|r| r.status.is_pending()).take(2) {
        let reference = request.reference.as_str();
        let mut row = Vec::new();
        for status in [
            RequestStatus::Processing,
            RequestStatus::Completed,
            RequestStatus::Rejected,
        ] {
            if !request.status.can_become(status) {
                continue;
            }
            let label = match status {
                RequestStatus::Processing => Msg::new("btn-request-processing"),
                RequestStatus::Completed => Msg::new("btn-request-completed"),
                _ => Msg::new("btn-request-rejected"),
            };
            row.push(button(
                label.arg("reference", short_reference(reference)),
                StaffCallback::Request(status, request.reference.clone()),
            ));
        }
        if !row.is_empty() {
            rows.push(row);
        }
    }
    rows
}

/// The last block of a reference (`UB-20261130-ABCDE` → `ABCDE`), enough on a button.
fn short_reference(reference: &str) -> String {
    reference
        .rsplit('-')
        .next()
        .unwrap_or(reference)
        .to_string()
}

/// The context card.
pub fn card(facts: &CardFacts, now_ms: i64) -> Card {
    let t = &facts.ticket;
    let mut lines = vec![
        Msg::new("card-title")
            .arg("ticket", t.id)
            .arg("status", status_arg(t))
            .arg("reason", Arg::Ref(t.reason.message_id())),
        Msg::new("card-user")
            .arg("name", facts.user_name.as_str())
            .arg("id", facts.user_id)
            .arg(
                "lang",
                match facts.lang {
                    Lang::ZhCn => Arg::Ref("card-lang-zh"),
                    Lang::En => Arg::Ref("card-lang-en"),
                },
            ),
    ];
    match (&t.merchant, &facts.merchant) {
        (Some(id), Some(m)) => lines.push(
            Msg::new("card-merchant")
                .arg("merchant", id.as_str())
                .arg("name", m.name.as_str())
                .arg("bank", m.bank.as_str())
                .arg("card", m.card.as_str())
                .arg("phone", m.phone.masked()),
        ),
        (Some(id), None) => {
            lines.push(Msg::new("card-merchant-unknown").arg("merchant", id.as_str()))
        }
        (None, _) => lines.push(Msg::new("card-merchant-unverified")),
    }
    lines.push(Msg::new("card-where").arg("where", Arg::Ref(state_words(facts.state))));
    if let Some(until) = facts.locked_until.filter(|u| *u > now_ms) {
        lines.push(Msg::new("card-locked").arg("minutes", ((until - now_ms) / 60_000).max(1)));
    }
    if facts.blocked {
        lines.push(Msg::new("card-blocked"));
    }
    if facts.requests.is_empty() {
        lines.push(Msg::new("card-requests-none"));
    } else {
        lines.push(Msg::new("card-requests"));
        for r in facts.requests.iter().take(5) {
            lines.push(
                Msg::new("card-request")
                    .arg("reference", r.reference.as_str())
                    .arg("status", Arg::Ref(r.status.message_id())),
            );
        }
    }
    if !facts.earlier.is_empty() {
        lines.push(Msg::new("card-earlier"));
        for e in facts.earlier.iter().take(5) {
            let link = match (topic_link(facts.staff_chat, e.thread_id), e.thread_id) {
                (Some(link), _) => link,
                (None, _) => String::new(),
            };
            lines.push(
                Msg::new("card-earlier-line")
                    .arg("ticket", e.id)
                    .arg("status", Arg::Ref(e.status.message_id()))
                    .arg("link", link),
            );
        }
    }
    if !facts.recent.is_empty() {
        lines.push(Msg::new("card-recent"));
        lines.extend(facts.recent.iter().map(|line| readable(line)));
    }
    Card {
        lines,
        keyboard: buttons(t, &facts.requests),
    }
}

fn status_arg(t: &Ticket) -> Arg {
    match (&t.status, &t.assignee) {
        (Status::Claimed, Some(agent)) => Arg::Str(agent.name.clone()),
        (status, _) => Arg::Ref(status.message_id()),
    }
}

/// A link to a forum topic of a supergroup (`t.me/c/<id>/<thread>`), when
/// the chat id has the supergroup form.
pub fn topic_link(staff_chat: i64, thread: Option<i64>) -> Option<String> {
    let internal = staff_chat.checked_neg()?.checked_sub(1_000_000_000_000)?;
    let thread = thread?;
    (internal > 0).then(|| format!("https://t.me/c/{internal}/{thread}"))
}

/// What a request's post in the requests topic shows.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    /// The request.
    pub reference: crate::domain::Reference,
    /// Its merchant number.
    pub merchant: String,
    /// The merchant's record, if registered.
    pub record: Option<MerchantRecord>,
    /// Its status.
    pub status: RequestStatus,
    /// Why (rejections, cancellations).
    pub reason: Option<String>,
    /// Submitted, Unix ms.
    pub created_at: i64,
}

/// A request's post in the requests topic: its facts, status and the
/// status buttons still possible.
pub fn request_post(f: &RequestFacts) -> Card {
    let mut lines = vec![
        Msg::new("request-post-title")
            .arg("reference", f.reference.as_str())
            .arg("status", Arg::Ref(f.status.message_id())),
    ];
    lines.push(match &f.record {
        Some(m) => Msg::new("card-merchant")
            .arg("merchant", f.merchant.as_str())
            .arg("name", m.name.as_str())
            .arg("bank", m.bank.as_str())
            .arg("card", m.card.as_str())
            .arg("phone", m.phone.masked()),
        None => Msg::new("card-merchant-unknown").arg("merchant", f.merchant.as_str()),
    });
    lines.push(Msg::new("request-post-created").arg("at", format_ms(f.created_at)));
    if let Some(reason) = f.reason.as_deref().filter(|r| !r.is_empty()) {
        lines.push(Msg::new("request-post-reason").arg("reason", reason));
    }
    let summary = RequestSummary {
        reference: f.reference.clone(),
        status: f.status,
        created_at: f.created_at,
    };
    let keyboard = buttons_for_requests(&[summary]);
    Card { lines, keyboard }
}

/// The forum topic's name: who, why, and where the ticket is.
pub fn topic_name(ticket: &Ticket, user_name: &str) -> Msg {
    let who = format!(
        "#{} {}",
        ticket.id,
        ticket.merchant.as_deref().unwrap_or(user_name)
    );
    let base = |id: &'static str| {
        Msg::new(id)
            .arg("who", who.as_str())
            .arg("reason", Arg::Ref(ticket.reason.message_id()))
    };
    match (&ticket.status, &ticket.assignee) {
        (Status::Claimed, Some(agent)) => {
            base("staff-topic-claimed").arg("agent", agent.name.as_str())
        }
        (Status::Open, _) | (Status::Claimed, None) => base("staff-topic-waiting"),
        (Status::Closed | Status::Withdrawn, _) => base("staff-topic-closed"),
    }
}

/// The canned answers as buttons: every topic of the catalogue.
pub fn canned_menu(ticket: i64, faq: &Catalogue) -> Outgoing {
    let keyboard = faq
        .topics()
        .iter()
        .map(|topic| {
            vec![button(
                Msg::new(topic.label),
                StaffCallback::Canned(topic.id, ticket),
            )]
        })
        .collect();
    Outgoing {
        parts: vec![Msg::new("staff-faq-list").arg("ticket", ticket)],
        keyboard,
    }
}

/// Where the merchant is, in words.
fn state_words(state: &str) -> &'static str {
    match state {
        "awaiting_merchant_id" => "card-state-merchant-id",
        "awaiting_code" => "card-state-code",
        "awaiting_confirm" => "card-state-confirm",
        "awaiting_final_confirm" => "card-state-final-confirm",
        _ => "card-state-idle",
    }
}

/// A bare number of 4 to 10 digits: possibly a one-time code, never shown.
static CODE_LIKE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^\s*\d(?:[\s-]?\d){3,9}\s*$").expect("static regex") // ok: a constant pattern, checked by the card tests
});

/// A recorded input as people read it: `[button menu:faq]` becomes
/// "pressed: FAQ", `[command Start]` becomes "/start"; a bare number that
/// may be a one-time code is hidden (staff never need it).
pub fn readable(input: &str) -> Msg {
    if CODE_LIKE.is_match(input) {
        return Msg::new("card-line-code");
    }
    if let Some(data) = input
        .strip_prefix("[button ")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        return Msg::new("card-line-button").arg("button", Arg::Ref(button_label(data)));
    }
    if let Some(command) = input
        .strip_prefix("[command ")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        let name = match command.split_once('(') {
            Some((_, arg)) => arg.trim_end_matches(')').trim_matches('"').to_lowercase(),
            None => command.to_lowercase(),
        };
        return Msg::new("card-line-command").arg("command", format!("/{name}"));
    }
    if let Some(kind) = input
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .filter(|k| !k.contains(' '))
    {
        let what = match kind {
            "Photo" => "card-media-photo",
            "Document" => "card-media-document",
            "Voice" => "card-media-voice",
            "Video" => "card-media-video",
            "Sticker" => "card-media-sticker",
            _ => "card-media-other",
        };
        return Msg::new("card-line-media").arg("media", Arg::Ref(what));
    }
    let text: String = input.chars().take(200).collect();
    Msg::new("card-line-text").arg("text", text)
}

/// The label of a merchant-side button by its data.
fn button_label(data: &str) -> &'static str {
    match CallbackData::parse(data) {
        CallbackData::MenuUnbind => "btn-unbind",
        CallbackData::UnbindWith(_) => "btn-unbind-with",
        CallbackData::MenuFaq => "btn-faq",
        CallbackData::MenuStatus => "btn-status",
        CallbackData::MenuHuman => "btn-human",
        CallbackData::MenuMain => "btn-menu",
        CallbackData::UnbindConfirm => "btn-confirm",
        CallbackData::UnbindCancel => "btn-cancel",
        CallbackData::UnbindResend => "btn-resend",
        CallbackData::Faq(id) => id.label(),
        CallbackData::Lang(Lang::ZhCn) => "btn-lang-zh",
        CallbackData::Lang(Lang::En) => "btn-lang-en",
        CallbackData::Csat(..) => "card-button-rating",
        _ => "card-button-other",
    }
}

/// One line of the open-ticket listing.
pub fn ticket_line(ticket: &Ticket, age_minutes: i64) -> Msg {
    Msg::new("staff-tickets-line")
        .arg("ticket", ticket.id)
        .arg("age_minutes", age_minutes.max(0))
        .arg(
            "assignee",
            match &ticket.assignee {
                Some(agent) => Arg::Str(agent.name.clone()),
                None => Arg::Ref("staff-unassigned"),
            },
        )
        .arg("reason", Arg::Ref(ticket.reason.message_id()))
}

/// Formats a Unix-ms time for operators.
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
