//! Query parameters: every name a route does not take is refused, every bad value is named,
//! and cursors are opaque strings the API gave out.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;

use super::error::ApiError;
use crate::store::{TraceFilter, TraceStatus};
use crate::text::{parse_meta, parse_when};

/// A route's decoded query string, checked against the names it takes.
pub struct Params(Vec<(String, String)>);

/// The filters of `GET /traces` and `GET /traces/stats`.
pub const TRACE_FILTERS: &[&str] =
    &["model", "provider", "workflow", "agent", "status", "group", "meta", "since", "until", "q"];

impl Params {
    pub fn new(
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
        allowed: &[&str],
    ) -> Result<Params, ApiError> {
        let Query(pairs) = query.map_err(|e| ApiError::bad("query", e.body_text()))?;
        if let Some((name, _)) = pairs.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
            return Err(ApiError::UnknownParameter { name: name.clone(), allowed: allowed.join(", ") });
        }
        Ok(Params(pairs))
    }

    /// The value of a parameter given at most once; empty counts as absent.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.0.iter().filter(|(n, v)| n == name && !v.is_empty());
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(ApiError::bad(name, "given more than once"));
        }
        Ok(first)
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0.iter().filter(move |(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self.one(name)?.map(str::to_string))
    }

    /// `limit`, between 1 and `max`.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.one("limit")? {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::bad("limit", format!("{v:?} is not a number from 1 to {max}"))),
            },
        }
    }

    /// One of `choices`.
    pub fn choice<'a>(&self, name: &str, choices: &[&'a str]) -> Result<Option<&'a str>, ApiError> {
        match self.one(name)? {
            None => Ok(None),
            Some(v) => choices
                .iter()
                .find(|c| **c == v)
                .map(|c| Some(*c))
                .ok_or_else(|| ApiError::bad(name, format!("{v:?} is not one of {}", choices.join(", ")))),
        }
    }

    /// The filter the parameters of `traces list` describe.
    pub fn trace_filter(&self) -> Result<TraceFilter, ApiError> {
        let when = |name: &str| -> Result<_, ApiError> {
            self.one(name)?.map(|v| parse_when(v).map_err(|e| ApiError::bad(name, e))).transpose()
        };
        let status = self.choice("status", &["ok", "error"])?.map(|s| match s {
            "ok" => TraceStatus::Ok,
            _ => TraceStatus::Error,
        });
        let meta =
            self.all("meta").map(|m| parse_meta(m).map_err(|e| ApiError::bad("meta", e))).collect::<Result<_, _>>()?;
        Ok(TraceFilter {
            since: when("since")?,
            until: when("until")?,
            workflow: self.string("workflow")?,
            agent: self.string("agent")?,
            model: self.string("model")?,
            provider: self.string("provider")?,
            group: self.string("group")?,
            status,
            search: self.string("q")?,
            meta,
            limit: None,
            after: None,
        })
    }

    /// The parts of a cursor of `kind` (`cursor=`), as the route encoded them.
    pub fn cursor(&self, kind: &str) -> Result<Option<Vec<String>>, ApiError> {
        let Some(raw) = self.one("cursor")? else { return Ok(None) };
        decode(raw, kind).map(Some).ok_or(ApiError::BadCursor { parameter: "cursor" })
    }
}

/// An opaque cursor: the kind and the parts, hex-encoded so that it survives any URL.
pub fn encode(kind: &str, parts: &[&str]) -> String {
    let mut text = kind.to_string();
    for p in parts {
        text.push('\u{1f}');
        text.push_str(p);
    }
    hex::encode(text)
}

fn decode(raw: &str, kind: &str) -> Option<Vec<String>> {
    let text = String::from_utf8(hex::decode(raw).ok()?).ok()?;
    let mut parts = text.split('\u{1f}');
    (parts.next()? == kind).then(|| parts.map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_kinds() {
        let c = encode("t", &["1700", "trace_a b"]);
        assert_eq!(decode(&c, "t").unwrap(), ["1700", "trace_a b"]);
        assert!(decode(&c, "r").is_none());
        assert!(decode("zz", "t").is_none());
    }
}
