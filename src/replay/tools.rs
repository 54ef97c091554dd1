//! Answering the model's tool calls during replay: from the case's recordings (by name and
//! canonical arguments; by call order only when the policy opts in), or as the suite's per-tool
//! policy says (a mock text or template, an error text for the model, or a refusal that ends the
//! case). A call no recording matches is an `unmatched_call` event naming the nearest recordings.

use std::collections::HashMap;

use serde_json::Value;

use crate::dataset::ToolOutput;
use crate::record::Event;
use crate::suite::policy::{Policies, Policy, Unmatched};
use crate::template;
use crate::trace::items::canonical_arguments;

/// Recorded arguments shown next to an unmatched call.
const NEAREST: usize = 3;

/// How one call was answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Output(String),
    /// The case cannot go on: the message says why.
    Stop(String),
}

/// Recorded tool outputs, matched by name and canonical arguments, or by name and order.
pub struct Recordings<'a> {
    exact: HashMap<(String, String), Vec<&'a str>>,
    by_name: HashMap<&'a str, Vec<&'a str>>,
    /// Each tool's recorded arguments (canonical, each once), for the nearest to an unmatched call.
    arguments: HashMap<&'a str, Vec<String>>,
    used: HashMap<(String, String), usize>,
    calls: HashMap<String, usize>,
}

impl<'a> Recordings<'a> {
    pub fn new(list: &'a [ToolOutput]) -> Self {
        let mut exact: HashMap<(String, String), Vec<&str>> = HashMap::new();
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut arguments: HashMap<&str, Vec<String>> = HashMap::new();
        for t in list {
            let canonical = canonical_arguments(&t.arguments);
            let seen = arguments.entry(&t.name).or_default();
            if !seen.contains(&canonical) {
                seen.push(canonical.clone());
            }
            exact.entry((t.name.clone(), canonical)).or_default().push(&t.output);
            by_name.entry(&t.name).or_default().push(&t.output);
        }
        Recordings { exact, by_name, arguments, used: HashMap::new(), calls: HashMap::new() }
    }

    /// The recorded arguments of `name` most like `arguments`, most alike first.
    pub fn nearest(&self, name: &str, arguments: &str) -> Vec<String> {
        let asked = canonical_arguments(arguments);
        let mut v: Vec<(f64, &String)> = self
            .arguments
            .get(name)
            .map(|l| l.iter().map(|a| (crate::text::fuzzy_ratio(&asked, a), a)).collect())
            .unwrap_or_default();
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        v.into_iter().take(NEAREST).map(|(_, a)| a.clone()).collect()
    }

    /// The recorded output for a call, and whether it matched only by order. A call made more
    /// often with the same arguments than recorded gets the last recorded output again.
    pub fn answer(&mut self, name: &str, arguments: &str) -> Option<(String, bool)> {
        let nth = {
            let n = self.calls.entry(name.to_string()).or_insert(0);
            *n += 1;
            *n - 1
        };
        let key = (name.to_string(), canonical_arguments(arguments));
        if let Some(list) = self.exact.get(&key) {
            let n = self.used.entry(key).or_insert(0);
            let out = list[(*n).min(list.len() - 1)];
            *n += 1;
            return Some((out.to_string(), false));
        }
        self.by_name.get(name).and_then(|l| l.get(nth)).map(|o| (o.to_string(), true))
    }
}

