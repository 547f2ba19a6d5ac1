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
}
