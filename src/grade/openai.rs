//! OpenAI Evals grader definitions as the hosted API takes them (`string_check`,
//! `text_similarity`, `multi`), their `{{ item.* }}` / `{{ sample.* }}` templates, and the
//! load-time check of those templates.

use serde::Deserialize;
use serde_json::Value;

use super::similarity::{self, Metric};
use super::{Edge, Grader, Subject, TEMPLATE_ROOTS, Verdict, did_you_mean, fields};
use crate::template;
use crate::yaml::{self, Source, YamlError};

/// Check a template at load time: it parses, and names only variables graders provide.
pub fn check_template(src: &Source, at: &str, text: &str) -> Result<(), YamlError> {
    let t = template::inline()
        .template_from_str(text)
        .map_err(|e| src.error_at(at, format!("bad template: {}", template::describe(&e))))?;
    let mut unknown: Vec<String> =
        t.undeclared_variables(false).into_iter().filter(|v| !TEMPLATE_ROOTS.contains(&v.as_str())).collect();
    unknown.sort();
    if let Some(v) = unknown.first() {
        return Err(src.error_at(
            at,
            format!(
                "template uses undefined variable `{v}` (known: {}){}",
                TEMPLATE_ROOTS.join(", "),
                did_you_mean(v, TEMPLATE_ROOTS)
            ),
        ));
    }
    Ok(())
}

/// What load-time checks render against: the case's real `item`/`case` values, and a stand-in
/// for each value that only a sample has, so `sample.output_json.name` or
/// `sample.output_tools[0].function.name` pass while `sample.output_txt` or `item.nope` fail.
pub fn load_context(ctx: Value) -> minijinja::Value {
    let Value::Object(top) = ctx else { return minijinja::Value::from(minijinja::value::Serde(ctx)) };
    let per_sample = || minijinja::Value::from_object(PerSample);
    top.into_iter()
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                ("sample", Value::Object(sample)) => minijinja::Value::from(
                    sample
                        .into_iter()
                        .map(|(k, v)| {
                            let v = if k == "output_text" {
                                minijinja::Value::from(minijinja::value::Serde(v))
                            } else {
                                per_sample()
                            };
                            (k, v)
                        })
                        .collect::<std::collections::BTreeMap<_, _>>(),
                ),
                ("tool_calls", _) => per_sample(),
                (_, v) => minijinja::Value::from(minijinja::value::Serde(v)),
            };
            (k, v)
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into()
}

/// Any path into it is defined; it renders empty and iterates as nothing.
#[derive(Debug)]
struct PerSample;

impl minijinja::value::Object for PerSample {
    fn get_value(self: &std::sync::Arc<Self>, _key: &minijinja::Value) -> Option<minijinja::Value> {
        Some(minijinja::Value::from_object(PerSample))
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Empty
    }

