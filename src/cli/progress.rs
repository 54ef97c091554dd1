//! Run progress on stderr: a bar on a terminal, a plain line every few seconds otherwise
//! (CI logs), nothing with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::record::{CaseResult, Status};
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
    cost: f64,
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
                ProgressStyle::with_template("{bar:30.cyan/blue} {msg} · {per_sec} · ETA {eta}")
                    .expect("valid template"),
            );
            Mode::Bar(bar)
        } else {
            Mode::Plain { last: Instant::now() }
        };
        let mut p = Bar { mode, total, done: 0, counts: [0; 3], cost: 0.0, started: Instant::now() };
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
        self.cost += r.cost_usd.unwrap_or(0.0);
    }

    fn message(&self) -> String {
        format!(
            "{}/{} ✓{} ✗{} !{} · ${:.4}",
            self.done, self.total, self.counts[0], self.counts[1], self.counts[2], self.cost
        )
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
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        eprintln!("progress: {} · {rate:.1}/s", self.message());
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
