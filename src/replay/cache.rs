//! The response cache as replay sees it: a model answer is looked up by a hash of the provider,
//! the exact request body and the repeat index, so a re-run never pays twice for the same
//! answer while each repeat still samples the model afresh; entries older than the suite's
//! `cache: {ttl}` are misses.

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::store::{Handle, StoreError};

#[derive(Clone)]
pub struct Cache {
    store: Handle,
    /// Entries older than this are misses (`cache: {ttl: 7d}`).
    ttl: Option<Duration>,
}

impl Cache {
    pub fn new(store: Handle, ttl: Option<Duration>) -> Cache {
        Cache { store, ttl }
    }

    /// The provider (base URL and API flavour) and the body carry everything that shapes the
    /// answer (model, rendered instructions, input, tools, params); the repeat index keeps the K
    /// samples of a case apart.
    pub fn key(provider: &str, body: &Value, repeat: u32) -> String {
        let mut h = Sha256::new();
        h.update(provider.as_bytes());
        h.update([0]);
        h.update(body.to_string().as_bytes());
        h.update(repeat.to_le_bytes());
        format!("sha256:{}", hex::encode(h.finalize()))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Value>, StoreError> {
        let key = key.to_string();
        let since = self.ttl.and_then(|t| chrono::Duration::from_std(t).ok()).map(|t| chrono::Utc::now() - t);
        self.store.call(move |s| s.cache_get(&key, since)).await
    }

    pub async fn put(&self, key: &str, response: &Value) -> Result<(), StoreError> {
        let (key, response) = (key.to_string(), response.clone());
        self.store.call(move |s| s.cache_put(&key, &response)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_change_with_the_request_and_the_repeat() {
        let a = json!({"model": "m", "input": "hi"});
        let b = json!({"model": "m2", "input": "hi"});
        let p = "https://api.openai.com/v1 responses";
        assert_eq!(Cache::key(p, &a, 0), Cache::key(p, &a.clone(), 0));
        assert_ne!(Cache::key(p, &a, 0), Cache::key(p, &b, 0));
        assert_ne!(Cache::key(p, &a, 0), Cache::key(p, &a, 1));
        // Another provider behind the same model name is another answer.
        assert_ne!(Cache::key(p, &a, 0), Cache::key("http://localhost:8000/v1 responses", &a, 0));
    }
}
