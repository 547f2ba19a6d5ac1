//! What the sender knows about pending messages: each chat's queue in id
//! order, which chats are being sent to, and which chats may have pending
//! messages it has not seen (so their order must be checked against the
//! table before sending). Pure bookkeeping, no I/O.
//!
//! Messages arrive two ways: handed over in memory right after the commit
//! that queued them, and read from the outbox table (at start, every half
//! second, and when told). The same message may arrive both ways; it is
//! queued once. A message read from the table while its sent mark was
//! being committed is recognised by the recently finished ids.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::storage::OutboxRow;

/// Recently finished message ids remembered.
const RECENT: usize = 20_000;

/// Per-chat queues of pending messages.
#[derive(Default)]
pub struct SendQueue {
    /// Ids queued or being sent.
    known: HashSet<i64>,
    /// Recently finished ids, oldest first, and the same as a set.
    recent: VecDeque<i64>,
    recent_set: HashSet<i64>,
    /// Each chat's pending messages, in id order.
    chats: HashMap<i64, VecDeque<OutboxRow>>,
    /// Chats with a message being sent.
    running: HashSet<i64>,
    /// Chats whose messages are taken only from the table (one of theirs
    /// waits for a retry, or was dropped from memory).
    blocked: HashSet<i64>,
    /// Chats whose next message must be checked against the table for an
    /// earlier pending one first.
    suspect: HashSet<i64>,
    /// The last table read was cut by its limit: any chat may have more.
    backlog: bool,
}

/// The next message to send.
#[derive(Debug)]
pub struct Next {
    /// The message.
    pub row: OutboxRow,
    /// Whether to check for an earlier pending message of the chat first.
    pub check_order: bool,
}

/// How sending a chat's message ended.
#[derive(Debug)]
pub enum Ended {
    /// Sent (or given up for good): the chat's next message may go.
    Done,
    /// Sent as one message together with these later messages of the
    /// chat (a merged relay): they are done too, wherever they were queued.
    Merged(Vec<i64>),
    /// Not sent now (retry later, chat unreachable, held by another
    /// replica, or out of order): the chat's messages come from the table
    /// from now on, in order.
    Stopped,
    /// Not sent yet: it gave its slot to a more urgent message and waits
    /// at the head of its chat's queue.
    Yielded(Box<OutboxRow>),
}

impl SendQueue {
    /// Messages handed over right after their commit.
    pub fn offer_fresh(&mut self, rows: Vec<OutboxRow>) {
        for row in rows {
            if self.blocked.contains(&row.chat_id) {
                // It is in the table; a read brings it back in order.
                self.suspect.insert(row.chat_id);
                continue;
            }
            self.insert(row);
        }
    }

    /// Messages read from the table (due ones, earliest first per chat);
    /// `cut`: the read hit its limit.
    pub fn offer_read(&mut self, rows: Vec<OutboxRow>, cut: bool) {
        self.backlog = cut;
        for row in rows {
            if self.blocked.remove(&row.chat_id) {
                self.suspect.insert(row.chat_id);
            }
            self.insert(row);
        }
    }

    fn insert(&mut self, row: OutboxRow) {
        if self.recent_set.contains(&row.id) || !self.known.insert(row.id) {
            return;
        }
        let queue = self.chats.entry(row.chat_id).or_default();
        let at = queue.partition_point(|r| r.id < row.id);
        queue.insert(at, row);
    }

    /// The most urgent message of a chat not being sent to: lowest priority
    /// value, then oldest. The chat counts as running until `finished`.
    pub fn next(&mut self) -> Option<Next> {
        let chat = self
            .chats
            .iter()
            .filter(|(chat, _)| !self.running.contains(chat))
            .filter_map(|(chat, queue)| queue.front().map(|row| ((row.priority, row.id), *chat)))
            .min()?
            .1;
        let queue = self.chats.get_mut(&chat)?;
        let row = queue.pop_front()?;
        if queue.is_empty() {
            self.chats.remove(&chat);
        }
        self.running.insert(chat);
        let check_order = self.backlog || self.suspect.remove(&chat);
        Some(Next { row, check_order })
    }

    /// Whether an interactive message waits for a slot (bulk messages
    /// waiting for the rate limiter then give theirs up).
    pub fn interactive_waiting(&self) -> bool {
        self.chats.iter().any(|(chat, queue)| {
            !self.running.contains(chat) && queue.front().is_some_and(|row| row.priority == 0)
        })
    }

    /// Whether anything is queued or being sent.
    pub fn is_idle(&self) -> bool {
        self.chats.is_empty() && self.running.is_empty()
    }

    /// Reports the message `id` of `chat` as finished one way or the other.
    pub fn finished(&mut self, chat: i64, id: i64, ended: Ended) {
        self.running.remove(&chat);
        match ended {
            Ended::Done => self.forget(id),
            Ended::Merged(also) => {
                self.forget(id);
                if let Some(queue) = self.chats.get_mut(&chat) {
                    queue.retain(|row| !also.contains(&row.id));
                    if queue.is_empty() {
                        self.chats.remove(&chat);
                    }
                }
                for id in also {
                    self.forget(id);
                }
            }
            Ended::Yielded(row) => self.chats.entry(chat).or_default().push_front(*row),
            Ended::Stopped => {
                // Not sent: it stays pending in the table, like the chat's
                // later messages, which leave memory too.
                self.known.remove(&id);
                if let Some(queue) = self.chats.remove(&chat) {
                    for row in queue {
                        self.known.remove(&row.id);
                    }
                }
                self.blocked.insert(chat);
            }
        }
    }

