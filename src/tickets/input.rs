//! Staff inputs in one place: button data and commands of the staff group,
//! parsed into closed enums (unknown input is a variant, never an error).
//! Names are fixed by shared/contracts.md.

use crate::domain::{Reference, RequestStatus};
use crate::faq::FaqId;

/// A button pressed in the staff group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffCallback {
    /// `ticket:claim:<id>`.
    Claim(i64),
    /// `ticket:unclaim:<id>`.
    Unclaim(i64),
    /// `ticket:close:<id>`.
    Close(i64),
    /// `ticket:reopen:<id>`.
    Reopen(i64),
    /// `ticket:unlock:<id>`.
    Unlock(i64),
    /// `ticket:info:<id>`.
    Info(i64),
    /// `request:processing|completed|rejected:<reference>`.
    Request(RequestStatus, Reference),
    /// `canned:<faq id>:<ticket id>`.
    Canned(FaqId, i64),
    /// Anything else: stale, forged or from a future version.
    Invalid,
}

impl StaffCallback {
    /// Parses button data; never fails.
    pub fn parse(data: &str) -> StaffCallback {
        if data.len() > 64 {
            return StaffCallback::Invalid;
        }
        let parts: Vec<&str> = data.split(':').collect();
        let id = |s: &str| s.parse::<i64>().ok().filter(|id| *id > 0);
        let parsed = match parts.as_slice() {
            ["ticket", action, raw] => id(raw).and_then(|id| match *action {
                "claim" => Some(StaffCallback::Claim(id)),
                "unclaim" => Some(StaffCallback::Unclaim(id)),
                "close" => Some(StaffCallback::Close(id)),
                "reopen" => Some(StaffCallback::Reopen(id)),
                "unlock" => Some(StaffCallback::Unlock(id)),
                "info" => Some(StaffCallback::Info(id)),
                _ => None,
            }),
            ["request", status, reference] => {
                let status = match *status {
                    "processing" => Some(RequestStatus::Processing),
                    "completed" => Some(RequestStatus::Completed),
                    "rejected" => Some(RequestStatus::Rejected),
                    _ => None,
                };
                status
                    .zip(Reference::parse(reference))
                    .map(|(s, r)| StaffCallback::Request(s, r))
            }
            ["canned", faq, raw] => FaqId::known(faq)
                .zip(id(raw))
                .map(|(i, id)| StaffCallback::Canned(i, id)),
            _ => None,
        };
        parsed.unwrap_or(StaffCallback::Invalid)
    }

    /// The wire form; always at most 64 bytes.
    pub fn to_data(&self) -> String {
        match self {
            StaffCallback::Claim(id) => format!("ticket:claim:{id}"),
            StaffCallback::Unclaim(id) => format!("ticket:unclaim:{id}"),
            StaffCallback::Close(id) => format!("ticket:close:{id}"),
            StaffCallback::Reopen(id) => format!("ticket:reopen:{id}"),
            StaffCallback::Unlock(id) => format!("ticket:unlock:{id}"),
            StaffCallback::Info(id) => format!("ticket:info:{id}"),
            StaffCallback::Request(status, reference) => {
                format!("request:{}:{}", status.as_str(), reference.as_str())
            }
            StaffCallback::Canned(faq, id) => format!("canned:{faq}:{id}"),
            StaffCallback::Invalid => String::new(),
        }
    }

    /// The ticket the button belongs to, if it names one.
    pub fn ticket(&self) -> Option<i64> {
        match self {
            StaffCallback::Claim(id)
            | StaffCallback::Unclaim(id)
            | StaffCallback::Close(id)
            | StaffCallback::Reopen(id)
            | StaffCallback::Unlock(id)
            | StaffCallback::Info(id)
            | StaffCallback::Canned(_, id) => Some(*id),
            StaffCallback::Request(..) | StaffCallback::Invalid => None,
        }
    }
}

/// A command in the staff group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffCommand {
    /// `/info`: the context card, fresh.
    Info,
    /// `/faq`: the canned answers.
    Faq,
    /// `/claim`.
    Claim,
    /// `/unclaim`.
    Unclaim,
    /// `/assign <user id>` (or as a reply to the new owner's message).
    Assign(String),
    /// `/close`.
    Close,
    /// `/reopen`.
    Reopen,
    /// `/unlock`.
    Unlock,
    /// `/block <reason>`.
    Block(String),
    /// `/unblock`.
    Unblock,
    /// `/tickets`: open tickets.
    Tickets,
    /// `/stats`.
    Stats,
    /// `/help`.
    Help,
    /// Anything else (its name, lower case).
    Unknown(String),
}

