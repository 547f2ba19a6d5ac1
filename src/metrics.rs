//! The process's metrics, typed (`prometheus-client`): counters with one
//! label set each, present from the start (known label values are created
//! at zero), the turn-latency histogram, gauges the HTTP handler fills from
//! `COUNT(*)` queries at scrape time, `process_*` and `posdesk_build_info`.
//!
//! A turn's counts are gathered in a [`Tally`] and added only once the turn
//! committed, so a turn retried after a transient database error counts
//! once.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::domain::RequestStatus;
use crate::intents::Intent;

/// Latency buckets, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.5, 2.0];

/// Update kinds counted by `posdesk_updates_total`.
const UPDATE_KINDS: [&str; 5] = ["command", "text", "callback", "media", "edited"];

/// Handoff reasons counted by `posdesk_handoffs_total`.
const HANDOFF_REASONS: [&str; 6] = [
    "user_request",
    "code_locked",
    "request_rejected",
    "request_overdue",
    "unknown_twice",
    "urgent",
];

/// What failed talking to Telegram: `method` is `getUpdates` or `send`
/// (the outbox's calls), `kind` the class of failure.
pub const TELEGRAM_ERRORS: [(&str, &str); 6] = [
    ("getUpdates", "network"),
    ("send", "429"),
    ("send", "transient"),
    ("send", "403"),
    ("send", "thread_gone"),
    ("send", "400"),
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntentLabel {
    intent: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MsgLabel {
    msg: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TelegramErrorLabels {
    method: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

/// One count a turn makes, added when it commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counted {
    /// A reply, by its first message id.
    Reply(&'static str),
    /// A classified text, by intent.
    Intent(&'static str),
    /// A handoff, by reason.
    Handoff(&'static str),
}

/// The counts of one turn, not yet added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(Vec<Counted>);

impl Tally {
    /// Notes one count.
    pub fn add(&mut self, counted: Counted) {
        self.0.push(counted);
    }
}

/// Values read from the database at scrape time.
#[derive(Debug, Clone, Default)]
pub struct DatabaseGauges {
    /// Messages committed but not yet sent.
    pub outbox_pending: Option<i64>,
    /// Age of the oldest unsent message, seconds.
    pub outbox_lag_seconds: Option<f64>,
    /// Updates stored but not yet applied.
    pub inbox_pending: Option<i64>,
    /// Tickets open or claimed.
    pub tickets_open: Option<i64>,
    /// Requests by status.
    pub requests: Option<Vec<(String, i64)>>,
}

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    updates: Family<KindLabel, Counter>,
    intents: Family<IntentLabel, Counter>,
    replies: Family<MsgLabel, Counter>,
    handoffs: Family<ReasonLabel, Counter>,
    codes_sent: Counter,
    codes_failed: Counter,
    flood_dropped: Counter,
    relays_merged: Counter,
    turn_failures: Counter,
    webhook_rejected: Counter,
    telegram_errors: Family<TelegramErrorLabels, Counter>,
    turn_seconds: Histogram,
    outbox_pending: Gauge,
    outbox_lag: Gauge<f64, AtomicU64>,
    inbox_pending: Gauge,
    tickets_open: Gauge,
    requests: Family<StatusLabel, Gauge>,
    process: ProcessMetrics,
    render_lock: Mutex<()>,
}

struct ProcessMetrics {
    resident_memory_bytes: Gauge,
    virtual_memory_bytes: Gauge,
    open_fds: Gauge,
    max_fds: Gauge,
    start_time_seconds: Gauge<f64, AtomicU64>,
    cpu_seconds: Counter<f64, AtomicU64>,
    threads: Gauge,
    last_cpu: Mutex<f64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Shows every topic of the FAQ catalogue in the intents counter from
    /// the start (at zero), like the intents with behaviour.
    pub fn know_topics(&self, faq: &crate::faq::Catalogue) {
        for topic in faq.topics() {
            let _ = self.intents.get_or_create(&IntentLabel {
                intent: topic.id.as_str().into(),
            });
        }
    }

    /// Registers every metric, the known label values at zero.
    pub fn new() -> Metrics {
        let mut root = Registry::default();
        let process = ProcessMetrics {
            resident_memory_bytes: Gauge::default(),
            virtual_memory_bytes: Gauge::default(),
            open_fds: Gauge::default(),
            max_fds: Gauge::default(),
            start_time_seconds: Gauge::default(),
            cpu_seconds: Counter::default(),
            threads: Gauge::default(),
            last_cpu: Mutex::new(0.0),
        };
        {
            let r = root.sub_registry_with_prefix("process");
            r.register(
                "resident_memory_bytes",
                "Resident memory size in bytes.",
                process.resident_memory_bytes.clone(),
            );
            r.register(
                "virtual_memory_bytes",
                "Virtual memory size in bytes.",
                process.virtual_memory_bytes.clone(),
            );
            r.register(
                "open_fds",
                "Number of open file descriptors.",
                process.open_fds.clone(),
            );
            r.register(
                "max_fds",
                "Maximum number of open file descriptors.",
                process.max_fds.clone(),
            );
            r.register(
                "start_time_seconds",
                "Start time of the process since the Unix epoch, in seconds.",
                process.start_time_seconds.clone(),
            );
            r.register(
                "cpu_seconds",
                "Total user and system CPU time spent, in seconds.",
                process.cpu_seconds.clone(),
            );
            r.register("threads", "Number of OS threads.", process.threads.clone());
        }
        let metrics = Metrics {
            registry: Registry::default(),
            updates: Family::default(),
            intents: Family::default(),
            replies: Family::default(),
            handoffs: Family::default(),
            codes_sent: Counter::default(),
            codes_failed: Counter::default(),
            flood_dropped: Counter::default(),
            relays_merged: Counter::default(),
            turn_failures: Counter::default(),
            webhook_rejected: Counter::default(),
            telegram_errors: Family::default(),
            turn_seconds: Histogram::new(BUCKETS),
            outbox_pending: Gauge::default(),
            outbox_lag: Gauge::default(),
            inbox_pending: Gauge::default(),
            tickets_open: Gauge::default(),
            requests: Family::default(),
            process,
            render_lock: Mutex::new(()),
        };
        {
            let r = root.sub_registry_with_prefix("posdesk");
            r.register(
                "build",
                "The running version of posdesk.",
                Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
            );
            r.register(
                "updates",
                "Inputs taken in, by kind (command, text, callback, media, edited).",
                metrics.updates.clone(),
            );
            r.register(
                "intents",
                "Texts classified, by intent id.",
                metrics.intents.clone(),
            );
            r.register(
                "replies",
                "Replies queued, by the message id of their first part.",
                metrics.replies.clone(),
            );
            r.register(
                "handoffs",
                "Tickets opened for a person, by reason.",
                metrics.handoffs.clone(),
            );
            r.register(
                "codes_sent",
                "One-time codes handed to the SMS gateway (once per code).",
                metrics.codes_sent.clone(),
            );
            r.register(
                "codes_failed",
                "One-time codes the gateway did not accept.",
                metrics.codes_failed.clone(),
            );
            r.register(
                "flood_dropped",
                "Inputs dropped over the per-user rate limit.",
                metrics.flood_dropped.clone(),
            );
            r.register(
                "staff_relays_merged",
                "Merchant messages sent to the staff group inside another one's relay (a ticket's burst merged into one message).",
                metrics.relays_merged.clone(),
            );
            r.register(
                "turn_failures",
                "Turns that failed after their retries.",
                metrics.turn_failures.clone(),
            );
            r.register(
                "webhook_rejected",
                "Webhook requests refused for a missing or wrong secret.",
                metrics.webhook_rejected.clone(),
            );
            r.register(
                "telegram_errors",
                "Failed Bot API calls, by method (getUpdates, send) and kind.",
                metrics.telegram_errors.clone(),
            );
            r.register(
                "turn_seconds",
                "Time to apply one input (transaction included).",
                metrics.turn_seconds.clone(),
            );
            r.register(
                "outbox_pending",
                "Messages committed but not yet sent.",
                metrics.outbox_pending.clone(),
            );
            r.register(
                "outbox_lag_seconds",
                "Age of the oldest message not yet sent.",
                metrics.outbox_lag.clone(),
            );
            r.register(
                "inbox_pending",
                "Updates received but not yet applied.",
                metrics.inbox_pending.clone(),
            );
            r.register(
                "tickets_open",
                "Tickets open or claimed.",
                metrics.tickets_open.clone(),
            );
            r.register(
                "unbind_requests",
                "Unbinding requests by status.",
                metrics.requests.clone(),
            );
        }
        for kind in UPDATE_KINDS {
            let _ = metrics
                .updates
                .get_or_create(&KindLabel { kind: kind.into() });
        }
        for intent in Intent::BEHAVIOUR {
            let _ = metrics.intents.get_or_create(&IntentLabel {
                intent: intent.as_str().into(),
            });
        }
        for reason in HANDOFF_REASONS {
            let _ = metrics.handoffs.get_or_create(&ReasonLabel {
                reason: reason.into(),
            });
        }
        for (method, kind) in TELEGRAM_ERRORS {
            let _ = metrics.telegram_errors.get_or_create(&TelegramErrorLabels {
                method: method.into(),
                kind: kind.into(),
            });
        }
        for status in RequestStatus::ALL {
            let _ = metrics.requests.get_or_create(&StatusLabel {
                status: status.as_str().into(),
            });
        }
        Metrics {
            registry: root,
            ..metrics
        }
    }

    /// One input taken in.
    pub fn update(&self, kind: &str) {
        self.updates
            .get_or_create(&KindLabel { kind: kind.into() })
            .inc();
    }

    /// Adds a committed turn's counts.
    pub fn add(&self, tally: &Tally) {
        for counted in &tally.0 {
            match counted {
                Counted::Reply(msg) => {
                    self.replies
                        .get_or_create(&MsgLabel { msg: (*msg).into() })
                        .inc();
                }
                Counted::Intent(intent) => {
                    self.intents
                        .get_or_create(&IntentLabel {
                            intent: (*intent).into(),
                        })
                        .inc();
                }
                Counted::Handoff(reason) => {
                    self.handoffs
                        .get_or_create(&ReasonLabel {
                            reason: (*reason).into(),
                        })
                        .inc();
                }
            }
        }
    }

    /// Codes handed to the gateway.
    pub fn codes_sent(&self, n: usize) {
        self.codes_sent.inc_by(n as u64);
    }

    /// A code the gateway did not take.
    pub fn code_failed(&self) {
        self.codes_failed.inc();
    }

    /// An input dropped by the flood guard.
    pub fn flood_dropped(&self) {
        self.flood_dropped.inc();
    }

    /// Merchant messages that went out inside an earlier one's relay.
    pub fn relays_merged(&self, n: u64) {
        self.relays_merged.inc_by(n);
    }

    /// A turn that failed for good.
    pub fn turn_failed(&self) {
        self.turn_failures.inc();
    }

    /// A webhook request with a wrong secret.
    pub fn webhook_rejected(&self) {
        self.webhook_rejected.inc();
    }

    /// A failed Bot API call (`method` and `kind` from [`TELEGRAM_ERRORS`]).
    pub fn telegram_error(&self, method: &str, kind: &str) {
        self.telegram_errors
            .get_or_create(&TelegramErrorLabels {
                method: method.into(),
                kind: kind.into(),
            })
            .inc();
    }

    /// Records one turn's latency.
    pub fn observe_turn(&self, elapsed: Duration) {
        self.turn_seconds.observe(elapsed.as_secs_f64());
    }

    /// The current value of an unlabelled counter or of `updates{kind}` (tests).
    pub fn codes_sent_total(&self) -> u64 {
        self.codes_sent.get()
    }

    /// Prometheus text (OpenMetrics) after setting the scrape-time gauges.
    pub fn render(&self, db: &DatabaseGauges) -> String {
        // One scrape at a time: the gauges below are set, then encoded.
        let _guard = self.render_lock.lock();
        if let Some(n) = db.outbox_pending {
            self.outbox_pending.set(n);
        }
        if let Some(lag) = db.outbox_lag_seconds {
            self.outbox_lag.set(lag);
        }
        if let Some(n) = db.inbox_pending {
            self.inbox_pending.set(n);
        }
        if let Some(n) = db.tickets_open {
            self.tickets_open.set(n);
        }
        if let Some(requests) = &db.requests {
            for status in RequestStatus::ALL {
                let n = requests
                    .iter()
                    .find(|(s, _)| s == status.as_str())
                    .map_or(0, |(_, n)| *n);
                self.requests
                    .get_or_create(&StatusLabel {
                        status: status.as_str().into(),
                    })
                    .set(n);
            }
        }
        self.process.refresh();
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "metrics could not be encoded");
        }
        out
    }
}

impl ProcessMetrics {
    /// Reads `/proc/self` (Linux; elsewhere the values stay 0).
    fn refresh(&self) {
        let ticks = 100.0; // USER_HZ on every Linux platform Rust targets.
        let page = 4096; // the page size of x86-64 and aarch64 Linux.
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
            && let Some((_, rest)) = stat.rsplit_once(')')
        {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // Fields after the command name start at field 3 (state).
            let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
            if let (Some(utime), Some(stime)) = (field(14), field(15)) {
                let total = (utime + stime) / ticks;
                if let Ok(mut last) = self.last_cpu.lock()
                    && total > *last
                {
                    self.cpu_seconds.inc_by(total - *last);
                    *last = total;
                }
            }
            if let Some(threads) = field(20) {
                self.threads.set(threads as i64);
            }
            if let Some(vsize) = field(23) {
                self.virtual_memory_bytes.set(vsize as i64);
            }
            if let Some(rss) = field(24) {
                self.resident_memory_bytes.set(rss as i64 * page);
            }
            if let (Some(start), Some(boot)) = (field(22), boot_time()) {
                self.start_time_seconds.set(boot + start / ticks);
            }
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(dir.count() as i64);
        }
        if let Ok(limits) = std::fs::read_to_string("/proc/self/limits")
            && let Some(line) = limits.lines().find(|l| l.starts_with("Max open files"))
            && let Some(soft) = line.split_whitespace().nth(3)
            && let Ok(soft) = soft.parse::<i64>()
        {
            self.max_fds.set(soft);
        }
    }
}

fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_help_and_is_there_from_the_start() {
        let m = Metrics::new();
        let text = m.render(&DatabaseGauges::default());
        for name in [
            "posdesk_updates",
            "posdesk_codes_sent",
            "posdesk_telegram_errors",
            "posdesk_turn_seconds",
            "posdesk_unbind_requests",
            "process_resident_memory_bytes",
            "posdesk_build",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{name}: {text}");
        }
        assert!(text.contains("posdesk_codes_sent_total 0"), "{text}");
        assert!(
            text.contains(
                "posdesk_telegram_errors_total{method=\"getUpdates\",kind=\"network\"} 0"
            ),
            "{text}"
        );
        assert!(text.contains("posdesk_build_info{version=\""), "{text}");
        assert!(
            !text.contains("process_resident_memory_bytes 0\n"),
            "{text}"
        );
    }

    #[test]
    fn a_tally_counts_once_and_the_histogram_buckets() {
        let m = Metrics::new();
        let mut tally = Tally::default();
        tally.add(Counted::Reply("menu"));
        tally.add(Counted::Intent("greeting"));
        m.add(&tally);
        m.update("text");
        m.update("text");
        m.observe_turn(Duration::from_millis(3));
        let text = m.render(&DatabaseGauges::default());
        assert!(
            text.contains("posdesk_updates_total{kind=\"text\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("posdesk_replies_total{msg=\"menu\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("posdesk_intents_total{intent=\"greeting\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("posdesk_turn_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
    }
}
