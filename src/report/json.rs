//! The JSON report: the comparison model, the gate decision and the run's header, under a
//! versioned schema so other tools can read it.

use serde::Serialize;

use crate::compare::Comparison;
use crate::compare::gate::Decision;
use crate::record::{GitInfo, Status, Summary, TargetInfo, TrendPoint};

use super::Report;

/// Name and version of the report format; a breaking change bumps the version.
pub const SCHEMA: &str = "evals.report";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    schema_version: u32,
    run: RunHeader<'a>,
    decision: &'a Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison: Option<&'a Comparison>,
    /// Without a baseline, the cases that did not pass and why (the comparison has them otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    cases: Option<Vec<NotPassed<'a>>>,
    trend: &'a [TrendPoint],
}

#[derive(Serialize)]
struct NotPassed<'a> {
    case_id: &'a str,
    repeat: u32,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
    /// Failed grader reasons, the error, and calls no recording answers.
    reasons: Vec<String>,
}

#[derive(Serialize)]
struct RunHeader<'a> {
    id: &'a str,
    suite: &'a str,
    started_at: chrono::DateTime<chrono::Utc>,
    git: Option<&'a GitInfo>,
    target: &'a TargetInfo,
    summary: &'a Summary,
}

fn not_passed<'a>(r: &Report<'a>) -> Vec<NotPassed<'a>> {
    r.run
        .results
        .iter()
        .filter(|x| x.status != Status::Pass)
        .map(|x| {
            let reasons = super::reasons(x);
            NotPassed {
                case_id: &x.case_id,
                repeat: x.repeat,
                status: x.status.as_str(),
                cause: x.cause.as_deref(),
                reasons,
            }
        })
        .collect()
}

pub fn render(r: &Report) -> String {
    let doc = Document {
        schema: SCHEMA,
        schema_version: SCHEMA_VERSION,
        run: RunHeader {
            id: &r.run.id,
            suite: &r.run.suite.name,
            started_at: r.run.started_at,
            git: r.run.git.as_ref(),
            target: &r.run.target,
            summary: &r.run.summary,
        },
        decision: r.decision,
        comparison: r.comparison,
        cases: r.comparison.is_none().then(|| not_passed(r)),
        trend: r.trend,
    };
    serde_json::to_string_pretty(&doc).expect("a report always serializes") + "\n"
}