impl StaffCommand {
    /// Every command with its description's message id, for `/help` and
    /// the staff group's command menu.
    pub const MENU: [(&'static str, &'static str); 13] = [
        ("info", "staff-cmd-info"),
        ("faq", "staff-cmd-faq"),
        ("claim", "staff-cmd-claim"),
        ("unclaim", "staff-cmd-unclaim"),
        ("assign", "staff-cmd-assign"),
        ("close", "staff-cmd-close"),
        ("reopen", "staff-cmd-reopen"),
        ("unlock", "staff-cmd-unlock"),
        ("block", "staff-cmd-block"),
        ("unblock", "staff-cmd-unblock"),
        ("tickets", "staff-cmd-tickets"),
        ("stats", "staff-cmd-stats"),
        ("help", "staff-cmd-help"),
    ];

    /// Parses a message text; `None` when it is not a command.
    pub fn parse(text: &str) -> Option<StaffCommand> {
        let text = text.trim_start();
        let rest = text.strip_prefix('/')?;
        let (head, args) = match rest.split_once(char::is_whitespace) {
            Some((head, args)) => (head, args.trim().to_string()),
            None => (rest, String::new()),
        };
        let name = head.split('@').next().unwrap_or("").to_ascii_lowercase();
        Some(match name.as_str() {
            "info" => StaffCommand::Info,
            "faq" => StaffCommand::Faq,
            "claim" => StaffCommand::Claim,
            "unclaim" => StaffCommand::Unclaim,
            "assign" => StaffCommand::Assign(args),
            "close" => StaffCommand::Close,
            "reopen" => StaffCommand::Reopen,
            "unlock" => StaffCommand::Unlock,
            "block" => StaffCommand::Block(args),
            "unblock" => StaffCommand::Unblock,
            "tickets" => StaffCommand::Tickets,
            "stats" => StaffCommand::Stats,
            "help" | "start" => StaffCommand::Help,
            _ => StaffCommand::Unknown(name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_callback_data_round_trips() {
        let reference = Reference::parse("UB-20261130-ABCDE").expect("valid"); // ok: a test; failing loudly is the point
        let all = [
            StaffCallback::Claim(1),
            StaffCallback::Unclaim(2),
            StaffCallback::Close(3),
            StaffCallback::Reopen(4),
            StaffCallback::Unlock(5),
            StaffCallback::Info(i64::MAX),
            StaffCallback::Request(RequestStatus::Rejected, reference.clone()),
            StaffCallback::Request(RequestStatus::Processing, reference),
            StaffCallback::Canned(
                crate::app::builtin_faq()
                    .ok()
                    .and_then(|faq| faq.find("verification_failed").map(|t| t.id))
                    .expect("a built-in topic"), // ok: a test; failing loudly is the point
                i64::MAX,
            ),
        ];
        for data in all {
            let wire = data.to_data();
            assert!(wire.len() <= 64, "{wire}");
            assert_eq!(StaffCallback::parse(&wire), data, "{wire}");
        }
        for forged in [
            "",
            "ticket:claim:-1",
            "ticket:eat:1",
            "request:cancelled:UB-20261130-ABCDE",
            "request:completed:UB-1",
            "canned:greeting:1",
            "canned:security:0",
        ] {
            assert_eq!(
                StaffCallback::parse(forged),
                StaffCallback::Invalid,
                "{forged}"
            );
        }
    }

    #[test]
    fn staff_commands_parse() {
        assert_eq!(
            StaffCommand::parse("/Claim@posdesk_bot"),
            Some(StaffCommand::Claim)
        );
        assert_eq!(
            StaffCommand::parse("/block  spam and abuse "),
            Some(StaffCommand::Block("spam and abuse".into()))
        );
        assert_eq!(
            StaffCommand::parse("/frobnicate"),
            Some(StaffCommand::Unknown("frobnicate".into()))
        );
        assert_eq!(StaffCommand::parse("hello /claim"), None);
    }
}
