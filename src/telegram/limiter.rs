//! Outgoing rate limits: about 30 messages a second overall, about one a
//! second per private chat (short bursts allowed), 20 a minute per group.
//! Pure bookkeeping; the sender asks how long to wait.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Token buckets for the whole bot and per chat.
#[derive(Debug)]
pub struct RateLimiter {
    enabled: bool,
    global: Bucket,
    chats: HashMap<i64, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    updated: Instant,
}

impl Bucket {
    fn new(capacity: f64, per_second: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: capacity,
            capacity,
            per_second,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
    }

    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        }
    }
}

impl RateLimiter {
    /// Limits on (`enabled`) or a limiter that never waits; `replicas`
    /// processes share the overall rate equally.
    pub fn new(enabled: bool, replicas: u32) -> RateLimiter {
        let share = 30.0 / f64::from(replicas.max(1));
        RateLimiter {
            enabled,
            global: Bucket::new(share.max(1.0), share, Instant::now()),
            chats: HashMap::new(),
        }
    }

    /// How long `chat_id`'s own limit asks to wait (takes nothing).
    pub fn chat_wait(&mut self, chat_id: i64, now: Instant) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        match self.chats.get_mut(&chat_id) {
            Some(chat) => {
                chat.refill(now);
                chat.wait()
            }
            None => Duration::ZERO,
        }
    }

    /// How long to wait before an edit (a message text, a topic's name or
    /// state): only the overall rate applies, since Telegram's 20 a minute
    /// per group counts new messages. Takes a token when zero.
    pub fn acquire_edit(&mut self, now: Instant) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        self.global.refill(now);
        let wait = self.global.wait();
        if wait.is_zero() {
            self.global.tokens -= 1.0;
        }
        wait
    }

    /// How long to wait before sending to `chat_id`; takes a token when zero.
    pub fn acquire(&mut self, chat_id: i64, now: Instant) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        if self.chats.len() > 10_000 {
            // Forget chats that are full again; keeps memory bounded.
            self.chats.retain(|_, b| {
                b.refill(now);
                b.tokens < b.capacity
            });
        }
        let chat = self.chats.entry(chat_id).or_insert_with(|| {
            if chat_id < 0 {
                Bucket::new(5.0, 20.0 / 60.0, now)
            } else {
                Bucket::new(3.0, 1.0, now)
            }
        });
        chat.refill(now);
        self.global.refill(now);
        let wait = chat.wait().max(self.global.wait());
        if wait.is_zero() {
            chat.tokens -= 1.0;
            self.global.tokens -= 1.0;
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{OutboxPayload, OutboxRow};

    #[test]
    fn private_chat_bursts_then_waits() {
        let mut l = RateLimiter::new(true, 1);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.acquire(1, now), Duration::ZERO);
        }
        assert!(l.acquire(1, now) > Duration::ZERO);
        assert_eq!(l.acquire(2, now), Duration::ZERO);
        assert!(l.acquire(1, now + Duration::from_secs(1)).is_zero());
    }

    #[test]
    fn overall_cap_is_thirty_a_second() {
        let mut l = RateLimiter::new(true, 1);
        let now = Instant::now();
        let sent = (1..=100)
            .filter(|chat| l.acquire(*chat, now).is_zero())
            .count();
        assert_eq!(sent, 30);
        assert!(RateLimiter::new(false, 1).acquire(1, now).is_zero());
        let mut half = RateLimiter::new(true, 2);
        assert_eq!(
            (1..=100)
                .filter(|chat| half.acquire(*chat, now).is_zero())
                .count(),
            15
        );
    }

    /// The staff group under 10 active tickets (BENCHMARKS.md, "Staff group
    /// under load"): messages arrive at `arrivals` (seconds, per ticket) and
    /// go out one at a time through the group's bucket, oldest first; with
    /// `merge`, the sender's own rule (`merge::run`, `merge::fitting`)
    /// picks what goes with the oldest (a ticket's queued texts; tickets
    /// from 100 up are state changes, which go alone). Returns the largest
    /// lag (seconds) and the messages sent.
    fn staff_group_lag(arrivals: &[(usize, f64)], merge: bool) -> (f64, usize) {
        let mut limiter = RateLimiter::new(true, 1);
        let start = Instant::now();
        let mut queue: Vec<(usize, f64)> = arrivals.to_vec();
        queue.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut t = 0.0f64;
        let mut worst = 0.0f64;
        let mut sent = 0;
        let mut next = 0;
        let mut pending: Vec<(usize, f64)> = Vec::new();
        while next < queue.len() || !pending.is_empty() {
            if pending.is_empty() {
                t = t.max(queue[next].1);
            }
            while next < queue.len() && queue[next].1 <= t {
                pending.push(queue[next]);
                next += 1;
            }
            loop {
                let wait = limiter.acquire(-100, start + Duration::from_secs_f64(t));
                if wait.is_zero() {
                    break;
                }
                t += wait.as_secs_f64();
            }
            while next < queue.len() && queue[next].1 <= t {
                pending.push(queue[next]);
                next += 1;
            }
            let taken: Vec<usize> = match merge {
                true => {
                    let rows: Vec<OutboxRow> = pending
                        .iter()
                        .enumerate()
                        .map(|(i, (ticket, at))| relay_row(i, *ticket, *at))
                        .collect();
                    let run = super::super::merge::run(&rows[0], &rows);
                    let parts: Vec<String> = run
                        .iter()
                        .filter_map(|r| super::super::merge::part(r))
                        .map(|(who, _, text)| format!("{who} 12:00\n{text}"))
                        .collect();
                    let fit = super::super::merge::fitting(&parts).max(1);
                    run[..fit].iter().map(|r| r.id as usize).collect()
                }
                false => vec![0],
            };
            for i in &taken {
                worst = worst.max(t - pending[*i].1);
            }
            let mut i = 0;
            pending.retain(|_| {
                i += 1;
                !taken.contains(&(i - 1))
            });
            sent += 1;
        }
        (worst, sent)
    }

    /// A queued message as the sender sees it: a merchant's short text
    /// for tickets below 100, a topic message above.
    fn relay_row(index: usize, ticket: usize, at: f64) -> OutboxRow {
        let payload = match ticket < 100 {
            true => OutboxPayload::FromMerchant {
                from_chat: ticket as i64,
                message_id: index as i32,
                sender: format!("User{ticket}"),
                at: (at * 1000.0) as i64,
                text: "终端刷卡一直提示交易失败，怎么办".into(),
            },
            false => OutboxPayload::Text {
                html: "note".into(),
                buttons: Vec::new(),
            },
        };
        OutboxRow {
            id: index as i64,
            chat_id: -100,
            ticket_id: Some(ticket as i64),
            payload,
            attempts: 0,
            priority: 1,
        }
    }

    /// 10 tickets for 10 minutes, each merchant writing every `every`
    /// seconds (staggered), plus each ticket's card and two state changes
    /// (claim, close) costing `state_cost` group messages each.
    fn ten_tickets(every: f64, state_cost: usize) -> Vec<(usize, f64)> {
        let mut arrivals = Vec::new();
        for ticket in 0..10 {
            let offset = ticket as f64 * every / 10.0;
            arrivals.push((ticket, offset));
            let mut at = offset;
            while at < 600.0 {
                arrivals.push((ticket, at));
                at += every;
            }
            for change in [60.0 + offset, 540.0 + offset] {
                for _ in 0..state_cost {
                    arrivals.push((100 + ticket, change));
                }
            }
        }
        arrivals
    }

    #[test]
    fn staff_group_lag_with_ten_active_tickets() {
        // One message a minute each (10/min): within 20/min, no lag to speak of.
        let (lag, _) = staff_group_lag(&ten_tickets(60.0, 0), false);
        assert!(lag < 30.0, "{lag}");
        // One every 20 s each (30/min): the group falls behind by 10
        // messages a minute, about 5 minutes after 10 minutes.
        let (lag, sent) = staff_group_lag(&ten_tickets(20.0, 0), false);
        assert!((200.0..450.0).contains(&lag), "{lag}");
        assert!(sent > 300, "{sent}");
        // The same traffic with a ticket's queued messages merged into one.
        let (merged, sent) = staff_group_lag(&ten_tickets(20.0, 0), true);
        assert!(merged < 120.0, "{merged}");
        assert!(sent < 300, "{sent}");
        // State changes as new messages (a note each) vs as edits of the
        // card and the topic's name (no group message).
        let (as_notes, _) = staff_group_lag(&ten_tickets(30.0, 1), false);
        let (as_edits, _) = staff_group_lag(&ten_tickets(30.0, 0), false);
        assert!(as_edits < as_notes, "{as_edits} {as_notes}");
        let (edits_if_counted, _) = staff_group_lag(&ten_tickets(30.0, 2), false);
        // Merged, at each pace (BENCHMARKS.md compares these with the
        // real bot: tests/e2e/staff_load.rs).
        let merged_at: Vec<String> = [60.0, 30.0, 20.0, 10.0]
            .iter()
            .map(|every| {
                let (lag, sent) = staff_group_lag(&ten_tickets(*every, 0), true);
                format!("every {every} s: {lag:.0} s in {sent} messages")
            })
            .collect();
        println!("merged: {}", merged_at.join("; "));
        println!(
            "every 60 s: {:.0} s; every 20 s: {:.0} s unmerged, {:.0} s merged; every 30 s: {:.0} s notes, {:.0} s edits, {:.0} s if edits counted",
            staff_group_lag(&ten_tickets(60.0, 0), false).0,
            lag,
            merged,
            as_notes,
            as_edits,
            edits_if_counted
        );
    }
}
