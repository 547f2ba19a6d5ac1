//! The merchant side of human handoff: asking for a person, the queue notice,
//! what the bot does while a person owns the chat, and the rating afterwards.
//! The staff side lives in `crate::tickets`.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};

use crate::redact;

use super::effect::{Arg, Effect, Msg, Outgoing, TicketReason, Write};
use super::event::{CallbackData, Command, Event};
use super::facts::{TicketOpened, TicketView};
use super::keyboards;
use super::state::{Purpose, State};
use super::step::Turn;

/// Asks for a person: opens a ticket unless one is open. Without a staff
/// chat the ticket is a record for the back office and the merchant is
/// told how support reaches them (every time they ask); the bot keeps
/// answering them itself.
pub(super) fn request(t: &mut Turn<'_, '_>, reason: TicketReason) {
    t.conv.unknown_streak = 0;
    // Asked for after code entry locked (and while it still is): staff see
    // why, and the engine gives them the locked merchant number.
    let reason = match reason {
        TicketReason::UserRequest if t.conv.is_code_locked(t.ctx.now_ms()) => {
            TicketReason::CodeLocked
        }
        other => other,
    };
    if t.conv.state.in_flow() {
        flow_stopped(t);
    }
    match t.ctx.ticket.clone() {
        Some(_) if !has_staff_chat(t) => no_staff_chat(t),
        Some(ticket) => already_open(t, &ticket),
        None => t.effects.push(Effect::OpenTicket { reason }),
    }
}

/// A person asked for in the middle of a flow: the flow ends (a person
/// takes over; no step is left waiting for a code or a confirmation), and
/// the merchant is told that nothing was submitted and how to start again.
fn flow_stopped(t: &mut Turn<'_, '_>) {
    let msg = match t.conv.state {
        State::AwaitingMerchantId {
            purpose: Purpose::Status,
        }
        | State::AwaitingCode {
            purpose: Purpose::Status,
            ..
        } => "status-stopped-for-human",
        _ => "unbind-stopped-for-human",
    };
    t.conv.state = State::Idle;
    t.say(Msg::new(msg), Vec::new());
}

/// Whether a staff group takes tickets (`support.staff_chat_id`).
pub(super) fn has_staff_chat(t: &Turn<'_, '_>) -> bool {
    t.ctx.settings.support.staff_chat_id != 0
}

fn no_staff_chat(t: &mut Turn<'_, '_>) {
    let contact = match t.ctx.settings.support.contact.trim() {
        "" => Arg::Ref("handoff-contact-default"),
        contact => Arg::Str(contact.to_string()),
    };
    t.say(
        Msg::new("handoff-no-staff-chat").arg("contact", contact),
        keyboards::main_menu(),
    );
}

fn already_open(t: &mut Turn<'_, '_>, ticket: &TicketView) {
    match &ticket.assignee {
        Some(agent) => t.say(
            Msg::new("handoff-claimed").arg("agent", agent.as_str()),
            Vec::new(),
        ),
        None => t.say(
            Msg::new("handoff-already-open").arg("position", ticket.position),
            Vec::new(),
        ),
    }
}