    fn forget(&mut self, id: i64) {
        self.known.remove(&id);
        if self.recent_set.insert(id) {
            self.recent.push_back(id);
        }
        while self.recent.len() > RECENT {
            if let Some(old) = self.recent.pop_front() {
                self.recent_set.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::OutboxPayload;

    fn row(id: i64, chat_id: i64, priority: i64) -> OutboxRow {
        OutboxRow {
            id,
            chat_id,
            ticket_id: None,
            payload: OutboxPayload::Text {
                html: format!("{id}"),
                buttons: Vec::new(),
            },
            attempts: 0,
            priority,
        }
    }

    fn ids(q: &mut SendQueue) -> Vec<i64> {
        let mut out = Vec::new();
        while let Some(next) = q.next() {
            out.push(next.row.id);
            q.finished(next.row.chat_id, next.row.id, Ended::Done);
        }
        out
    }

    #[test]
    fn urgent_first_and_each_chat_in_order() {
        let mut q = SendQueue::default();
        q.offer_read(vec![row(1, 10, 5), row(2, 11, 5), row(4, 10, 5)], false);
        q.offer_fresh(vec![row(3, 12, 0), row(5, 10, 0)]);
        // Chat 10's interactive 5 waits behind its own earlier 1 and 4.
        assert_eq!(ids(&mut q), vec![3, 1, 2, 4, 5]);
        assert!(q.is_idle());
    }

    #[test]
    fn one_message_per_chat_at_a_time() {
        let mut q = SendQueue::default();
        q.offer_fresh(vec![row(1, 10, 0), row(2, 10, 0), row(3, 11, 0)]);
        let a = q.next().expect("a"); // ok: a test; failing loudly is the point
        let b = q.next().expect("b"); // ok: a test; failing loudly is the point
        assert_eq!((a.row.id, b.row.id), (1, 3));
        assert!(q.next().is_none(), "chat 10 is busy");
        q.finished(10, 1, Ended::Done);
        assert_eq!(q.next().expect("c").row.id, 2); // ok: a test; failing loudly is the point
    }

    #[test]
    fn a_message_arriving_twice_is_queued_once_and_never_after_it_finished() {
        let mut q = SendQueue::default();
        q.offer_fresh(vec![row(1, 10, 0)]);
        q.offer_read(vec![row(1, 10, 0)], false);
        let next = q.next().expect("one"); // ok: a test; failing loudly is the point
        assert!(q.next().is_none());
        // A table read that raced with the sent mark.
        q.offer_read(vec![row(1, 10, 0)], false);
        q.finished(10, next.row.id, Ended::Done);
        q.offer_read(vec![row(1, 10, 0)], false);
        assert!(q.next().is_none());
        assert!(q.is_idle());
    }

    #[test]
    fn a_stopped_chat_takes_messages_from_the_table_only_and_checks_its_order() {
        let mut q = SendQueue::default();
        q.offer_fresh(vec![row(1, 10, 0), row(2, 10, 0)]);
        let first = q.next().expect("first"); // ok: a test; failing loudly is the point
        q.finished(10, first.row.id, Ended::Stopped);
        assert!(q.next().is_none(), "2 left memory with 1");
        q.offer_fresh(vec![row(3, 10, 0)]);
        assert!(
            q.next().is_none(),
            "fresh rows of a blocked chat wait for the table"
        );
        q.offer_read(vec![row(1, 10, 0), row(2, 10, 0), row(3, 10, 0)], false);
        let next = q.next().expect("from the table"); // ok: a test; failing loudly is the point
        assert_eq!(next.row.id, 1);
        assert!(next.check_order);
        q.finished(10, 1, Ended::Done);
        assert_eq!(ids(&mut q), vec![2, 3]);
    }

    #[test]
    fn a_yielded_message_goes_back_to_the_head_of_its_chat() {
        let mut q = SendQueue::default();
        q.offer_read(vec![row(1, 10, 5), row(2, 10, 5)], false);
        let bulk = q.next().expect("bulk"); // ok: a test; failing loudly is the point
        assert!(!q.interactive_waiting());
        q.offer_fresh(vec![row(3, 11, 0)]);
        assert!(q.interactive_waiting());
        q.finished(10, bulk.row.id, Ended::Yielded(Box::new(bulk.row)));
        assert_eq!(ids(&mut q), vec![3, 1, 2]);
    }

    #[test]
    fn messages_merged_into_one_are_done_and_never_sent_again() {
        let mut q = SendQueue::default();
        q.offer_fresh(vec![row(1, -100, 1), row(2, -100, 1), row(4, -100, 1)]);
        let head = q.next().expect("head"); // ok: a test; failing loudly is the point
        // 3 was read from the table by the sender, not yet handed over.
        q.finished(-100, head.row.id, Ended::Merged(vec![2, 3]));
        q.offer_fresh(vec![row(3, -100, 1)]);
        q.offer_read(vec![row(2, -100, 1), row(3, -100, 1)], false);
        assert_eq!(ids(&mut q), vec![4]);
        assert!(q.is_idle());
    }

    #[test]
    fn a_cut_read_makes_every_chat_check_its_order() {
        let mut q = SendQueue::default();
        q.offer_read(vec![row(1, 10, 5)], true);
        q.offer_fresh(vec![row(9, 11, 0)]);
        assert!(q.next().expect("fresh").check_order); // ok: a test; failing loudly is the point
        q.offer_read(Vec::new(), false);
        q.offer_fresh(vec![row(10, 12, 0)]);
        let next = q.next().expect("next"); // ok: a test; failing loudly is the point
        assert_eq!(next.row.id, 10);
        assert!(!next.check_order);
    }
}