    fn render(self: &std::sync::Arc<Self>, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

/// Render a template against a [`load_context`]. Only mistakes in the template itself fail
/// (an undefined name or key, an unknown filter, test or function): what a stand-in does with
/// a filter or an operator is known only per sample.
pub fn check_render(text: &str, ctx: &minijinja::Value) -> Result<(), String> {
    use minijinja::ErrorKind as K;
    match template::inline().render_str(text, ctx.clone()) {
        Err(e)
            if matches!(
                e.kind(),
                K::UndefinedError
                    | K::UnknownFilter
                    | K::UnknownTest
                    | K::UnknownFunction
                    | K::SyntaxError
                    | K::TemplateNotFound
            ) =>
        {
            Err(format!("template fails: {}", template::describe(&e)))
        }
        _ => Ok(()),
    }
}

/// Render a grader template; undefined variables (`item.nope`) are errors.
pub fn render(text: &str, ctx: &Value) -> Result<String, String> {
    template::render(template::inline(), text, ctx).map_err(|e| format!("template fails: {}", template::describe(&e)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Eq,
    Ne,
    /// Contains, case-sensitive.
    Like,
    /// Contains, ignoring case.
    Ilike,
}

#[derive(Debug, Clone)]
pub struct StringCheck {
    input: String,
    reference: String,
    operation: Operation,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StringCheckFile {
    input: String,
    reference: String,
    operation: Operation,
}

impl StringCheck {
    pub fn parse(src: &Source, path: &str, v: yaml::Value) -> Result<StringCheck, YamlError> {
        let f: StringCheckFile = fields(src, v, path)?;
        check_template(src, &format!("{path}.input"), &f.input)?;
        check_template(src, &format!("{path}.reference"), &f.reference)?;
        Ok(StringCheck { input: f.input, reference: f.reference, operation: f.operation })
    }

    pub fn templates(&self) -> Vec<(String, &str)> {
        vec![("input".into(), &self.input), ("reference".into(), &self.reference)]
    }

    pub fn grade(&self, s: &Subject) -> Verdict {
        let ctx = s.context();
        let (input, reference) = match (render(&self.input, &ctx), render(&self.reference, &ctx)) {
            (Ok(i), Ok(r)) => (i, r),
            (Err(e), _) | (_, Err(e)) => return Verdict::error(e),
        };
        let (pass, verb) = match self.operation {
            Operation::Eq => (input == reference, "equals"),
            Operation::Ne => (input != reference, "differs from"),
            Operation::Like => (input.contains(&reference), "contains"),
            Operation::Ilike => (input.to_lowercase().contains(&reference.to_lowercase()), "contains (any case)"),
        };
        let short = |t: &str| crate::text::truncate(t, 80);
        let not = if pass { "" } else { "not: " };
        Verdict::check(pass, format!("{not}{:?} {verb} {:?}", short(&input), short(&reference)))
    }
}

#[derive(Debug, Clone)]
pub struct TextSimilarity {
    input: String,
    reference: String,
    metric: Metric,
    pass_threshold: f64,
    embedding_model: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextSimilarityFile {
    input: String,
    reference: String,
    evaluation_metric: Metric,
    #[serde(default = "half")]
    pass_threshold: f64,
    /// For `cosine` (our extension): the hosted API uses `text-embedding-3-large`.
    #[serde(default = "embedding_model")]
    embedding_model: String,
}

fn half() -> f64 {
    0.5
}

fn embedding_model() -> String {
    "text-embedding-3-large".into()
}

impl TextSimilarity {
    pub fn parse(src: &Source, path: &str, v: yaml::Value) -> Result<TextSimilarity, YamlError> {
        let f: TextSimilarityFile = fields(src, v, path)?;
        check_template(src, &format!("{path}.input"), &f.input)?;
        check_template(src, &format!("{path}.reference"), &f.reference)?;
        if !(0.0..=1.0).contains(&f.pass_threshold) {
            return Err(src.error_at(&format!("{path}.pass_threshold"), "pass_threshold must be between 0 and 1"));
        }
        Ok(TextSimilarity {
            input: f.input,
            reference: f.reference,
            metric: f.evaluation_metric,
            pass_threshold: f.pass_threshold,
            embedding_model: f.embedding_model,
        })
    }

    pub fn templates(&self) -> Vec<(String, &str)> {
        vec![("input".into(), &self.input), ("reference".into(), &self.reference)]
    }

    pub fn needs_io(&self) -> bool {
        self.metric == Metric::Cosine
    }

    fn texts(&self, s: &Subject) -> Result<(String, String), String> {
        let ctx = s.context();
        Ok((render(&self.input, &ctx)?, render(&self.reference, &ctx)?))
    }

    fn verdict(&self, score: f64) -> Verdict {
        let metric =
            serde_json::to_value(self.metric).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        Verdict::new(
            score,
            score + 1e-9 >= self.pass_threshold,
            format!("{metric} {score:.3} (pass_threshold {})", self.pass_threshold),
        )
    }

    pub fn grade_pure(&self, s: &Subject) -> Verdict {
        match self.texts(s) {
            Ok((i, r)) => self.verdict(similarity::score(self.metric, &i, &r)),
            Err(e) => Verdict::error(e),
        }
    }

    pub async fn grade_io(&self, s: &Subject<'_>, edge: Option<&Edge>) -> Verdict {
        let (i, r) = match self.texts(s) {
            Ok(t) => t,
            Err(e) => return Verdict::error(e),
        };
        let Some(edge) = edge else { return Verdict::error("cosine needs the run's embeddings endpoint") };
        match edge.embed(&self.embedding_model, &[i, r]).await {
            Ok(v) if v.len() == 2 => self.verdict(cosine(&v[0], &v[1]).max(0.0)),
            Ok(_) => Verdict::error("embeddings endpoint answered the wrong number of vectors"),
            Err(e) => Verdict::error(format!("embeddings call failed: {e}")),
        }
    }
}

pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

/// `multi`: named graders combined by a `calculate_output` formula over their scores.
#[derive(Debug, Clone)]
pub struct Multi {
    graders: Vec<(String, Grader)>,
    formula: Expr,
    source: String,
    range: (f64, f64),
    pass_threshold: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MultiFile {
    /// Keyed by the names the formula uses, or a list whose graders' `name`s are those names.
    graders: yaml::Value,
    calculate_output: String,
    #[serde(default)]
    range: Option<(f64, f64)>,
    #[serde(default = "half")]
    pass_threshold: f64,
}

impl Multi {
    pub fn parse(src: &Source, path: &str, v: yaml::Value) -> Result<Multi, YamlError> {
        let f: MultiFile = fields(src, v, path)?;
        let mut graders: Vec<(String, Grader)> = Vec::new();
        match &f.graders {
            yaml::Value::Mapping(map) => {
                for (k, g) in map {
                    let Some(key) = k.as_str() else {
                        return Err(src.error_at(&format!("{path}.graders"), "grader names must be strings"));
                    };
                    graders.push((key.to_string(), Grader::parse(src, &format!("{path}.graders.{key}"), g)?));
                }
            }
            yaml::Value::Sequence(list) => {
                for (i, g) in list.iter().enumerate() {
                    let at = format!("{path}.graders[{i}]");
                    if g.get("name").and_then(yaml::Value::as_str).is_none() {
                        return Err(src.error_at(&at, "a listed grader needs a `name`: calculate_output refers to it"));
                    }
                    let g = Grader::parse(src, &at, g)?;
                    if graders.iter().any(|(k, _)| *k == g.name) {
                        return Err(src.error_at(&format!("{at}.name"), format!("two graders are named {:?}", g.name)));
                    }
                    graders.push((g.name.clone(), g));
                }
            }
            _ => {
                return Err(src.error_at(
                    &format!("{path}.graders"),
                    "graders must be a mapping of names to graders, or a list of named graders",
                ));
            }
        }
        if graders.is_empty() {
            return Err(src.error_at(&format!("{path}.graders"), "multi needs at least one grader"));
        }
        let names: Vec<&str> = graders.iter().map(|(k, _)| k.as_str()).collect();
        let formula = parse_formula(&f.calculate_output, &names)
            .map_err(|e| src.error_at(&format!("{path}.calculate_output"), e))?;
        let range = f.range.unwrap_or((0.0, 1.0));
        if range.1 <= range.0 {
            return Err(src.error_at(&format!("{path}.range"), "range must be [low, high] with low < high"));
        }
        Ok(Multi { graders, formula, source: f.calculate_output, range, pass_threshold: f.pass_threshold })
    }

    pub fn check_case(&self, s: &Subject) -> Result<(), (String, String)> {
        self.graders.iter().try_for_each(|(_, g)| g.check_case(s))
    }

    pub async fn grade(&self, s: &Subject<'_>, edge: Option<&Edge>) -> Verdict {
        let mut scores = Vec::with_capacity(self.graders.len());
        let mut cost: Option<f64> = None;
        for (key, g) in &self.graders {
            let v = g.verdict(s, edge).await;
            if let Some(c) = v.cost_usd {
                cost = Some(cost.unwrap_or(0.0) + c);
            }
            if v.error {
                return Verdict { cost_usd: cost, ..Verdict::error(format!("{key}: {}", v.reason)) };
            }
            scores.push(v.score);
        }
        let value = self.formula.eval(&scores);
        if !value.is_finite() {
            return Verdict::error(format!("calculate_output {:?} gave {value}", self.source));
        }
        let (lo, hi) = self.range;
        let parts: Vec<String> = self.graders.iter().zip(&scores).map(|((k, _), s)| format!("{k} {s:.3}")).collect();
        let mut v = Verdict::new(
            (value - lo) / (hi - lo),
            value + 1e-9 >= self.pass_threshold,
            format!("{} = {value:.3} ({}; pass_threshold {})", self.source, parts.join(", "), self.pass_threshold),
        );
        v.cost_usd = cost;
        v
    }
}

/// An arithmetic formula over named scores.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(usize),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

const FUNCTIONS: &[&str] = &["min", "max", "abs", "floor", "ceil", "round", "exp", "sqrt", "log"];

impl Expr {
    pub fn eval(&self, vars: &[f64]) -> f64 {
        match self {
            Expr::Num(n) => *n,
            Expr::Var(i) => vars[*i],
            Expr::Neg(e) => -e.eval(vars),
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.eval(vars), b.eval(vars));
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    '/' => a / b,
                    _ => a.powf(b),
                }
            }
            Expr::Call(f, args) => {
                let v: Vec<f64> = args.iter().map(|a| a.eval(vars)).collect();
                match f.as_str() {
                    "min" => v.iter().copied().fold(f64::INFINITY, f64::min),
                    "max" => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    "abs" => v[0].abs(),
                    "floor" => v[0].floor(),
                    "ceil" => v[0].ceil(),
                    "round" => v[0].round(),
                    "exp" => v[0].exp(),
                    "sqrt" => v[0].sqrt(),
                    _ => v[0].ln(),
                }
            }
        }
    }
}

/// Parse `0.5 * a + 0.5 * min(b, 1)`; every name must be one of `names` or a function.
pub fn parse_formula(text: &str, names: &[&str]) -> Result<Expr, String> {
    let mut p = Parser { s: text.as_bytes(), i: 0, names };
    let e = p.expr()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(format!("unexpected {:?} at column {} of the formula", p.s[p.i] as char, p.i + 1));
    }
    Ok(e)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    names: &'a [&'a str],
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut e = self.term()?;
        loop {
            if self.eat(b'+') {
                e = Expr::Bin('+', Box::new(e), Box::new(self.term()?));
            } else if self.eat(b'-') {
                e = Expr::Bin('-', Box::new(e), Box::new(self.term()?));
            } else {
                return Ok(e);
            }
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut e = self.power()?;
        loop {
            if self.eat(b'*') {
                e = Expr::Bin('*', Box::new(e), Box::new(self.power()?));
            } else if self.eat(b'/') {
                e = Expr::Bin('/', Box::new(e), Box::new(self.power()?));
            } else {
                return Ok(e);
            }
        }
    }

    fn power(&mut self) -> Result<Expr, String> {
        let base = self.unary()?;
        if self.eat(b'^') {
            return Ok(Expr::Bin('^', Box::new(base), Box::new(self.power()?)));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat(b'-') {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, String> {
        self.ws();
        let start = self.i;
        let Some(&c) = self.s.get(self.i) else { return Err("the formula ends too early".into()) };
        if c == b'(' {
            self.i += 1;
            let e = self.expr()?;
            return if self.eat(b')') { Ok(e) } else { Err("missing `)`".into()) };
        }
        if c.is_ascii_digit() || c == b'.' {
            while self.s.get(self.i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
                self.i += 1;
            }
            let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
            return t.parse().map(Expr::Num).map_err(|_| format!("bad number {t:?}"));
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                self.i += 1;
            }
            let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default().to_string();
            if self.eat(b'(') {
                if !FUNCTIONS.contains(&name.as_str()) {
                    return Err(format!(
                        "unknown function `{name}` (known: {}){}",
                        FUNCTIONS.join(", "),
                        did_you_mean(&name, FUNCTIONS)
                    ));
                }
                let mut args = vec![self.expr()?];
                while self.eat(b',') {
                    args.push(self.expr()?);
                }
                if !self.eat(b')') {
                    return Err(format!("missing `)` after the arguments of {name}"));
                }
                return Ok(Expr::Call(name, args));
            }
            return match self.names.iter().position(|n| *n == name) {
                Some(i) => Ok(Expr::Var(i)),
                None => Err(format!(
                    "`{name}` is not one of the graders ({}){}",
                    self.names.join(", "),
                    did_you_mean(&name, self.names)
                )),
            };
        }
        Err(format!("unexpected {:?} at column {} of the formula", c as char, self.i + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Kind;
    use super::super::tests::{case, grade, grade_async, grade_with, grader, output};
    use super::*;
    use crate::dataset::Case;
    use crate::record::Output;
    use crate::trace::Usage;
    use serde_json::json;

    #[test]
    fn formulas() {
        let f = parse_formula("0.5 * a + 0.5 * min(b, 0.4) - -1", &["a", "b"]).unwrap();
        assert!((f.eval(&[1.0, 1.0]) - 1.7).abs() < 1e-9);
        assert!((parse_formula("2 ^ 3 ^ 2 / (a + 1)", &["a"]).unwrap().eval(&[1.0]) - 256.0).abs() < 1e-9);
        let err = parse_formula("0.5 * acurate", &["accurate"]).unwrap_err();
        assert!(err.contains("did you mean \"accurate\""), "{err}");
        assert!(parse_formula("avg(a)", &["a"]).unwrap_err().contains("unknown function `avg`"));
        assert!(parse_formula("(a", &["a"]).is_err());
    }

    // Definitions as the OpenAI graders guide writes them.
    #[test]
    fn string_check_as_openai_documents_it() {
        let mut c = case("x");
        c.source.metadata = Some(serde_json::from_str(r#"{"reference_answer": "Paris"}"#).unwrap());
        let def = r#"{"type": "string_check", "name": "Example string check grader", "input": "{{ sample.output_text }}", "reference": "{{ item.reference_answer }}", "operation": "eq"}"#;
        assert!(grade_with(def, &c, &output("Paris", &[])).pass);
        assert!(!grade_with(def, &c, &output("paris", &[])).pass);
        let ilike = def.replace("\"eq\"", "\"ilike\"");
        assert!(grade_with(&ilike, &c, &output("it is PARIS", &[])).pass);
        let like = def.replace("\"eq\"", "\"like\"");
        assert!(!grade_with(&like, &c, &output("it is PARIS", &[])).pass);
        let ne = def.replace("\"eq\"", "\"ne\"");
        assert!(grade_with(&ne, &c, &output("Rome", &[])).pass);
        // The item has no such key: an error, not a failure.
        let v = grade_with(&def.replace("reference_answer", "answer"), &c, &output("Paris", &[]));
        assert!(v.error && v.reason.contains("undefined"), "{v:?}");
    }

    #[test]
    fn text_similarity_as_openai_documents_it() {
        let def = r#"{"type": "text_similarity", "name": "Example text similarity grader", "input": "{{ sample.output_text }}", "reference": "{{ item.recorded_output }}", "pass_threshold": 0.8, "evaluation_metric": "fuzzy_match"}"#;
        let v = grade(def, "Sunny in Paris!", &[]);
        assert!(v.pass && (v.score - 28.0 / 29.0).abs() < 1e-9, "{v:?}");
        let rouge = def.replace("fuzzy_match", "rouge_l");
        // LCS of [paris, sunny] and [sunny, in, paris] is 1: P 1/2, R 1/3.
        assert!((grade(&rouge, "Paris: sunny", &[]).score - 0.4).abs() < 1e-9);
        let same = def.replace("{{ item.recorded_output }}", "{{ sample.output_text }}");
        for m in ["bleu", "gleu", "meteor", "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l"] {
            let v = grade(&same.replace("fuzzy_match", m), "It is sunny and warm in Paris today", &[]);
            assert!(v.pass && v.score > 0.99, "{m}: {v:?}");
        }
    }

    #[tokio::test]
    async fn multi_as_openai_documents_it() {
        let def = r#"graders:
  - type: multi
    name: example multi grader
    graders:
      name:
        name: name_grader
        type: text_similarity
        input: "{{ sample.output_text }}"
        reference: "{{ item.recorded_output }}"
        evaluation_metric: fuzzy_match
      city:
        name: city_grader
        type: string_check
        input: "{{ sample.output_text }}"
        reference: Paris
        operation: like
    calculate_output: "(name + city) / 2"
"#;
        let v = grade_async(def, "Sunny in Paris").await;
        assert!(v.pass && v.score == 1.0, "{v:?}");
        let v = grade_async(def, "Rain").await;
        assert!(!v.pass && v.score < 0.5, "{v:?}");
        assert!(v.reason.starts_with("(name + city) / 2 = "), "{}", v.reason);
        let err = grader(&def.replace("(name + city) / 2", "nam + city")).unwrap_err().to_string();
        assert!(err.contains("graders[0].calculate_output:") && err.contains("did you mean \"name\""), "{err}");
    }

    /// A case whose trace metadata gives `item` these keys.
    fn case_with(item: Value) -> Case {
        let mut c = case("x");
        c.source.metadata = Some(serde_json::from_value(item).unwrap());
        c
    }

    /// Parse a grader and run the suite's load-time check on it (a sample-less subject), as
    /// `Suite::check_graders` does for every case.
    fn load(def: &str, c: &Case) -> Result<Grader, String> {
        let g = grader(def).map_err(|e| e.to_string())?;
        let (out, usage) = (Output::default(), Usage::default());
        let s = Subject { case: c, output: &out, turns: 0, latency_ms: 0, usage: &usage, cost_usd: None };
        g.check_case(&s).map_err(|(path, msg)| format!("{path}: {msg}"))?;
        Ok(g)
    }

    async fn verdict(g: &Grader, c: &Case, out: &Output) -> Verdict {
        let usage = Usage::default();
        let s = Subject { case: c, output: out, turns: 1, latency_ms: 1, usage: &usage, cost_usd: None };
        g.verdict(&s, None).await
    }

    /// The request a judge (alone, or the named one inside a multi) would send.
    fn judge_request(g: &Grader, inner: Option<&str>, c: &Case, out: &Output) -> Value {
        let kind = match (&g.kind, inner) {
            (Kind::Multi(m), Some(k)) => &m.graders.iter().find(|(n, _)| n == k).unwrap().1.kind,
            (k, _) => k,
        };
        let Kind::Judge(j) = kind else { panic!("not a judge") };
        let usage = Usage::default();
        j.request(&Subject { case: c, output: out, turns: 1, latency_ms: 1, usage: &usage, cost_usd: None }).unwrap()
    }

    // https://developers.openai.com/api/docs/guides/graders ("Details on grading tool calls"),
    // verbatim.
    const GUIDE_TOOL_CALLS: &str = r#"{
  "type": "multi",
  "graders": {
    "function_name": {
      "name": "function_name",
      "type": "string_check",
      "input": "get_acceptors",
      "reference": "{{sample.output_tools[0].function.name}}",
      "operation": "eq"
    },
    "arguments": {
      "name": "arguments",
      "type": "string_check",
      "input": "{\"smiles\": \"{{item.smiles}}\"}",
      "reference": "{{sample.output_tools[0].function.arguments}}",
      "operation": "eq"
    }
  },
  "calculate_output": "0.5 * function_name + 0.5 * arguments"
}"#;

    #[tokio::test]
    async fn guide_tool_call_grader_verbatim() {
        let c = case_with(json!({"smiles": "CCO"}));
        let g = load(GUIDE_TOOL_CALLS, &c).unwrap();
        let v = verdict(&g, &c, &output("", &[("get_acceptors", r#"{"smiles": "CCO"}"#)])).await;
        assert!(v.pass && v.score == 1.0, "{v:?}");
        let v = verdict(&g, &c, &output("", &[("get_acceptors", r#"{"smiles": "CCC"}"#)])).await;
        assert!(v.score == 0.5, "{v:?}");
        let v = verdict(&g, &c, &output("", &[("get_donors", r#"{"smiles": "CCO"}"#)])).await;
        assert!(v.score == 0.5, "{v:?}");
        // No call at all: `output_tools[0]` is undefined for this sample, a grader error.
        assert!(verdict(&g, &c, &output("", &[])).await.error);
        // A case without `smiles` is refused at load, naming the template.
        let err = load(GUIDE_TOOL_CALLS, &case("x")).unwrap_err();
        assert!(err.starts_with("graders[0].graders.arguments.input: template fails"), "{err}");
    }

    // https://developers.openai.com/api/docs/guides/graders ("Combined graders"), verbatim; the
    // suite test in tests/graders.rs pastes the same file.
    const GUIDE_MULTI: &str = include_str!("../../tests/fixtures/graders/openai-guide-multi.json");

    #[tokio::test]
    async fn guide_multigrader_over_output_json_verbatim() {
        let c = case_with(json!({"name": "John Doe", "email": "john.doe@gmail.com"}));
        let g = load(GUIDE_MULTI, &c).unwrap();
        let right = output(r#"{"name": "John Doe", "email": "john.doe@gmail.com"}"#, &[]);
        let v = verdict(&g, &c, &right).await;
        assert!(v.pass && v.score == 1.0, "{v:?}");
        // "Samples that get the email wrong will score between 0-0.5, and samples that get the
        // email right will score between 0.5-1.0."
        let misspelt = verdict(&g, &c, &output(r#"{"name": "Jon Doe", "email": "john.doe@gmail.com"}"#, &[])).await;
        let want = (crate::text::fuzzy_ratio("Jon Doe", "John Doe") + 1.0) / 2.0;
        assert!((misspelt.score - want).abs() < 1e-9 && misspelt.score > 0.5, "{misspelt:?}");
        let wrong = verdict(&g, &c, &output(r#"{"name": "John Doe", "email": "jd@gmail.com"}"#, &[])).await;
        assert!(wrong.score == 0.5 && !wrong.error, "{wrong:?}");
        // A misspelt sample key is still caught at load.
        let err = load(&GUIDE_MULTI.replace("sample.output_json.email", "sample.output_jsn.email"), &c).unwrap_err();
        assert!(err.contains("graders.email.input: template fails") && err.contains("undefined"), "{err}");
    }

    // https://developers.openai.com/api/docs/guides/graders ("Score model graders"): the
    // runnable sample's grader dict, as JSON.
    const GUIDE_SCORE_MODEL: &str = r#"{
    "type": "score_model",
    "name": "my_score_model",
    "input": [
        {
            "role": "system",
            "content": "You are an expert grader. If the reference and model answer are exact matches, output a score of 1. If they are somewhat similar in meaning, output a score in 0.5. Otherwise, give a score of 0."
        },
        {
            "role": "user",
            "content": "Reference: {{ item.reference_answer }}. Model answer: {{ sample.output_text }}"
        }
    ],
    "pass_threshold": 0.5,
    "model": "o4-mini-2025-04-16",
    "range": [0, 1],
    "sampling_params": {
        "max_completions_tokens": 32768,
        "top_p": 1,
        "reasoning_effort": "medium"
    }
}"#;

    // https://developers.openai.com/api/docs/guides/reinforcement-fine-tuning (the grader
    // configuration tab), verbatim.
    const RFT_GUIDE_MULTI: &str = r#"{
  "type": "multi",
  "graders": {
    "explanation": {
      "name": "Explanation text grader",
      "type": "score_model",
      "input": [
        {
          "role": "user",
          "type": "message",
          "content": "...see other tab for the full prompt..."
        }
      ],
      "model": "gpt-4o-2024-08-06"
    },
    "compliant": {
      "name": "compliant",
      "type": "string_check",
      "reference": "{{item.compliant}}",
      "operation": "eq",
      "input": "{{sample.output_json.compliant}}"
    }
  },
  "calculate_output": "0.5 * compliant + 0.5 * explanation"
}"#;

    // https://developers.openai.com/cookbook/examples/evaluation/use-cases/structured-outputs-evaluation
    // (the `testing_criteria` of "Code QA Eval", with its two prompt strings inlined), as JSON.
    const COOKBOOK_CODE_QA: &str = r#"{
    "type": "score_model",
    "name": "General Evaluator",
    "model": "o3",
    "input": [
        {"role": "system", "content": "\nYou are a helpful assistant that grades the quality of extracted information from a code file.\nYou will be given a code file and a list of extracted information.\nYou should grade the quality of the extracted information.\n\nYou should grade the quality on a scale of 1 to 7.\nYou should apply the following criteria, and calculate your score as follows:\nYou should first check for completeness on a scale of 1 to 7.\nThen you should apply a quality modifier.\n\nThe quality modifier is a multiplier from 0 to 1 that you multiply by the completeness score.\nIf there is 100% coverage for completion and it is all high quality, then you would return 7*1.\nIf there is 100% coverage for completion but it is all low quality, then you would return 7*0.5.\netc.\n"},
        {"role": "user", "content": "\n<Code File>\n{{item.input}}\n</Code File>\n\n<Extracted Information>\n{{sample.output_json.symbols}}\n</Extracted Information>\n"}
    ],
    "range": [1, 7],
    "pass_threshold": 5.5
}"#;

    // The same cookbook page, "Use Case 2: Multi-lingual Sentiment Extraction", as JSON.
    const COOKBOOK_SENTIMENT: &str = r#"{
    "type": "score_model",
    "name": "Sentiment Grader",
    "model": "o3",
    "input": [
        {"role": "system", "content": "You are a strict grader for sentiment extraction.\nGiven the text and the model's JSON output, score correctness on a 1-5 scale."},
        {"role": "user",   "content": "Text: {{item.text}}\nModel output:\n{{sample.output_json}}\n"}
    ],
    "range": [1, 5],
    "pass_threshold": 3.5
}"#;

    #[test]
    fn model_graders_from_the_guides_and_cookbook_load_and_render() {
        let c = case_with(json!({"reference_answer": 1.0, "compliant": "yes"}));
        let g = load(GUIDE_SCORE_MODEL, &c).unwrap();
        let body = judge_request(&g, None, &c, &output("0.9", &[]));
        assert_eq!(body["input"][1]["content"], "Reference: 1.0. Model answer: 0.9");
        assert_eq!((body["model"].clone(), body["top_p"].clone()), (json!("o4-mini-2025-04-16"), json!(1)));

        let g = load(RFT_GUIDE_MULTI, &c).unwrap();
        let body = judge_request(&g, Some("explanation"), &c, &output(r#"{"compliant": "yes"}"#, &[]));
        assert_eq!(body["input"][0]["content"], "...see other tab for the full prompt...");
        let Kind::Multi(m) = &g.kind else { panic!() };
        let compliant = &m.graders.iter().find(|(k, _)| k == "compliant").unwrap().1;
        let usage = Usage::default();
        let out = output(r#"{"compliant": "yes", "explanation": "…"}"#, &[]);
        let s = Subject { case: &c, output: &out, turns: 1, latency_ms: 1, usage: &usage, cost_usd: None };
        assert!(compliant.grade_pure(&s).unwrap().pass);

        let mut c = case_with(json!({}));
        c.input.items = vec![json!({"role": "user", "content": "class OpenAI: ..."})];
        let g = load(COOKBOOK_CODE_QA, &c).unwrap();
        let out = output(r#"{"symbols": [{"name": "OpenAI", "symbol_type": "class"}]}"#, &[]);
        let body = judge_request(&g, None, &c, &out);
        let prompt = body["input"][1]["content"].as_str().unwrap();
        assert!(prompt.contains("<Code File>\nclass OpenAI: ...\n</Code File>"), "{prompt}");
        // A list renders as a Jinja list does.
        assert!(prompt.contains("[{'name': 'OpenAI', 'symbol_type': 'class'}]"), "{prompt}");

        let c = case_with(json!({"text": "总体来说，我对这款产品很满意。", "channel": "wechat", "language": "zh"}));
        let g = load(COOKBOOK_SENTIMENT, &c).unwrap();
        let out = output(r#"{"sentiment": "positive", "confidence": 0.9, "emotions": ["joy"]}"#, &[]);
        let body = judge_request(&g, None, &c, &out);
        let prompt = body["input"][1]["content"].as_str().unwrap();
        assert!(prompt.starts_with("Text: 总体来说，我对这款产品很满意。\nModel output:\n{"), "{prompt}");
        assert!(prompt.contains("'sentiment': 'positive'"), "{prompt}");
    }

    #[tokio::test]
    async fn content_parts_and_listed_multi_graders() {
        // Content as an array of parts, as the API reference allows.
        let def = r#"{"type": "score_model", "name": "parts", "model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": "Answer: {{ sample.output_text }}"}, {"type": "input_text", "text": "Ideal: {{ item.ideal }}"}]}, {"role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}]}"#;
        let c = case_with(json!({"ideal": "Paris"}));
        let g = load(def, &c).unwrap();
        let body = judge_request(&g, None, &c, &output("Lyon", &[]));
        assert_eq!(
            body["input"][0]["content"],
            json!([{"type": "input_text", "text": "Answer: Lyon"}, {"type": "input_text", "text": "Ideal: Paris"}])
        );
        assert_eq!(body["input"][1]["content"], json!([{"type": "output_text", "text": "ok"}]));
        let err = load(&def.replace("item.ideal", "item.ideel"), &c).unwrap_err();
        assert!(err.starts_with("graders[0].input[0].content[1].text: template fails"), "{err}");
        let image = r#"{"type": "score_model", "name": "i", "model": "m", "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}]}"#;
        let err = grader(image).unwrap_err().to_string();
        assert!(err.contains("graders[0].input[0].content[0]: a content part must be text"), "{err}");

        // `graders` as a list of named graders.
        let listed = r#"graders:
  - type: multi
    name: listed
    graders:
      - {name: city, type: string_check, input: "{{ sample.output_text }}", reference: Paris, operation: like}
      - {name: short, type: text_similarity, input: "{{ sample.output_text }}", reference: "Paris", evaluation_metric: fuzzy_match}
    calculate_output: "0.5 * city + 0.5 * short"
"#;
        let g = load(listed, &c).unwrap();
        let v = verdict(&g, &c, &output("Paris", &[])).await;
        assert!(v.pass && v.score == 1.0, "{v:?}");
        let err = grader(&listed.replace("name: short, ", "")).unwrap_err().to_string();
        assert!(err.contains("graders[0].graders[1]: a listed grader needs a `name`"), "{err}");
        let err = grader(&listed.replace("name: short", "name: city")).unwrap_err().to_string();
        assert!(err.contains("graders[0].graders[1].name: two graders are named \"city\""), "{err}");
    }

    #[test]
    fn load_checks_accept_per_sample_paths_and_catch_misspellings() {
        let c = case_with(json!({"answer": "Paris", "nested": {"city": "Paris"}}));
        let check = |input: &str| {
            load(&format!(r#"{{"type": "string_check", "name": "x", "input": "{input}", "reference": "a", "operation": "eq"}}"#), &c)
                .map(|_| ())
        };
        for fine in [
            "{{ sample.output_json.a.b[3].c }}",
            "{{ sample.output_tools[0].function.arguments }}",
            "{% for t in sample.output_tools %}{{ t.function.name }}{% endfor %}",
            "{{ sample.output_json.score | round }}",
            "{% if sample.output_json.ok > 1 %}y{% endif %}",
            "{{ tool_calls[0].name }}",
            "{{ item.nested.city }} {{ item.answer | lower }}",
        ] {
            assert!(check(fine).is_ok(), "{fine}: {:?}", check(fine));
        }
        for (bad, says) in [
            ("{{ item.answr }}", "undefined"),
            ("{{ item.nested.town }}", "undefined"),
            ("{{ sample.output_txt }}", "undefined"),
            ("{{ item.answer | shout }}", "unknown filter"),
        ] {
            let err = check(bad).unwrap_err();
            assert!(err.starts_with("graders[0].input: template fails") && err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn output_tools_have_openai_s_shape() {
        let c = case("x");
        let out = output("", &[("get_weather", r#"{"city":"Paris"}"#), ("book", "{}")]);
        let usage = Usage::default();
        let s = Subject { case: &c, output: &out, turns: 1, latency_ms: 1, usage: &usage, cost_usd: None };
        assert_eq!(
            s.context()["sample"]["output_tools"],
            json!([
                {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_1", "type": "function", "function": {"name": "book", "arguments": "{}"}},
            ])
        );
    }

    #[test]
    fn templates_are_checked_at_load() {
        let err = grader(r#"{"type": "string_check", "name": "x", "input": "{{ smple.output_text }}", "reference": "a", "operation": "eq"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.yaml:2:") && err.contains("graders[0].input: template uses undefined variable `smple`"),
            "{err}"
        );
        assert!(err.contains("did you mean \"sample\""), "{err}");
        let err = grader(r#"{"type": "string_check", "name": "x", "input": "{{ sample.output_text", "reference": "a", "operation": "eq"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("graders[0].input: bad template"), "{err}");
        let err =
            grader(r#"{"type": "string_check", "name": "x", "input": "a", "reference": "a", "operation": "equal"}"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("graders[0].operation: unknown variant `equal`"), "{err}");
    }
}
