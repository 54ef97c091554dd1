//! The response cache: model answers keyed by a hash of the request that produced them.

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::{Result, Store, StoreError, micros};

impl Store {
    /// The cached answer, when there is one written at or after `since` (any age without it).
    pub fn cache_get(&self, key: &str, since: Option<chrono::DateTime<chrono::Utc>>) -> Result<Option<Value>> {
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT response FROM response_cache WHERE key = ?1 AND created_at >= ?2")?
            .query_row(params![key, since.map_or(i64::MIN, micros)], |r| r.get(0))
            .optional()?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("cached response {key}: {e}"))))
            .transpose()
    }

    pub fn cache_put(&mut self, key: &str, response: &Value) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO response_cache (key, response, created_at) VALUES (?1, ?2, ?3)")?
            .execute(params![key, response.to_string(), micros(chrono::Utc::now())])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        assert_eq!(s.cache_get("k", None).unwrap(), None);
        s.cache_put("k", &json!({"id": "resp_1"})).unwrap();
        s.cache_put("k", &json!({"id": "resp_2"})).unwrap();
        assert_eq!(s.cache_get("k", None).unwrap(), Some(json!({"id": "resp_2"})));
        let hour = chrono::Duration::hours(1);
        assert!(s.cache_get("k", Some(chrono::Utc::now() - hour)).unwrap().is_some(), "fresh enough");
        assert_eq!(s.cache_get("k", Some(chrono::Utc::now() + hour)).unwrap(), None, "too old");
    }
}
