//! Run progress on stderr: a bar on a terminal, a plain line every few seconds otherwise
//! (CI logs), nothing with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::record::{CaseResult, Status};
use crate::report::traces::dollars;
use crate::run::{Event, Events};

const PLAIN_EVERY: Duration = Duration::from_secs(5);

enum Mode {
    Bar(ProgressBar),
    Plain { last: Instant },
    Quiet,
}

struct Bar {
    mode: Mode,
    total: u64,
    done: u64,
    counts: [u64; 3],
    /// None until a result with a known cost arrives (unpriced models, the mock).
    cost: Option<f64>,
    started: Instant,
}

impl Bar {
    /// `already` results were finished before (a resumed run).
    fn new(total: u64, already: &[CaseResult], quiet: bool) -> Bar {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {msg} · ETA {eta}").expect("valid template"),
            );
            Mode::Bar(bar)
        } else {
            Mode::Plain { last: Instant::now() }
        };
        let mut p = Bar { mode, total, done: 0, counts: [0; 3], cost: None, started: Instant::now() };
        for r in already {
            p.count(r);
        }
        if let Mode::Bar(b) = &p.mode {
            b.set_position(p.done);
            b.set_message(p.message());
            b.reset_eta();
        }
        p
    }

    fn count(&mut self, r: &CaseResult) {
        self.done += 1;
        self.counts[match r.status {
            Status::Pass => 0,
            Status::Fail => 1,
            Status::Error => 2,
        }] += 1;
        if let Some(c) = r.cost_usd {
            self.cost = Some(self.cost.unwrap_or(0.0) + c);
        }
    }

    fn message(&self) -> String {
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        message(self.done, self.total, self.counts, self.cost, rate)
    }

    fn record(&mut self, r: &CaseResult) {
        self.count(r);
        let msg = self.message();
        match &mut self.mode {
            Mode::Bar(b) => {
                // done/total is in the message, not `{pos}`: each call may draw, and a frame
                // must not show counts that disagree.
                b.inc(1);
                b.set_message(msg);
            }
            Mode::Plain { last } if last.elapsed() >= PLAIN_EVERY => {
                *last = Instant::now();
                self.plain_line();
            }
            _ => {}
        }
    }

    fn plain_line(&self) {
        eprintln!("progress: {}", self.message());
    }

    /// Clear the bar; in plain mode, say the final count once more.
    fn finish(self) {
        match &self.mode {
            Mode::Bar(b) => b.finish_and_clear(),
            Mode::Plain { .. } => self.plain_line(),
            Mode::Quiet => {}
        }
    }
}

/// `12/300 ✓10 ✗1 !1 · $0.0042 · 3.3/s`: the cost is `–` while unknown, the rate has two or
/// three significant digits.
fn message(done: u64, total: u64, counts: [u64; 3], cost: Option<f64>, per_sec: f64) -> String {
    let cost = cost.map_or_else(|| "–".to_string(), dollars);
    let rate = if per_sec >= 10.0 { format!("{per_sec:.0}") } else { format!("{per_sec:.1}") };
    format!("{done}/{total} ✓{} ✗{} !{} · {cost} · {rate}/s", counts[0], counts[1], counts[2])
}

/// The run's events on stderr: notes and warnings, and the bar while cases replay.
pub struct Progress {
    quiet: bool,
    bar: Option<Bar>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress { quiet, bar: None }
    }

    /// A line on stderr that does not tear the bar.
    fn say(&self, line: String) {
        match self.bar.as_ref().map(|b| &b.mode) {
            Some(Mode::Bar(b)) => b.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }
}

impl Events for Progress {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::NoBaseline { suite, branch } => {
                self.say(format!("note: no stored run of suite {suite} on branch {branch}; gating without a baseline"))
            }
            Event::Started { total, finished, .. } => self.bar = Some(Bar::new(total, finished, self.quiet)),
            Event::CaseFinished(r) => {
                if let Some(b) = &mut self.bar {
                    b.record(r);
                }
            }
            Event::NotStored { count, first_case, error } => {
                self.say(format!("warning: {count} results (from {first_case}) not stored: {error}"))
            }
            Event::Replayed => {
                if let Some(b) = self.bar.take() {
                    b.finish();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn unknown_cost_is_a_dash_and_rates_are_rounded() {
        assert_eq!(message(3, 300, [2, 1, 0], None, 32.6882), "3/300 ✓2 ✗1 !0 · – · 33/s");
        assert_eq!(message(3, 300, [3, 0, 0], Some(0.00421), 3.26882), "3/300 ✓3 ✗0 !0 · $0.0042 · 3.3/s");
        assert_eq!(message(300, 300, [300, 0, 0], Some(12.5), 0.04), "300/300 ✓300 ✗0 !0 · $12.50 · 0.0/s");
    }
}
