//! Table tests of the ticket core, in the style of the conversation core's
//! `check`: a script of staff actions goes through [`step`] and each is
//! compared with the expected ticket state and effect lines.
//!
//! State: `open`, `claimed:<agent id>`, `closed`, `withdrawn`.
//! Effect lines name message ids and arguments, never wording:
//!
//! ```text
//! answer <msg>          topic <msg> [<button data> …]   merchant <event>
//! to-merchant reply|canned <faq>|notice <msg>          audit <action>
//! write transcript <direction> | unlock <merchant> | await-reason <ref>
//! set-request <ref> <status> [reason]   show-card  refresh  close-topic  reopen-topic
//! ```
//!
//! An expected line without `(` is compared with the actual line minus its
//! arguments. Script inputs: `claim`, `unclaim`, `assign <id> staff|guest`,
//! `close`, `reopen`, `reply <text>`, `photo`, `note <text>`, `unlock`,
//! `edit <text>`, `faq`, `canned <faq id>`, `block [reason]`, `unblock`, `info`,
//! `processing|completed <ref>`, `reject <ref>`, `reason <ref> <text>`;
//! directives `@as <id>` (the actor), `@guest` / `@staff` (whether the actor
//! is staff), `@other-active` (the chat has another active ticket).

use crate::conversation::{Arg, Event as MerchantEvent, Msg, Outgoing, TicketReason};
use crate::domain::{Reference, RequestStatus};
use crate::faq::Catalogue;

/// The built-in FAQ catalogue.
static FAQ: std::sync::LazyLock<Catalogue> = std::sync::LazyLock::new(|| {
    crate::app::builtin_faq().expect("the built-in catalogue") // ok: a test; failing loudly is the point
});

use super::{Agent, Ctx, Effect, StaffEvent, Status, Ticket, ToMerchant, Write, step};

const REF: &str = "UB-20261130-ABCDE";

type Row<'a> = (&'a str, &'a str, &'a [&'a str]);

struct Harness {
    ticket: Ticket,
    actor: Agent,
    is_staff: bool,
    other_active: bool,
}

fn agent(id: i64) -> Agent {
    Agent {
        id,
        name: format!("A{id}"),
        shown: format!("S{id}"),
    }
}

impl Harness {
    fn new() -> Harness {
        Harness {
            ticket: Ticket {
                id: 7,
                chat_id: 42,
                merchant: Some("M100200300".into()),
                reason: TicketReason::UserRequest,
                status: Status::Open,
                assignee: None,
                closed_at: None,
            },
            actor: agent(501),
            is_staff: true,
            other_active: false,
        }
    }

    fn state(&self) -> String {
        match (&self.ticket.status, &self.ticket.assignee) {
            (Status::Claimed, Some(a)) => format!("claimed:{}", a.id),
            (status, _) => status.as_str().to_string(),
        }
    }

    fn input(&mut self, line: &str) -> Vec<String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let rest = |n: usize| words.get(n..).map(|w| w.join(" ")).unwrap_or_default();
        let reference = |raw: &str| Reference::parse(raw).expect("reference"); // ok: a test; failing loudly is the point
        let event = match words.as_slice() {
            ["@as", id] => {
                self.actor = agent(id.parse().expect("id")); // ok: a test; failing loudly is the point
                return Vec::new();
            }
            ["@guest"] => {
                self.is_staff = false;
                return Vec::new();
            }
            ["@staff"] => {
                self.is_staff = true;
                return Vec::new();
            }
            ["@other-active"] => {
                self.other_active = true;
                return Vec::new();
            }
            ["claim"] => StaffEvent::Claim,
            ["unclaim"] => StaffEvent::Unclaim,
            ["assign", id, who] => StaffEvent::Assign {
                to: agent(id.parse().expect("id")), // ok: a test; failing loudly is the point
                is_staff: *who == "staff",
            },
            ["close"] => StaffEvent::Close,
            ["reopen"] => StaffEvent::Reopen,
            ["reply", ..] => StaffEvent::Reply {
                text: rest(1),
                media: false,
            },
            ["photo"] => StaffEvent::Reply {
                text: String::new(),
                media: true,
            },
            ["note", ..] => StaffEvent::Note(rest(1)),
            ["edit", ..] => StaffEvent::EditedReply { text: rest(1) },
            ["unlock"] => StaffEvent::Unlock,
            ["faq"] => StaffEvent::FaqList,
            ["canned", id] => StaffEvent::Canned(
                FAQ.find(id).map(|t| t.id).expect("faq id"), // ok: a test; failing loudly is the point
            ),
            ["block", ..] => StaffEvent::Block { reason: rest(1) },
            ["unblock"] => StaffEvent::Unblock,
            ["info"] => StaffEvent::Info,
            ["processing", r] => StaffEvent::SetRequest {
                reference: reference(r),
                status: RequestStatus::Processing,
            },
            ["completed", r] => StaffEvent::SetRequest {
                reference: reference(r),
                status: RequestStatus::Completed,
            },
            ["reject", r] => StaffEvent::AskRejectReason(reference(r)),
            ["reason", r, ..] => StaffEvent::Reject {
                reference: reference(r),
                reason: rest(2),
            },
            _ => panic!("unknown input {line:?}"),
        };
        let ctx = Ctx {
            now_ms: 1_000,
            actor: &self.actor,
            is_staff: self.is_staff,
            other_active: self.other_active,
            faq: &FAQ,
        };
        let transition = step(&self.ticket, event, &ctx);
        self.ticket = transition.next;
        transition.effects.iter().map(render).collect()
    }
}