/// The store created the ticket: tell the merchant what happens next.
pub(super) fn opened(t: &mut Turn<'_, '_>, opened: TicketOpened) {
    let support = &t.ctx.settings.support;
    if !opened.staff_chat {
        return no_staff_chat(t);
    }
    let mut parts = vec![Msg::new("handoff-opened").arg("position", opened.position)];
    let tz = t.ctx.derived.support_tz;
    let (open_now, next_open) = on_duty(&support.hours, tz, t.ctx.now);
    if open_now {
        parts.push(Msg::new("handoff-on-duty"));
    } else {
        let today = t.ctx.now.with_timezone(&tz).format("%Y-%m-%d").to_string();
        if t.conv.off_hours_notice_day.as_deref() != Some(today.as_str()) {
            t.conv.off_hours_notice_day = Some(today);
            let next = next_open
                .map(|at| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            parts.push(
                Msg::new("handoff-off-hours")
                    .arg("hours", hours_text(&support.hours))
                    .arg("next_open", next),
            );
        }
    }
    t.say_parts(parts, Vec::new());
}

/// While a ticket is open the bot relays messages to the person instead of
/// answering them; commands and menu buttons still get answers (never a
/// dead end). Card numbers and passwords never get here (`step` deletes
/// them first); bare codes are stopped here.
pub(super) fn while_ticket_open(t: &mut Turn<'_, '_>, ticket: &TicketView, event: Event) {
    match event {
        Event::Command(command) => command_while_waiting(t, ticket, command),
        Event::Callback(CallbackData::MenuHuman) => already_open(t, ticket),
        Event::Callback(CallbackData::Lang(lang)) => {
            t.conv.lang = Some(lang);
            t.say(Msg::new("lang-set"), Vec::new());
        }
        Event::Callback(CallbackData::MenuFaq) => t.faq_menu(),
        Event::Callback(CallbackData::Faq(intent)) => t.faq(intent, false),
        Event::Callback(CallbackData::MenuMain) => waiting_help(t),
        Event::Callback(CallbackData::MenuStatus) => status_while_waiting(t),
        Event::Callback(CallbackData::MenuUnbind | CallbackData::UnbindWith(_)) => {
            t.say(Msg::new("handoff-unbind-later"), Vec::new())
        }
        Event::Callback(_) => t.toast(Some(Msg::new("callback-expired"))),
        Event::Text(text) if t.looks_like_a_live_code(&text) => {
            // A one-time code is nobody's business, not even staff's. Other
            // numbers ("0123", the card's last four; "5000", an amount) go
            // to the person like any message.
            t.effects.push(Effect::DeleteIncoming);
            t.say(Msg::new("sensitive-code"), Vec::new());
        }
        Event::Text(text) if let Some(command) = Command::parse(&text) => {
            command_while_waiting(t, ticket, command)
        }
        Event::Edited(text) => t.effects.push(Effect::RelayEditToStaff {
            ticket: ticket.id,
            edited: redact::redacted(&text),
        }),
        Event::Text(_) | Event::Media(_) => {
            t.effects.push(Effect::RelayToStaff { ticket: ticket.id })
        }
        _ => {}
    }
}

/// A command while waiting for (or talking to) a person.
fn command_while_waiting(t: &mut Turn<'_, '_>, ticket: &TicketView, command: Command) {
    match command {
        Command::Cancel => withdraw(t, ticket),
        Command::Human => already_open(t, ticket),
        Command::Faq => t.faq_menu(),
        Command::Lang => t.say(Msg::new("lang-choose"), keyboards::languages()),
        Command::Status => status_while_waiting(t),
        Command::Unbind => t.say(Msg::new("handoff-unbind-later"), Vec::new()),
        Command::Start | Command::Help | Command::Unknown(_) => waiting_help(t),
    }
}

/// Where the merchant stands and what they can do while a person has the chat.
fn waiting_help(t: &mut Turn<'_, '_>) {
    t.say(Msg::new("handoff-waiting-help"), keyboards::while_waiting());
}

/// `/status` while a person has the chat: the requests if a merchant is
/// verified here; otherwise the merchant number goes to the person (text
/// is relayed now), or `/cancel` first.
fn status_while_waiting(t: &mut Turn<'_, '_>) {
    let verified = t
        .conv
        .verified
        .as_ref()
        .is_some_and(|v| v.until > t.ctx.now_ms());
    if verified {
        return super::unbind::status(t);
    }
    t.say(Msg::new("handoff-status-needs-verify"), Vec::new());
}

fn withdraw(t: &mut Turn<'_, '_>, ticket: &TicketView) {
    if ticket.assignee.is_some() {
        return t.say(Msg::new("handoff-cannot-withdraw"), Vec::new());
    }
    t.write(Write::TicketWithdrawn { ticket: ticket.id });
    t.conv.state = super::State::Idle;
    t.say(Msg::new("handoff-withdrawn"), keyboards::main_menu());
}

/// Staff blocked this user: the flow ends, nothing is pending.
pub(super) fn blocked(t: &mut Turn<'_, '_>, reason: String) {
    t.conv.blocked = Some(reason);
    t.conv.block_noticed = false;
    t.conv.state = super::State::Idle;
    t.conv.awaiting_rating = None;
    t.conv.awaiting_comment = None;
}

/// Input from a blocked user: one polite notice, then nothing (no ticket,
/// no relay).
pub(super) fn while_blocked(t: &mut Turn<'_, '_>) {
    if t.conv.block_noticed {
        return;
    }
    t.conv.block_noticed = true;
    t.say(Msg::new("blocked-notice"), Vec::new());
}

/// A rating for the ticket that was closed.
pub(super) fn rated(t: &mut Turn<'_, '_>, ticket: i64, score: u8) {
    t.write(Write::TicketRated { ticket, score });
    t.conv.awaiting_rating = None;
    t.conv.awaiting_comment = Some((ticket, t.ctx.now_ms() + 10 * 60_000));
    t.toast(None);
    t.say(
        Msg::new("handoff-rating-thanks").arg("rating", i64::from(score)),
        Vec::new(),
    );
}

/// Staff closed the ticket: the bot owns the chat again, and asks once for a rating.
pub(super) fn closed(t: &mut Turn<'_, '_>, ticket: i64) {
    t.conv.awaiting_rating = Some(ticket);
    t.conv.state = super::State::Idle;
    t.effects.push(Effect::Send(closed_notice(ticket)));
}

/// The message a merchant gets when staff close their ticket: back to the
/// bot, and a one-tap rating.
pub fn closed_notice(ticket: i64) -> Outgoing {
    Outgoing {
        parts: vec![Msg::new("handoff-closed")],
        keyboard: keyboards::rating(ticket),
    }
}

/// Whether support is on duty at `now` under `hours` (e.g. `Mon-Fri
/// 09:00-18:00`, several separated by `;`), and when it next opens.
/// An empty or unparseable spec means always on duty.
pub fn on_duty<Tz: TimeZone>(
    hours: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> (bool, Option<DateTime<Utc>>) {
    let specs: Vec<HoursSpec> = hours.split(';').filter_map(HoursSpec::parse).collect();
    if specs.is_empty() {
        return (true, None);
    }
    let local = now.with_timezone(&tz);
    let minute = local.hour() * 60 + local.minute();
    let yesterday = local.weekday().pred();
    let open_now = specs.iter().any(|s| {
        if s.start <= s.end {
            s.has_day(local.weekday()) && (s.start..s.end).contains(&minute)
        } else {
            // A shift crossing midnight belongs to the day it starts.
            (s.has_day(local.weekday()) && minute >= s.start)
                || (s.has_day(yesterday) && minute < s.end)
        }
    });
    let mut next: Option<DateTime<Utc>> = None;
    for days_ahead in 0..8 {
        let day = local.date_naive() + Duration::days(days_ahead);
        for spec in specs.iter().filter(|s| s.has_day(day.weekday())) {
            let Some(start) = day.and_hms_opt(spec.start / 60, spec.start % 60, 0) else {
                continue;
            };
            let Some(start) = tz.from_local_datetime(&start).earliest() else {
                continue;
            };
            let start = start.with_timezone(&Utc);
            if start > now && next.is_none_or(|n| start < n) {
                next = Some(start);
            }
        }
        if next.is_some() {
            break;
        }
    }
    (open_now, next)
}

/// Opening hours in the reader's language (周一至周五 9:00–18:00); an
/// unparseable spec is shown as written.
pub fn hours_text(hours: &str) -> Arg {
    let specs: Vec<HoursSpec> = hours.split(';').filter_map(HoursSpec::parse).collect();
    if specs.is_empty() {
        return Arg::Str(hours.to_string());
    }
    let clock = |minute: u32| format!("{}:{:02}", minute / 60, minute % 60);
    Arg::List(
        specs
            .iter()
            .map(|spec| {
                let days = match spec.first == spec.last {
                    true => Msg::new(DAY_NAMES[spec.first as usize % 7]),
                    false => Msg::new("hours-days")
                        .arg("first", Arg::Ref(DAY_NAMES[spec.first as usize % 7]))
                        .arg("last", Arg::Ref(DAY_NAMES[spec.last as usize % 7])),
                };
                Msg::new("hours-span")
                    .arg("days", Arg::Msg(Box::new(days)))
                    .arg("from", clock(spec.start))
                    .arg("to", clock(spec.end % (24 * 60)))
            })
            .collect(),
    )
}

/// A time zone by the name people use: 北京时间 for China's zones, else
/// its IANA name.
pub fn zone_name(zone: &str) -> Arg {
    match zone {
        "Asia/Shanghai" | "Asia/Chongqing" | "Asia/Chungking" | "Asia/Harbin" | "PRC" => {
            Arg::Ref("zone-beijing")
        }
        other => Arg::Str(other.to_string()),
    }
}

const DAY_NAMES: [&str; 7] = [
    "day-mon", "day-tue", "day-wed", "day-thu", "day-fri", "day-sat", "day-sun",
];

struct HoursSpec {
    first: u32,
    last: u32,
    start: u32,
    end: u32,
}

impl HoursSpec {
    fn parse(text: &str) -> Option<HoursSpec> {
        let mut words = text.split_whitespace();
        let days = words.next()?;
        let times = words.next()?;
        let (first, last) = match days.split_once('-') {
            Some((a, b)) => (weekday(a)?, weekday(b)?),
            None => (weekday(days)?, weekday(days)?),
        };
        let (start, end) = crate::config::parse_window(times)?;
        Some(HoursSpec {
            first,
            last,
            start,
            end,
        })
    }

    fn has_day(&self, day: Weekday) -> bool {
        let d = day.num_days_from_monday();
        if self.first <= self.last {
            (self.first..=self.last).contains(&d)
        } else {
            d >= self.first || d <= self.last
        }
    }
}

fn weekday(name: &str) -> Option<u32> {
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let lower = name.to_ascii_lowercase();
    names
        .iter()
        .position(|n| lower.starts_with(n))
        .map(|p| p as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_hours() {
        let tz = chrono_tz::Asia::Shanghai;
        // 2026-11-30 is a Monday; 10:00 Shanghai = 02:00 UTC.
        let monday_ten = Utc
            .with_ymd_and_hms(2026, 11, 30, 2, 0, 0)
            .single()
            .expect("valid"); // ok: a test; failing loudly is the point
        assert!(on_duty("Mon-Fri 09:00-18:00", tz, monday_ten).0);
        // Saturday 10:00 Shanghai: closed, opens Monday 09:00.
        let saturday = Utc
            .with_ymd_and_hms(2026, 11, 28, 2, 0, 0)
            .single()
            .expect("valid"); // ok: a test; failing loudly is the point
        let (open, next) = on_duty("Mon-Fri 09:00-18:00", tz, saturday);
        assert!(!open);
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).single());
        assert!(on_duty("", tz, saturday).0);
    }
}
