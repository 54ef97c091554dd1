//! JUnit XML: one test case per eval case (and repeat); failures carry the grader reasons, errors
//! the error, and a regression says so.

use std::collections::HashMap;
use std::fmt::Write;

use crate::compare::Class;
use crate::record::Status;

use super::{Report, escape};

pub fn render(r: &Report) -> String {
    let run = r.run;
    let classes: HashMap<(&str, u32), Class> = r
        .comparison
        .map(|c| c.cases.iter().map(|c| ((c.case_id.as_str(), c.repeat), c.class)).collect())
        .unwrap_or_default();
    let s = &run.summary;
    let seconds: f64 = run.results.iter().map(|x| x.latency_ms as f64 / 1000.0).sum();
    let mut out = String::with_capacity(256 * run.results.len() + 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let name = escape(&run.suite.name);
    let _ = writeln!(
        out,
        "<testsuites name=\"evals\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{seconds:.3}\">",
        s.cases, s.failed, s.errored
    );
    let _ = writeln!(
        out,
        "<testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{seconds:.3}\" timestamp=\"{}\">",
        s.cases,
        s.failed,
        s.errored,
        run.started_at.format("%Y-%m-%dT%H:%M:%S")
    );
    // The drop test that decided, and its p-value, as properties a CI dashboard can read.
    let test = r.decision.test.as_ref().map_or(String::new(), |t| {
        format!(
            "<property name=\"test\" value=\"{} vs {}\"/><property name=\"p_value\" value=\"{}\"/>",
            escape(&t.method),
            escape(&t.reference),
            t.p_value
        )
    });
    let _ = writeln!(
        out,
        "<properties><property name=\"run\" value=\"{}\"/><property name=\"gate\" value=\"{}\"/>{test}</properties>",
        escape(&run.id),
        escape(&r.decision.reason)
    );
    for x in &run.results {
        let repeat = if x.repeat > 0 { format!(" #{}", x.repeat) } else { String::new() };
        let _ = write!(
            out,
            "<testcase classname=\"evals.{name}\" name=\"{}{repeat}\" time=\"{:.3}\"",
            escape(&x.case_id),
            x.latency_ms as f64 / 1000.0
        );
        let regressed = classes.get(&(x.case_id.as_str(), x.repeat)) == Some(&Class::Regressed);
        match x.status {
            Status::Pass => out.push_str("/>\n"),
            Status::Fail => {
                let mut reasons: Vec<String> =
                    x.grades.iter().filter(|g| !g.pass).map(|g| format!("{}: {}", g.grader, g.reason)).collect();
                reasons.extend(x.unmatched_calls().map(String::from));
                let message = format!(
                    "{}{}",
                    if regressed { "regressed: " } else { "" },
                    reasons.first().map(String::as_str).unwrap_or("failed")
                );
                let _ = writeln!(
                    out,
                    "><failure type=\"{}\" message=\"{}\">{}</failure></testcase>",
                    if regressed { "regression" } else { "failure" },
                    escape(&message),
                    escape(&reasons.join("\n"))
                );
            }
            Status::Error => {
                let e = x.error.as_deref().unwrap_or("error");
                let _ = writeln!(out, "><error message=\"{}\">{}</error></testcase>", escape(e), escape(e));
            }
        }
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}
