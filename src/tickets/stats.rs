//! Numbers staff need: tickets opened, first response and resolution times
//! (median, p90), CSAT, per agent. Pure: rows in, numbers out; the CLI, the
//! staff group's `/stats` and `/metrics` present them.

use crate::conversation::{Arg, Msg};

/// One ticket as the statistics see it. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    /// Opened.
    pub opened_at: i64,
    /// First message from staff to the merchant, if any.
    pub first_response_at: Option<i64>,
    /// Closed by staff, if it was.
    pub closed_at: Option<i64>,
    /// CSAT, 1 to 5.
    pub rating: Option<i64>,
    /// Who owns (or owned) it.
    pub agent: Option<String>,
}

/// Median and 90th percentile of a duration, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    /// Median, seconds.
    pub median: i64,
    /// 90th percentile, seconds.
    pub p90: i64,
}

/// The numbers of a set of tickets.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Tickets.
    pub tickets: usize,
    /// Time to the first staff message.
    pub first_response: Option<Spread>,
    /// Time to the close.
    pub resolution: Option<Spread>,
    /// Average rating and how many rated.
    pub csat: Option<(f64, usize)>,
}

/// All tickets, and per agent (by name, sorted).
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Every ticket opened in the period.
    pub all: Figures,
    /// Per agent.
    pub agents: Vec<(String, Figures)>,
}

/// Computes the statistics of `rows`.
pub fn compute(rows: &[StatRow]) -> Stats {
    let mut names: Vec<String> = rows.iter().filter_map(|r| r.agent.clone()).collect();
    names.sort();
    names.dedup();
    let agents = names
        .into_iter()
        .map(|name| {
            let mine: Vec<StatRow> = rows
                .iter()
                .filter(|r| r.agent.as_deref() == Some(name.as_str()))
                .cloned()
                .collect();
            let figures = figures(&mine);
            (name, figures)
        })
        .collect();
    Stats {
        all: figures(rows),
        agents,
    }
}

fn figures(rows: &[StatRow]) -> Figures {
    let first: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.first_response_at.map(|t| (t - r.opened_at).max(0) / 1000))
        .collect();
    let resolved: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.closed_at.map(|t| (t - r.opened_at).max(0) / 1000))
        .collect();
    let ratings: Vec<i64> = rows.iter().filter_map(|r| r.rating).collect();
    Figures {
        tickets: rows.len(),
        first_response: spread(first),
        resolution: spread(resolved),
        csat: (!ratings.is_empty()).then(|| {
            (
                ratings.iter().sum::<i64>() as f64 / ratings.len() as f64,
                ratings.len(),
            )
        }),
    }
}

/// Nearest-rank median and p90.
fn spread(mut values: Vec<i64>) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = |p: usize| values[((values.len() * p).div_ceil(100)).clamp(1, values.len()) - 1];
    Some(Spread {
        median: rank(50),
        p90: rank(90),
    })
}

/// A duration for people: `45s`, `12m`, `3h05m`.
pub fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The statistics as staff-group lines (`since_days`: the period).
pub fn lines(stats: &Stats, since_days: i64) -> Vec<Msg> {
    let mut out = vec![Msg::new("staff-stats-header").arg("days", since_days)];
    out.push(figures_line(Msg::new("staff-stats-all"), &stats.all));
    for (agent, figures) in &stats.agents {
        out.push(figures_line(
            Msg::new("staff-stats-agent").arg("agent", agent.as_str()),
            figures,
        ));
    }
    out
}

fn figures_line(msg: Msg, f: &Figures) -> Msg {
    let spread_arg = |s: Option<Spread>| match s {
        Some(s) => Arg::Str(format!("{} / {}", duration(s.median), duration(s.p90))),
        None => Arg::Str("—".into()),
    };
    msg.arg("tickets", f.tickets as i64)
        .arg("first", spread_arg(f.first_response))
        .arg("resolution", spread_arg(f.resolution))
        .arg(
            "csat",
            match f.csat {
                Some((avg, n)) => Arg::Str(format!("{avg:.1} ({n})")),
                None => Arg::Str("—".into()),
            },
        )
}

/// The statistics of the last seven days in Prometheus text format (gauges).
pub fn prometheus(stats: &Stats) -> String {
    let mut out = String::from(
        "# HELP posdesk_tickets_week Tickets opened in the last 7 days.\n# TYPE posdesk_tickets_week gauge\n\
         # HELP posdesk_ticket_first_response_seconds First staff message after opening, last 7 days.\n# TYPE posdesk_ticket_first_response_seconds gauge\n\
         # HELP posdesk_ticket_resolution_seconds Opening to close, last 7 days.\n# TYPE posdesk_ticket_resolution_seconds gauge\n\
         # HELP posdesk_ticket_csat_average Average rating (1-5), last 7 days.\n# TYPE posdesk_ticket_csat_average gauge\n",
    );
    let mut rows = vec![("", &stats.all)];
    rows.extend(stats.agents.iter().map(|(a, f)| (a.as_str(), f)));
    for (agent, f) in rows {
        let label = agent.replace(['\\', '"', '\n'], "_");
        let agent = format!("agent=\"{label}\"");
        out.push_str(&format!("posdesk_tickets_week{{{agent}}} {}\n", f.tickets));
        for (name, spread) in [
            ("posdesk_ticket_first_response_seconds", f.first_response),
            ("posdesk_ticket_resolution_seconds", f.resolution),
        ] {
            if let Some(s) = spread {
                out.push_str(&format!(
                    "{name}{{{agent},quantile=\"0.5\"}} {}\n",
                    s.median
                ));
                out.push_str(&format!("{name}{{{agent},quantile=\"0.9\"}} {}\n", s.p90));
            }
        }
        if let Some((avg, _)) = f.csat {
            out.push_str(&format!("posdesk_ticket_csat_average{{{agent}}} {avg}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(first: Option<i64>, closed: Option<i64>, rating: Option<i64>, agent: &str) -> StatRow {
        StatRow {
            opened_at: 0,
            first_response_at: first.map(|s| s * 1000),
            closed_at: closed.map(|s| s * 1000),
            rating,
            agent: (!agent.is_empty()).then(|| agent.to_string()),
        }
    }

    #[test]
    fn medians_p90_csat_and_per_agent() {
        let mut rows: Vec<StatRow> = (1..=10)
            .map(|n| {
                row(
                    Some(n * 60),
                    Some(n * 600),
                    Some(if n % 2 == 0 { 5 } else { 4 }),
                    "A",
                )
            })
            .collect();
        rows.push(row(None, None, None, ""));
        rows.push(row(Some(30), None, Some(1), "B"));
        let stats = compute(&rows);
        assert_eq!(stats.all.tickets, 12);
        assert_eq!(
            stats.all.first_response,
            Some(Spread {
                median: 300,
                p90: 540
            })
        );
        assert_eq!(
            stats.all.resolution,
            Some(Spread {
                median: 3000,
                p90: 5400
            })
        );
        let (avg, n) = stats.all.csat.expect("rated"); // ok: a test
        assert_eq!(n, 11);
        assert!((avg - 46.0 / 11.0).abs() < 1e-9);
        assert_eq!(stats.agents.len(), 2);
        assert_eq!(stats.agents[1].0, "B");
        assert_eq!(stats.agents[1].1.resolution, None);
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(720), "12m");
        assert_eq!(duration(11_100), "3h05m");
    }
}
