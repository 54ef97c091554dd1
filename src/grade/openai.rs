//! OpenAI Evals grader definitions as the hosted API takes them (`string_check`,
//! `text_similarity`, `multi`), and their `{{ item.* }}` / `{{ sample.output_text }}` templates.

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
    /// For `cosine` (our extension; the hosted API picks its own).
    #[serde(default = "embedding_model")]
    embedding_model: String,
}

fn half() -> f64 {
    0.5
}

fn embedding_model() -> String {
    "text-embedding-3-small".into()
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
    graders: serde_yaml::Mapping,
    calculate_output: String,
    #[serde(default)]
    range: Option<(f64, f64)>,
    #[serde(default = "half")]
    pass_threshold: f64,
}

impl Multi {
    pub fn parse(src: &Source, path: &str, v: yaml::Value) -> Result<Multi, YamlError> {
        let f: MultiFile = fields(src, v, path)?;
        let mut graders = Vec::new();
        for (k, g) in &f.graders {
            let Some(key) = k.as_str() else {
                return Err(src.error_at(&format!("{path}.graders"), "grader names must be strings"));
            };
            graders.push((key.to_string(), Grader::parse(src, &format!("{path}.graders.{key}"), g)?));
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
    use super::super::tests::{case, grade, grade_async, grade_with, grader, output};
    use super::*;

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