fn check(h: &mut Harness, script: &[Row<'_>]) {
    for (n, (input, state, expected)) in script.iter().enumerate() {
        let actual = h.input(input);
        let compared: Vec<String> = actual
            .iter()
            .enumerate()
            .map(|(i, line)| match expected.get(i) {
                Some(e) if !e.contains('(') => without_args(line),
                _ => line.clone(),
            })
            .collect();
        let want = format!("{state}\n{}", expected.join("\n"));
        let got = format!("{}\n{}", h.state(), compared.join("\n"));
        assert!(
            want == got,
            "script row {n}, input {input:?}\n--- expected\n{want}\n--- actual\n{got}\n--- actual with arguments\n{}",
            actual.join("\n")
        );
    }
}

fn without_args(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut depth = 0u32;
    for c in line.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn render_msg(msg: &Msg) -> String {
    if msg.args.is_empty() {
        return msg.id.to_string();
    }
    let args: Vec<String> = msg
        .args
        .iter()
        .map(|(name, value)| match value {
            Arg::Str(s) => format!("{name}={s}"),
            Arg::Num(n) => format!("{name}={n}"),
            Arg::Ref(id) => format!("{name}={id}"),
            Arg::Msg(inner) => format!("{name}={}", render_msg(inner)),
            Arg::List(items) => format!(
                "{name}=[{}]",
                items.iter().map(render_msg).collect::<Vec<_>>().join("; ")
            ),
        })
        .collect();
    format!("{}({})", msg.id, args.join(", "))
}

fn render_outgoing(out: &Outgoing) -> String {
    let parts: Vec<String> = out.parts.iter().map(render_msg).collect();
    let line = parts.join(" + ");
    if out.keyboard.is_empty() {
        return line;
    }
    let buttons: Vec<String> = out
        .keyboard
        .iter()
        .flatten()
        .map(|b| b.data.to_data())
        .collect();
    format!("{line} [{}]", buttons.join(" "))
}

fn render(effect: &Effect) -> String {
    match effect {
        Effect::Answer(msg) => format!("answer {}", render_msg(msg)),
        Effect::Topic(out) => format!("topic {}", render_outgoing(out)),
        Effect::Merchant(event) => match event {
            MerchantEvent::TicketClaimed { agent } => format!("merchant claimed({agent})"),
            MerchantEvent::TicketClosed { ticket } => format!("merchant closed({ticket})"),
            MerchantEvent::Blocked { reason } => format!("merchant blocked({reason})"),
            MerchantEvent::Unblocked => "merchant unblocked".into(),
            other => format!("merchant {}", other.kind()),
        },
        Effect::ToMerchant(ToMerchant::Reply { media, .. }) => {
            format!("to-merchant reply{}", if *media { " media" } else { "" })
        }
        Effect::ToMerchant(ToMerchant::Edit { .. }) => "to-merchant edit".into(),
        Effect::ToMerchant(ToMerchant::Canned(faq)) => {
            format!("to-merchant canned {faq}")
        }
        Effect::ToMerchant(ToMerchant::Notice(msg)) => {
            format!("to-merchant notice {}", render_msg(msg))
        }
        Effect::Write(Write::Transcript { direction, .. }) => {
            format!("write transcript {direction}")
        }
        Effect::Write(Write::UnlockCodes(m)) => format!("write unlock {m}"),
        Effect::Write(Write::AwaitReason(r)) => format!("write await-reason {r}"),
        Effect::Audit { action, .. } => format!("audit {action}"),
        Effect::SetRequest {
            reference,
            status,
            reason,
        } => match reason {
            Some(reason) => format!("set-request {reference} {} {reason}", status.as_str()),
            None => format!("set-request {reference} {}", status.as_str()),
        },
        Effect::ShowCard => "show-card".into(),
        Effect::Refresh => "refresh".into(),
        Effect::CloseTopic => "close-topic".into(),
        Effect::ReopenTopic => "reopen-topic".into(),
    }
}

#[test]
fn claim_unclaim_and_claim_again() {
    check(
        &mut Harness::new(),
        &[
            (
                "claim",
                "claimed:501",
                &[
                    "merchant claimed(S501)",
                    "answer staff-ticket-claimed",
                    "audit ticket.claimed",
                    "refresh",
                ],
            ),
            (
                "claim",
                "claimed:501",
                &["answer staff-ticket-already-yours"],
            ),
            ("@as 502", "claimed:501", &[]),
            (
                "claim",
                "claimed:501",
                &["answer staff-ticket-claimed(ticket=7, agent=A501)"],
            ),
            (
                "unclaim",
                "open",
                &[
                    "answer staff-ticket-unclaimed",
                    "audit ticket.unclaimed",
                    "refresh",
                ],
            ),
            ("unclaim", "open", &["answer staff-ticket-not-claimed"]),
        ],
    );
}

#[test]
fn assign_to_staff_only() {
    check(
        &mut Harness::new(),
        &[
            ("assign 9 guest", "open", &["answer staff-assign-not-staff"]),
            (
                "assign 9 staff",
                "claimed:9",
                &[
                    "merchant claimed(S9)",
                    "answer staff-ticket-assigned",
                    "audit ticket.assigned",
                    "refresh",
                ],
            ),
            (
                "assign 9 staff",
                "claimed:9",
                &["answer staff-ticket-claimed"],
            ),
        ],
    );
}

#[test]
fn close_then_reopen_and_actions_on_an_ended_ticket() {
    check(
        &mut Harness::new(),
        &[
            (
                "close",
                "closed",
                &[
                    "merchant closed(7)",
                    "answer staff-ticket-closed",
                    "audit ticket.closed",
                    "refresh",
                    "close-topic",
                ],
            ),
            ("close", "closed", &["answer staff-ticket-ended(ticket=7)"]),
            ("claim", "closed", &["answer staff-ticket-ended"]),
            ("canned security", "closed", &["answer staff-ticket-ended"]),
            ("reply hello", "closed", &["topic staff-ticket-ended"]),
            ("note still a note", "closed", &["write transcript note"]),
            (
                "reopen",
                "claimed:501",
                &[
                    "reopen-topic",
                    "merchant claimed(S501)",
                    "answer staff-ticket-reopened",
                    "audit ticket.reopened",
                    "refresh",
                ],
            ),
            (
                "reopen",
                "claimed:501",
                &["answer staff-ticket-still-active"],
            ),
        ],
    );
}

#[test]
fn reopen_is_refused_while_the_chat_has_another_active_ticket() {
    check(
        &mut Harness::new(),
        &[
            (
                "close",
                "closed",
                &[
                    "merchant closed",
                    "answer staff-ticket-closed",
                    "audit ticket.closed",
                    "refresh",
                    "close-topic",
                ],
            ),
            ("@other-active", "closed", &[]),
            ("reopen", "closed", &["answer staff-reopen-other-active"]),
        ],
    );
}

#[test]
fn a_reply_claims_a_waiting_ticket_and_goes_to_the_merchant() {
    check(
        &mut Harness::new(),
        &[
            (
                "reply 您好",
                "claimed:501",
                &[
                    "merchant claimed(S501)",
                    "audit ticket.claimed",
                    "refresh",
                    "to-merchant reply",
                    "write transcript out",
                ],
            ),
            (
                "photo",
                "claimed:501",
                &["to-merchant reply media", "write transcript out"],
            ),
            ("note 查一下", "claimed:501", &["write transcript note"]),
            (
                "edit 您好！",
                "claimed:501",
                &["to-merchant edit", "write transcript edit"],
            ),
            (
                "close",
                "closed",
                &[
                    "merchant closed",
                    "answer staff-ticket-closed",
                    "audit ticket.closed",
                    "refresh",
                    "close-topic",
                ],
            ),
            ("edit too late", "closed", &[]),
        ],
    );
}

#[test]
fn unlock_needs_a_verified_merchant() {
    let mut h = Harness::new();
    check(
        &mut h,
        &[(
            "unlock",
            "open",
            &[
                "write unlock M100200300",
                "to-merchant notice notify-codes-unlocked",
                "answer staff-unlocked",
                "audit otp.unlocked",
                "refresh",
            ],
        )],
    );
    h.ticket.merchant = None;
    check(
        &mut h,
        &[("unlock", "open", &["answer staff-unlock-no-merchant"])],
    );
}

#[test]
fn canned_answers_are_listed_and_sent() {
    check(
        &mut Harness::new(),
        &[
            (
                "faq",
                "open",
                &[
                    "topic staff-faq-list(ticket=7) [canned:security:7 canned:unbind_cost:7 canned:card_frozen:7 canned:verification_failed:7 canned:unbind_stuck:7 canned:new_card_check_failed:7 canned:new_account_inactive:7 canned:payout_missing:7 canned:request_rejected:7 canned:cancel_request:7 canned:unbind_limits:7 canned:bind_new_account:7 canned:after_unbind:7 canned:new_card_requirements:7 canned:merchant_number:7 canned:unbind_prepare:7]",
                ],
            ),
            (
                "canned verification_failed",
                "claimed:501",
                &[
                    "merchant claimed(S501)",
                    "audit ticket.claimed",
                    "refresh",
                    "to-merchant canned verification_failed",
                    "write transcript out",
                    "topic staff-canned-sent(ticket=7, agent=A501, faq=btn-faq-verification-failed)",
                    "answer staff-canned-sent",
                    "audit ticket.canned",
                ],
            ),
        ],
    );
}

#[test]
fn block_needs_a_reason_closes_the_ticket_and_unblock_lifts_it() {
    check(
        &mut Harness::new(),
        &[
            ("block", "open", &["answer staff-block-needs-reason"]),
            (
                "block 辱骂客服",
                "closed",
                &[
                    "merchant blocked(辱骂客服)",
                    "answer staff-blocked",
                    "audit user.blocked",
                    "refresh",
                    "close-topic",
                ],
            ),
            (
                "unblock",
                "closed",
                &[
                    "merchant unblocked",
                    "answer staff-unblocked",
                    "audit user.unblocked",
                    "refresh",
                ],
            ),
        ],
    );
}

#[test]
fn request_status_by_button_and_rejection_with_a_reason() {
    check(
        &mut Harness::new(),
        &[
            ("info", "open", &["show-card"]),
            (
                &format!("processing {REF}"),
                "open",
                &[&format!("set-request {REF} processing"), "refresh"],
            ),
            (
                &format!("reject {REF}"),
                "open",
                &[
                    &format!("write await-reason {REF}"),
                    "topic staff-reject-ask",
                ],
            ),
            (
                &format!("reason {REF} 资料不全"),
                "open",
                &[&format!("set-request {REF} rejected 资料不全"), "refresh"],
            ),
        ],
    );
}

#[test]
fn a_rejection_reason_over_the_limit_changes_nothing_and_waits_for_a_shorter_one() {
    let at_limit = "因".repeat(crate::domain::MAX_REASON_CHARS);
    let over = format!("{at_limit}。");
    check(
        &mut Harness::new(),
        &[
            (
                &format!("reject {REF}"),
                "open",
                &[
                    &format!("write await-reason {REF}"),
                    "topic staff-reject-ask",
                ],
            ),
            (
                &format!("reason {REF} {over}"),
                "open",
                &[
                    &format!("write await-reason {REF}"),
                    "answer staff-request-reason-too-long(max=1000)",
                ],
            ),
            (
                &format!("reason {REF} {at_limit}"),
                "open",
                &[&format!("set-request {REF} rejected {at_limit}"), "refresh"],
            ),
        ],
    );
}

#[test]
fn a_non_staff_member_changes_nothing_with_any_action() {
    let actions = [
        "claim",
        "unclaim",
        "assign 9 staff",
        "close",
        "reopen",
        "reply hi",
        "note x",
        "unlock",
        "faq",
        "canned security",
        "block spam",
        "unblock",
        "info",
        &format!("completed {REF}"),
        &format!("reject {REF}"),
        &format!("reason {REF} no"),
    ];
    let mut h = Harness::new();
    h.input("@guest");
    for action in actions {
        check(&mut h, &[(action, "open", &["answer staff-not-staff"])]);
    }
}

#[test]
fn outside_a_topic_commands_say_what_works_where() {
    use super::{StaffCommand, outside};
    let line = |c: &StaffCommand, staff: bool| outside(c, staff).map(|m| render_msg(&m));
    assert_eq!(
        line(&StaffCommand::Help, false).as_deref(),
        Some("staff-help")
    );
    assert_eq!(
        line(&StaffCommand::Unknown("foo".into()), true).as_deref(),
        Some("staff-unknown-command(command=/foo)")
    );
    assert_eq!(
        line(&StaffCommand::Claim, true).as_deref(),
        Some("staff-needs-topic")
    );
    assert_eq!(
        line(&StaffCommand::Claim, false).as_deref(),
        Some("staff-not-staff")
    );
    assert_eq!(line(&StaffCommand::Tickets, true), None);
}

#[test]
fn asking_again_within_the_reopen_window_brings_the_ticket_back() {
    use super::reopen_on_request;
    const DAY: i64 = 86_400_000;
    let mut h = Harness::new();
    h.input("close");
    let closed = h.ticket.clone();
    assert_eq!(closed.closed_at, Some(1_000));
    let back = reopen_on_request(&closed, 1_000 + 3 * DAY, 3).expect("within three days"); // ok: a test
    assert_eq!(
        (back.status, back.assignee, back.closed_at),
        (Status::Open, None, None)
    );
    assert_eq!(
        reopen_on_request(&closed, 1_001 + 3 * DAY, 3),
        None,
        "a day too late"
    );
    assert_eq!(reopen_on_request(&closed, 2_000, 0), None, "0 turns it off");
    let mut withdrawn = closed;
    withdrawn.status = Status::Withdrawn;
    assert_eq!(
        reopen_on_request(&withdrawn, 2_000, 3),
        None,
        "withdrawn stays withdrawn"
    );
}

#[test]
fn the_card_shows_inputs_as_people_read_them_and_hides_codes() {
    use super::card::readable;
    let line = |input: &str| render_msg(&readable(input));
    assert_eq!(
        line("[button menu:faq]"),
        "card-line-button(button=btn-faq)"
    );
    assert_eq!(
        line("[button faq:verification_failed]"),
        "card-line-button(button=btn-faq-verification-failed)"
    );
    assert_eq!(line("[command Start]"), "card-line-command(command=/start)");
    assert_eq!(line("[Photo]"), "card-line-media(media=card-media-photo)");
    assert_eq!(line("855188"), "card-line-code");
    assert_eq!(line("855 188"), "card-line-code");
    assert_eq!(line("M100200300"), "card-line-text(text=M100200300)");
    assert_eq!(line("我要解绑"), "card-line-text(text=我要解绑)");
}