/// Answer one call under its tool's policy; events note what graders should know.
pub fn answer(
    policies: &Policies,
    recordings: &mut Recordings,
    name: &str,
    arguments: &str,
    events: &mut Vec<Event>,
) -> Answer {
    let event = |kind: &str, message: String| Event {
        kind: kind.into(),
        tool: name.to_string(),
        arguments: arguments.to_string(),
        message,
    };
    match policies.of(name) {
        Policy::Error => {
            let msg = format!("tool {name} may not be called in replay (policy `error`)");
            events.push(event("forbidden_tool_call", msg.clone()));
            Answer::Stop(msg)
        }
        Policy::MockError(text) => Answer::Output(text.clone()),
        Policy::Mock(t) => {
            let args: Value = serde_json::from_str(arguments).unwrap_or(Value::Null);
            let ctx = if args.is_object() { args } else { serde_json::json!({ "arguments": arguments }) };
            match template::render(template::inline(), t, &ctx) {
                Ok(out) => Answer::Output(out),
                Err(e) => {
                    let msg = format!("mock output of {name} does not render: {}", template::describe(&e));
                    events.push(event("mock_failed", msg.clone()));
                    Answer::Stop(msg)
                }
            }
        }
        Policy::Recorded { unmatched } => match recordings.answer(name, arguments) {
            Some((out, false)) => Answer::Output(out),
            Some((out, true)) if *unmatched == Unmatched::ByOrder => {
                events.push(event(
                    "matched_by_order",
                    format!("no recording of {name} has these arguments; answered with its recording in call order"),
                ));
                Answer::Output(out)
            }
            _ => {
                let nearest = recordings.nearest(name, arguments);
                let near = if nearest.is_empty() {
                    format!("; {name} has no recordings")
                } else {
                    format!(
                        "; nearest recorded: {}",
                        nearest.iter().map(|a| format!("{name}({a})")).collect::<Vec<_>>().join(", ")
                    )
                };
                let msg = format!("unmatched call {name}({arguments}): no recording has these arguments{near}");
                events.push(event("unmatched_call", msg.clone()));
                if *unmatched == Unmatched::Error {
                    Answer::Stop(msg)
                } else {
                    Answer::Output(format!("error: no recorded output for {name} with these arguments"))
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(name: &str, args: &str, output: &str) -> ToolOutput {
        ToolOutput { name: name.into(), arguments: args.into(), output: output.into() }
    }

    #[test]
    fn recordings_match_arguments_then_order_and_repeat_the_last() {
        let list = vec![out("w", "{\"city\": \"Paris\"}", "sun"), out("w", "{\"city\":\"Paris\"}", "rain")];
        let mut r = Recordings::new(&list);
        assert_eq!(r.answer("w", "{ \"city\":\"Paris\" }"), Some(("sun".into(), false)));
        assert_eq!(r.answer("w", "{\"city\":\"Paris\"}"), Some(("rain".into(), false)));
        assert_eq!(r.answer("w", "{\"city\":\"Paris\"}"), Some(("rain".into(), false)));
        assert_eq!(r.answer("x", "{}"), None);
        let mut r = Recordings::new(&list);
        assert_eq!(r.answer("w", "{\"city\":\"Rome\"}"), Some(("sun".into(), true)), "first call, first recording");
        assert_eq!(r.answer("w", "{\"city\":\"Oslo\"}"), Some(("rain".into(), true)));
        assert_eq!(r.answer("w", "{\"city\":\"Bern\"}"), None, "more calls than recordings");
    }

    #[test]
    fn policies_answer_mock_error_and_refuse() {
        let list = vec![];
        let mut rec = Recordings::new(&list);
        let mut p = Policies::default();
        p.tools.insert("search".into(), Policy::Mock("results for {{ q }}".into()));
        p.tools.insert("mail".into(), Policy::MockError("mail is off".into()));
        p.tools.insert("rm".into(), Policy::Error);
        let mut ev = Vec::new();
        assert_eq!(
            answer(&p, &mut rec, "search", "{\"q\":\"rust\"}", &mut ev),
            Answer::Output("results for rust".into())
        );
        assert_eq!(answer(&p, &mut rec, "mail", "{}", &mut ev), Answer::Output("mail is off".into()));
        assert!(ev.is_empty());
        assert!(matches!(answer(&p, &mut rec, "rm", "{}", &mut ev), Answer::Stop(m) if m.contains("policy `error`")));
        assert!(matches!(answer(&p, &mut rec, "w", "{}", &mut ev), Answer::Stop(_)));
        assert_eq!(ev.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["forbidden_tool_call", "unmatched_call"]);
        p.default = Policy::Recorded { unmatched: Unmatched::Continue };
        assert!(matches!(answer(&p, &mut rec, "w", "{}", &mut ev), Answer::Output(o) if o.starts_with("error:")));
        assert_eq!(ev.len(), 3, "the unmatched call is still an event");
    }

    #[test]
    fn an_unmatched_call_is_answered_by_order_only_on_request_and_names_the_nearest_recordings() {
        let list = vec![out("w", "{\"city\": \"Paris\"}", "sun"), out("w", "{\"city\": \"Oslo\"}", "snow")];
        let mut ev = Vec::new();
        let mut rec = Recordings::new(&list);
        let stop = answer(&Policies::default(), &mut rec, "w", "{\"city\": \"Pariss\"}", &mut ev);
        let msg = "unmatched call w({\"city\": \"Pariss\"}): no recording has these arguments; \
                   nearest recorded: w({\"city\":\"Paris\"}), w({\"city\":\"Oslo\"})";
        assert_eq!(stop, Answer::Stop(msg.into()));
        assert_eq!((ev[0].kind.as_str(), ev[0].message.as_str()), ("unmatched_call", msg));
        // Opted in, the first call of `w` gets the first recording, and says so.
        let by_order = Policies { default: Policy::Recorded { unmatched: Unmatched::ByOrder }, ..Policies::default() };
        let mut rec = Recordings::new(&list);
        assert_eq!(answer(&by_order, &mut rec, "w", "{\"city\": \"Rome\"}", &mut ev), Answer::Output("sun".into()));
        assert_eq!(ev[1].kind, "matched_by_order");
        assert!(rec.nearest("nope", "{}").is_empty());
    }
}
