//! When a ticket's card is edited after its merchant wrote: once a burst
//! is over (no new message for `QUIET_MS`), and at least every `MAX_WAIT_MS`
//! while the merchant keeps writing, so that a burst costs one edit and the
//! card's last messages are never far behind. Pure: the engine notes each
//! relayed message and asks, with the time, which cards are due.
//!
//! Kept in memory: a refresh lost with a crash leaves the card one burst
//! behind until the ticket's next change (or `/info`); nothing the merchant
//! wrote is lost, since the relay itself went through the outbox.

use std::collections::HashMap;

/// Quiet time after a merchant's message before their ticket's card is edited.
pub const QUIET_MS: i64 = 1_500;
/// Longest a card waits while its merchant keeps writing.
pub const MAX_WAIT_MS: i64 = 6_000;

/// Tickets whose card should show newer messages: when the first and the
/// last message not yet on it arrived.
#[derive(Debug, Default)]
pub struct CardRefresh {
    waiting: HashMap<i64, (i64, i64)>,
}

impl CardRefresh {
    /// The merchant of `ticket` wrote at `now_ms`.
    pub fn note(&mut self, ticket: i64, now_ms: i64) {
        self.waiting
            .entry(ticket)
            .and_modify(|(_, last)| *last = (*last).max(now_ms))
            .or_insert((now_ms, now_ms));
    }

    /// The tickets whose card is due for an edit at `now_ms` (forgotten
    /// here: each burst is taken once), lowest id first.
    pub fn take_due(&mut self, now_ms: i64) -> Vec<i64> {
        let mut due: Vec<i64> = self
            .waiting
            .iter()
            .filter(|(_, (first, last))| now_ms - last >= QUIET_MS || now_ms - first >= MAX_WAIT_MS)
            .map(|(ticket, _)| *ticket)
            .collect();
        due.sort_unstable();
        for ticket in &due {
            self.waiting.remove(ticket);
        }
        due
    }

    /// When the next card falls due, if any is waiting (Unix ms).
    pub fn next_due(&self) -> Option<i64> {
        self.waiting
            .values()
            .map(|(first, last)| (last + QUIET_MS).min(first + MAX_WAIT_MS))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Edits made: `(at, tickets)`.
    type Edits = Vec<(i64, Vec<i64>)>;
    /// A case: what it shows, the messages `(ticket, at)`, the edits.
    type Case = (&'static str, Vec<(i64, i64)>, Edits);

    /// Messages `(ticket, at)` and the times the engine asks; the edits made.
    fn edits(messages: &[(i64, i64)], asks: &[i64]) -> Edits {
        let mut refresh = CardRefresh::default();
        let mut events: Vec<(i64, Option<i64>)> = messages
            .iter()
            .map(|(ticket, at)| (*at, Some(*ticket)))
            .chain(asks.iter().map(|at| (*at, None)))
            .collect();
        // At the same moment the message comes first.
        events.sort_by_key(|(at, ticket)| (*at, ticket.is_none()));
        let mut out = Vec::new();
        for (at, ticket) in events {
            match ticket {
                Some(ticket) => refresh.note(ticket, at),
                None => {
                    let due = refresh.take_due(at);
                    if !due.is_empty() {
                        out.push((at, due));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn a_burst_costs_one_edit_after_it_ends() {
        let every_half_second: Vec<i64> = (0..=40).map(|n| n * 500).collect();
        let cases: Vec<Case> = vec![
            (
                "one message: one edit, once quiet",
                vec![(7, 0)],
                vec![(1500, vec![7])],
            ),
            (
                "five in two seconds: one edit",
                vec![(7, 0), (7, 400), (7, 900), (7, 1500), (7, 2000)],
                vec![(3500, vec![7])],
            ),
            (
                "writing on and on: an edit every six seconds",
                (0..20).map(|n| (7, n * 1000)).collect(),
                vec![(6000, vec![7]), (13000, vec![7]), (20000, vec![7])],
            ),
            (
                "two tickets, each its own",
                vec![(7, 0), (8, 1000), (7, 1200)],
                vec![(2500, vec![8]), (3000, vec![7])],
            ),
            (
                "two tickets due together, lowest first",
                vec![(9, 0), (8, 0)],
                vec![(1500, vec![8, 9])],
            ),
        ];
        for (what, messages, expected) in cases {
            assert_eq!(edits(&messages, &every_half_second), expected, "{what}");
        }
    }

    #[test]
    fn next_due_says_when_to_look_again() {
        let mut refresh = CardRefresh::default();
        assert_eq!(refresh.next_due(), None);
        refresh.note(7, 1000);
        refresh.note(8, 2000);
        assert_eq!(refresh.next_due(), Some(2500));
        for at in (2000..7000).step_by(1000) {
            refresh.note(9, at);
        }
        refresh.take_due(3500);
        // Ticket 9 kept writing since 2000: due at 8000 at the latest.
        assert_eq!(refresh.next_due(), Some(7500));
        assert!(refresh.take_due(7499).is_empty());
        assert_eq!(refresh.take_due(7500), vec![9]);
    }
}
