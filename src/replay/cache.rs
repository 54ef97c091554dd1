//! The response cache as replay sees it: a model answer is looked up by a hash of the exact
//! request body and the repeat index, so a re-run never pays twice for the same answer while
//! each repeat still samples the model afresh.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::store::{Handle, StoreError};

#[derive(Clone)]
pub struct Cache {
    store: Handle,
}

impl Cache {
    pub fn new(store: Handle) -> Cache {
        Cache { store }
    }

    /// The body carries everything that shapes the answer (model, rendered instructions, input,
    /// tools, params); the repeat index keeps the K samples of a case apart.
    pub fn key(body: &Value, repeat: u32) -> String {
        let mut h = Sha256::new();
        h.update(body.to_string().as_bytes());
        h.update(repeat.to_le_bytes());
        format!("sha256:{}", hex::encode(h.finalize()))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Value>, StoreError> {
        let key = key.to_string();
        self.store.call(move |s| s.cache_get(&key)).await
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
        assert_eq!(Cache::key(&a, 0), Cache::key(&a.clone(), 0));
        assert_ne!(Cache::key(&a, 0), Cache::key(&b, 0));
        assert_ne!(Cache::key(&a, 0), Cache::key(&a, 1));
    }
}
