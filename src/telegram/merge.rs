//! Which of a ticket's queued merchant texts go out as one relay. The staff
//! group takes about 20 new messages a minute; when a ticket's merchant
//! writes faster than the group's bucket lets their copies out, the texts
//! waiting behind the first one are sent with it as one message. Pure: the
//! sender reads the pending rows and renders the parts.
//!
//! Order is kept per topic: a run takes the ticket's texts after the first
//! one up to the first other message of the same ticket (media, a note, a
//! new card, closing the topic). Edits of the card and new topic names
//! change messages already there, not the topic's order: a run passes
//! them. Other tickets' messages go to other topics; a merged relay may
//! overtake them.

use crate::storage::{OutboxPayload, OutboxRow, TopicOp};

/// Telegram's limit on a message's text, in characters (after entity
/// parsing; the rendered HTML, which is what is counted here, is never
/// shorter).
pub const MESSAGE_LIMIT: usize = 4096;
/// A merchant text longer than this is no "short message": it goes as it
/// is (a copy) and ends a run.
pub const MAX_PART_CHARS: usize = 1000;
/// Pending rows of the staff group read when looking for a run.
pub const LOOK_AHEAD: i64 = 100;
/// Between two parts of a merged relay.
pub const SEPARATOR: &str = "\n\n";

/// A merchant text that may be merged: `(sender, at, text)`.
pub fn part(row: &OutboxRow) -> Option<(&str, i64, &str)> {
    match &row.payload {
        OutboxPayload::FromMerchant {
            sender, at, text, ..
        } if row.ticket_id.is_some() && text.chars().count() <= MAX_PART_CHARS => {
            Some((sender.as_str(), *at, text.as_str()))
        }
        _ => None,
    }
}

/// The rows that may go out with `head` (itself first): the later merchant
/// texts of its ticket in `pending` (a chat's pending rows, in id order),
/// up to the first other row of that ticket that is no edit. Just `head` when it is no
/// mergeable text.
pub fn run<'a>(head: &'a OutboxRow, pending: &'a [OutboxRow]) -> Vec<&'a OutboxRow> {
    let mut rows = vec![head];
    if part(head).is_none() {
        return rows;
    }
    for row in pending.iter().filter(|r| r.id > head.id) {
        if row.ticket_id != head.ticket_id || row.chat_id != head.chat_id {
            continue;
        }
        if part(row).is_some() {
            rows.push(row);
            continue;
        }
        let passed = matches!(
            row.payload,
            OutboxPayload::EditCard { .. }
                | OutboxPayload::Topic {
                    op: TopicOp::Rename { .. }
                }
        );
        if !passed {
            break;
        }
    }
    rows
}

/// How many of `parts` (rendered, in order) fit in one message, joined by
/// `SEPARATOR`; at least the first.
pub fn fitting(parts: &[String]) -> usize {
    let separator = SEPARATOR.chars().count();
    let mut length = 0;
    for (n, part) in parts.iter().enumerate() {
        let added = part.chars().count() + if n == 0 { 0 } else { separator };
        if n > 0 && length + added > MESSAGE_LIMIT {
            return n;
        }
        length += added;
    }
    parts.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(id: i64, ticket: i64, words: &str) -> OutboxRow {
        OutboxRow {
            id,
            chat_id: -100,
            ticket_id: Some(ticket),
            payload: OutboxPayload::FromMerchant {
                from_chat: ticket,
                message_id: id as i32,
                sender: format!("user{ticket}"),
                at: id * 1000,
                text: words.to_string(),
            },
            attempts: 0,
            priority: 1,
        }
    }

    fn other(id: i64, ticket: Option<i64>) -> OutboxRow {
        OutboxRow {
            id,
            chat_id: -100,
            ticket_id: ticket,
            payload: OutboxPayload::Text {
                html: "note".into(),
                buttons: Vec::new(),
            },
            attempts: 0,
            priority: 1,
        }
    }

    fn media(id: i64, ticket: i64) -> OutboxRow {
        OutboxRow {
            payload: OutboxPayload::Copy {
                from_chat: ticket,
                message_id: id as i32,
            },
            ..other(id, Some(ticket))
        }
    }

    fn edit(id: i64, ticket: i64, payload: OutboxPayload) -> OutboxRow {
        OutboxRow {
            payload,
            ..other(id, Some(ticket))
        }
    }

    fn ids(rows: &[&OutboxRow]) -> Vec<i64> {
        rows.iter().map(|r| r.id).collect()
    }

    #[test]
    fn a_run_is_the_tickets_later_texts_up_to_its_first_other_message() {
        let long = "长".repeat(MAX_PART_CHARS + 1);
        let cases: Vec<(&str, Vec<OutboxRow>, Vec<i64>)> = vec![
            (
                "other tickets' rows and ticketless answers are skipped",
                vec![
                    text(1, 7, "a"),
                    text(2, 8, "x"),
                    other(3, None),
                    text(4, 7, "b"),
                    text(5, 7, "c"),
                ],
                vec![1, 4, 5],
            ),
            (
                "a note of the same ticket ends the run (order in the topic)",
                vec![
                    text(1, 7, "a"),
                    text(2, 7, "b"),
                    other(3, Some(7)),
                    text(4, 7, "c"),
                ],
                vec![1, 2],
            ),
            (
                "card edits and new topic names are passed; closing the topic is not",
                vec![
                    text(1, 7, "a"),
                    edit(
                        2,
                        7,
                        OutboxPayload::EditCard {
                            html: "card".into(),
                            buttons: Vec::new(),
                        },
                    ),
                    edit(
                        3,
                        7,
                        OutboxPayload::Topic {
                            op: TopicOp::Rename { name: "#7".into() },
                        },
                    ),
                    text(4, 7, "b"),
                    edit(5, 7, OutboxPayload::Topic { op: TopicOp::Close }),
                    text(6, 7, "c"),
                ],
                vec![1, 4],
            ),
            (
                "media of the same ticket ends it",
                vec![text(1, 7, "a"), media(2, 7), text(3, 7, "b")],
                vec![1],
            ),
            (
                "a long text is no short message",
                vec![text(1, 7, "a"), text(2, 7, &long), text(3, 7, "b")],
                vec![1],
            ),
            (
                "a head that is no text goes alone",
                vec![media(1, 7), text(2, 7, "a")],
                vec![1],
            ),
            (
                "earlier rows are not taken",
                vec![text(0, 7, "z"), text(1, 7, "a"), text(2, 7, "b")],
                vec![1, 2],
            ),
        ];
        for (what, pending, expected) in cases {
            let head = pending
                .iter()
                .find(|r| r.id == 1)
                .expect("a head with id 1"); // ok: a test; failing loudly is the point
            assert_eq!(ids(&run(head, &pending)), expected, "{what}");
        }
    }

    #[test]
    fn parts_fill_a_message_up_to_telegrams_limit() {
        let part = |n: usize| "字".repeat(n);
        // Three parts of 2000 characters: two fit (2000 + 2 + 2000).
        assert_eq!(fitting(&[part(2000), part(2000), part(2000)]), 2);
        // Exactly at the limit.
        assert_eq!(fitting(&[part(2047), part(2047)]), 2);
        assert_eq!(fitting(&[part(2047), part(2048)]), 1);
        // A first part over the limit still goes (as a copy: the caller
        // sends one part as it is).
        assert_eq!(fitting(&[part(5000), part(1)]), 1);
        assert_eq!(fitting(&vec!["a".to_string(); 30]), 30);
        assert_eq!(fitting(&[]), 0);
    }
}
