//! Process counters and the turn-latency histogram, rendered in Prometheus
//! text format (database gauges are added by `http`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Latency buckets, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.5, 2.0];

/// Counters keyed by metric name and label text.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    latency: Mutex<Histogram>,
}

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    total: u64,
    sum: f64,
}

impl Metrics {
    /// Adds one to `name{labels}`; `labels` is Prometheus label text such as `kind="text"`.
    pub fn inc(&self, name: &'static str, labels: impl Into<String>) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry((name, labels.into())).or_insert(0) += 1;
        }
    }

    /// Records one turn's latency.
    pub fn observe_turn(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Ok(mut h) = self.latency.lock() {
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.total += 1;
            h.sum += seconds;
        }
    }

    /// The current value of a counter.
    pub fn get(&self, name: &'static str, labels: &str) -> u64 {
        self.counters
            .lock()
            .ok()
            .and_then(|c| c.get(&(name, labels.to_string())).copied())
            .unwrap_or(0)
    }

    /// Prometheus text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(c) = self.counters.lock() {
            let mut last = "";
            for ((name, labels), value) in c.iter() {
                if *name != last {
                    out.push_str(&format!("# TYPE {name} counter\n"));
                    last = name;
                }
                if labels.is_empty() {
                    out.push_str(&format!("{name} {value}\n"));
                } else {
                    out.push_str(&format!("{name}{{{labels}}} {value}\n"));
                }
            }
        }
        if let Ok(h) = self.latency.lock() {
            out.push_str(
                "# HELP posdesk_turn_seconds Time to apply one input (transaction included).\n",
            );
            out.push_str("# TYPE posdesk_turn_seconds histogram\n");
            for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                out.push_str(&format!(
                    "posdesk_turn_seconds_bucket{{le=\"{bound}\"}} {count}\n"
                ));
            }
            out.push_str(&format!(
                "posdesk_turn_seconds_bucket{{le=\"+Inf\"}} {}\n",
                h.total
            ));
            out.push_str(&format!("posdesk_turn_seconds_sum {}\n", h.sum));
            out.push_str(&format!("posdesk_turn_seconds_count {}\n", h.total));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.inc("posdesk_updates_total", "kind=\"text\"");
        m.inc("posdesk_updates_total", "kind=\"text\"");
        m.observe_turn(Duration::from_millis(3));
        let text = m.render();
        assert!(
            text.contains("posdesk_updates_total{kind=\"text\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("posdesk_turn_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert_eq!(m.get("posdesk_updates_total", "kind=\"text\""), 2);
    }
}
