//! Idempotent creates: a request's key is claimed once per caller, and its answer kept so a
//! retry receives the same answer instead of creating twice.

use crate::{App, AppResult};
pub use kefu_store::IdempotencyClaim;
use kefu_store::micros;

impl App {
    pub async fn claim_idempotency(&self, scope: &str, key: &str, request_hash: &str) -> AppResult<IdempotencyClaim> {
        Ok(self.store().claim_idempotency(scope, key, request_hash, micros(self.now())).await?)
    }

    pub async fn complete_idempotency(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> AppResult<()> {
        Ok(self.store().complete_idempotency(scope, key, status, content_type, body).await?)
    }

    pub async fn release_idempotency(&self, scope: &str, key: &str) -> AppResult<()> {
        Ok(self.store().release_idempotency(scope, key).await?)
    }
}
