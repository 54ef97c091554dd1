//! The response cache: model answers keyed by a hash of the request that produced them.

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::{Result, Store, StoreError, micros};

impl Store {
    pub fn cache_get(&self, key: &str) -> Result<Option<Value>> {
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT response FROM response_cache WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
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
        assert_eq!(s.cache_get("k").unwrap(), None);
        s.cache_put("k", &json!({"id": "resp_1"})).unwrap();
        s.cache_put("k", &json!({"id": "resp_2"})).unwrap();
        assert_eq!(s.cache_get("k").unwrap(), Some(json!({"id": "resp_2"})));
    }
}
