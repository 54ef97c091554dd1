//! JUnit XML: one test case per eval case, its repeats folded in with their pass fraction;
//! failures carry the grader reasons, errors the error, a regression says so, `<system-out>` holds
//! the output, and the suite's timestamp is ISO 8601 in UTC.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::SecondsFormat;

use crate::compare::Class;
use crate::record::{CaseResult, Status};

use super::{Report, escape, reasons};

pub fn render(r: &Report) -> String {
    let run = r.run;
    let classes: HashMap<(&str, u32), Class> = r
        .comparison
        .map(|c| c.cases.iter().map(|c| ((c.case_id.as_str(), c.repeat), c.class)).collect())
        .unwrap_or_default();
    // One test per case: its samples (repeats) are adjacent, in case order.
    let cases: Vec<&[CaseResult]> = run.results.chunk_by(|a, b| a.case_id == b.case_id).collect();
    let verdict = |samples: &[CaseResult]| {
        if samples.iter().all(|x| x.status == Status::Error) {
            Status::Error
        } else if samples.iter().all(|x| x.status == Status::Pass) {
            Status::Pass
        } else {
            Status::Fail
        }
    };
    let count = |s: Status| cases.iter().filter(|c| verdict(c) == s).count();
    let (failures, errors) = (count(Status::Fail), count(Status::Error));
    let seconds: f64 = run.results.iter().map(|x| x.latency_ms as f64 / 1000.0).sum();
    let mut out = String::with_capacity(256 * run.results.len() + 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let name = escape(&run.suite.name);
    let _ = writeln!(
        out,
        "<testsuites name=\"evals\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{seconds:.3}\">",
        cases.len()
    );
    let _ = writeln!(
        out,
        "<testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{seconds:.3}\" timestamp=\"{}\">",
        cases.len(),
        run.started_at.to_rfc3339_opts(SecondsFormat::Secs, true)
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
    for samples in cases {
        let first = &samples[0];
        let time: f64 = samples.iter().map(|x| x.latency_ms as f64 / 1000.0).sum();
        let _ =
            write!(out, "<testcase classname=\"evals.{name}\" name=\"{}\" time=\"{time:.3}\">", escape(&first.case_id));
        let passed = samples.iter().filter(|x| x.status == Status::Pass).count();
        // With repeats the case is one test; its pass fraction leads the message.
        let fraction = if samples.len() > 1 { format!("{passed}/{} passed: ", samples.len()) } else { String::new() };
        let regressed = samples.iter().any(|x| classes.get(&(x.case_id.as_str(), x.repeat)) == Some(&Class::Regressed));
        let shown = samples.iter().find(|x| x.status != Status::Pass);
        match (verdict(samples), shown) {
            (Status::Fail, Some(x)) => {
                let reasons = reasons(x);
                let message = format!(
                    "{fraction}{}{}",
                    if regressed { "regressed: " } else { "" },
                    reasons.first().map(String::as_str).unwrap_or(x.status.as_str())
                );
                let _ = write!(
                    out,
                    "<failure type=\"{}\" message=\"{}\">{}</failure>",
                    if regressed { "regression" } else { "failure" },
                    escape(&message),
                    escape(&reasons.join("\n"))
                );
            }
            (Status::Error, Some(x)) => {
                let e = x.error.as_deref().unwrap_or("error");
                let _ = write!(out, "<error message=\"{}\">{}</error>", escape(&format!("{fraction}{e}")), escape(e));
            }
            _ => {}
        }
        // What the agent answered, each sample under its number when repeated.
        let output: Vec<String> = samples
            .iter()
            .map(|x| {
                let calls: Vec<String> =
                    x.output.tool_calls.iter().map(|c| format!("{}({})", c.name, c.arguments)).collect();
                let text = [x.output.text.clone(), calls.join("\n")]
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                if samples.len() > 1 { format!("#{} {}: {text}", x.repeat, x.status.as_str()) } else { text }
            })
            .collect();
        let _ = writeln!(out, "<system-out>{}</system-out></testcase>", escape(&output.join("\n")));
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}
