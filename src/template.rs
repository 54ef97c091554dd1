//! minijinja templates: one configuration (strict undefined variables, shared filters) for
//! prompt templates, mock replies and graders.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};

pub use minijinja::Error;

/// An environment that refuses undefined variables, optionally loading included templates
/// from `dir`.
pub fn environment(dir: Option<&Path>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("kv_json", kv_json);
    if let Some(dir) = dir {
        env.set_loader(minijinja::path_loader(dir));
    }
    env
}

/// The environment for inline templates (no folder to include from), built once: graders, the
/// mock and tool policies render per result or per request, and building an environment each
/// time cost more than the render.
pub fn inline() -> &'static Environment<'static> {
    static INLINE: std::sync::LazyLock<Environment<'static>> = std::sync::LazyLock::new(|| environment(None));
    &INLINE
}

/// Render an inline template.
pub fn render(env: &Environment, source: &str, ctx: &serde_json::Value) -> Result<String, Error> {
    env.render_str(source, minijinja::Value::from(minijinja::value::Serde(ctx)))
}

/// Parse a template without rendering it, to report syntax errors at load time.
pub fn check(env: &Environment, source: &str) -> Result<(), Error> {
    env.template_from_str(source).map(|_| ())
}

/// A one-line description of a template error, with its detail when minijinja has one.
pub fn describe(err: &Error) -> String {
    match err.detail() {
        Some(d) => format!("{} ({d})", err.kind()),
        None => err.to_string(),
    }
}

/// `"a=1 b=x"` → `{"a": "1", "b": "x"}` as JSON text: builds tool arguments in mock scripts.
fn kv_json(s: String) -> String {
    let map: serde_json::Map<String, serde_json::Value> = s
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn undefined_variables_are_errors() {
        let env = environment(None);
        assert_eq!(render(&env, "Hi {{ name }}", &json!({"name": "Ann"})).unwrap(), "Hi Ann");
        let err = render(&env, "Hi {{ nam }}", &json!({"name": "Ann"})).unwrap_err();
        assert_eq!(err.kind(), minijinja::ErrorKind::UndefinedError);
    }

    #[test]
    fn kv_json_builds_arguments() {
        let env = environment(None);
        let out = render(&env, "{{ a | kv_json }}", &json!({"a": " city=Paris unit=C"})).unwrap();
        assert_eq!(out, r#"{"city":"Paris","unit":"C"}"#);
    }

    #[test]
    fn includes_load_from_the_template_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tone.j2"), "Be {{ tone }}.").unwrap();
        let env = environment(Some(dir.path()));
        let out = render(&env, "{% include 'tone.j2' %} Help.", &json!({"tone": "brief"})).unwrap();
        assert_eq!(out, "Be brief. Help.");
    }
}
