//! Answers to POST requests that carried an `Idempotency-Key`, kept so that a retry gets
//! the first answer instead of doing the work twice.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Text};
use diesel_async::RunQueryDsl;
use order_ports::StoreError;
use uuid::Uuid;

use crate::error::{pool_error, store_error};
use crate::fragment::Cached;
use crate::liveness::{Liveness, LIVENESS_LOCK_SPACE};
use crate::pool::PgPool;
use crate::schema::idempotency_keys as keys;

/// Whether a claim's signer (`idempotency_keys.claimed_by`) no longer holds its liveness
/// lock: its process died, or lost the database.
static SIGNER_GONE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND l.classid = {LIVENESS_LOCK_SPACE}::oid AND l.objid = idempotency_keys.claimed_by::oid \
         AND l.objsubid = 2 AND l.granted)"
    )
});

/// What to do with a request carrying an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired): handle the request, then [`IdempotencyKeys::store`] or
    /// [`IdempotencyKeys::release`] the key.
    Fresh,
    /// The same request was answered before: answer this again.
    Replay { status: u16, body: String },
    /// The key was used with another request.
    Mismatch,
    /// The first request with this key is still being handled.
    InProgress,
}

/// The idempotency keys table.
#[derive(Clone)]
pub struct IdempotencyKeys {
    pool: PgPool,
    /// How long an answer is kept (at least 24 h, the promise made to callers).
    ttl: chrono::TimeDelta,
    /// How long a claim without an answer blocks the key when its process cannot be seen
    /// to have died: after that the first request is taken to have died with it, and the
    /// key can be claimed again.
    abandon_after: chrono::TimeDelta,
    /// Signs this process's claims, so that they are abandoned as soon as it dies.
    liveness: Option<Arc<Liveness>>,
}

impl IdempotencyKeys {
    /// Keys whose claims expire by age only.
    pub fn new(pool: PgPool) -> IdempotencyKeys {
        IdempotencyKeys {
            pool,
            ttl: chrono::TimeDelta::hours(24),
            abandon_after: chrono::TimeDelta::minutes(2),
            liveness: None,
        }
    }

    /// Keys whose claims are signed with this process's [`Liveness`]: a claim left by a
    /// process that died is taken over at once instead of after two minutes.
    pub fn signed_by(self, liveness: Arc<Liveness>) -> IdempotencyKeys {
        IdempotencyKeys {
            liveness: Some(liveness),
            ..self
        }
    }

    /// Claims `key` for `caller`'s request whose body hashes to `request_hash`.
    pub async fn claim(
        &self,
        caller: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        // Clear this key's expired answer or abandoned claim, so the insert below can win.
        // The lock lookup runs only for an unanswered claim of this key. Cached: the SQL
        // literal would otherwise have every claim prepare the statement anew.
        Cached(
            diesel::delete(keys::table.find((caller, key))).filter(
                keys::created_at
                    .lt(now - self.ttl)
                    .or(keys::status_code.is_null().and(
                        keys::created_at
                            .lt(now - self.abandon_after)
                            .or(keys::claimed_by
                                .is_not_null()
                                .and(diesel::dsl::sql::<Bool>(&SIGNER_GONE))),
                    )),
            ),
        )
        .execute(&mut conn)
        .await
        .map_err(store_error)?;
        let signature = self.liveness.as_ref().and_then(|l| l.signature());
        let inserted = diesel::insert_into(keys::table)
            .values((
                keys::caller.eq(caller),
                keys::key.eq(key),
                keys::request_hash.eq(request_hash),
                keys::created_at.eq(now),
                keys::claimed_by.eq(signature),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await
            .map_err(store_error)?;
        if inserted == 1 {
            return Ok(Claim::Fresh);
        }
        let stored: Option<(String, Option<i16>, Option<String>)> = keys::table
            .find((caller, key))
            .select((keys::request_hash, keys::status_code, keys::response_body))
            .first(&mut conn)
            .await
            .optional()
            .map_err(store_error)?;
        Ok(match stored {
            // Deleted between our insert and read: a rare race; the client may retry.
            None => Claim::InProgress,
            Some((hash, _, _)) if hash != request_hash => Claim::Mismatch,
            Some((_, Some(status), Some(body))) => Claim::Replay {
                status: status as u16,
                body,
            },
            Some(_) => Claim::InProgress,
        })
    }

    /// Records the answer to replay for this key, with the ids it names.
    pub async fn store(
        &self,
        caller: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::update(keys::table.find((caller, key)))
            .set((
                keys::status_code.eq(status as i16),
                keys::response_body.eq(body),
                keys::mentioned_ids.eq(mentioned_ids(body)),
            ))
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(store_error)
    }

    /// Forgets the claim, so that a retry runs again (for answers that are not kept: 5xx).
    pub async fn release(&self, caller: &str, key: &str) -> Result<(), StoreError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::delete(keys::table.find((caller, key)))
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(store_error)
    }

    /// Deletes answers older than the time-to-live; returns how many.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::delete(keys::table.filter(keys::created_at.lt(now - self.ttl)))
            .execute(&mut conn)
            .await
            .map_err(store_error)
    }

    /// Rewrites with `rewrite` every saved answer that names one of `ids` (orders' ids: every
    /// answer about an order or its dispute names it); how many it changed. The answers are
    /// found through the index of the ids each names; those saved by an earlier release,
    /// which recorded none, by their text (they expire with their keys within a day). An
    /// answer saved again meanwhile is left as it is now (the update is conditional on the
    /// text read).
    pub async fn rewrite_answers_mentioning(
        &self,
        ids: &[Uuid],
        rewrite: impl Fn(&mut serde_json::Value) -> bool,
    ) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let answer = (keys::caller, keys::key, keys::response_body);
        let mut saved: Vec<(String, String, Option<String>)> = keys::table
            .filter(keys::mentioned_ids.overlaps_with(ids))
            .select(answer)
            .load(&mut conn)
            .await
            .map_err(store_error)?;
        let patterns: Vec<String> = ids.iter().map(|id| format!("%{id}%")).collect();
        let unindexed: Vec<(String, String, Option<String>)> = keys::table
            .filter(keys::mentioned_ids.is_null())
            .filter(keys::response_body.is_not_null())
            .filter(
                diesel::dsl::sql::<Bool>("response_body LIKE ANY(")
                    .bind::<Array<Text>, _>(patterns)
                    .sql(")"),
            )
            .select(answer)
            .load(&mut conn)
            .await
            .map_err(store_error)?;
        saved.extend(unindexed);
        let mut changed = 0;
        for (caller, key, body) in saved {
            let Some(body) = body else { continue };
            let Ok(mut answer) = serde_json::from_str::<serde_json::Value>(&body) else {
                continue;
            };
            if !rewrite(&mut answer) {
                continue;
            }
            changed += diesel::update(
                keys::table
                    .find((&caller, &key))
                    .filter(keys::response_body.eq(&body)),
            )
            .set(keys::response_body.eq(answer.to_string()))
            .execute(&mut conn)
            .await
            .map_err(store_error)?;
        }
        Ok(changed)
    }
}

/// Every id `body` names: each string in its JSON that is a UUID. An answer that is not JSON
/// names none.
fn mentioned_ids(body: &str) -> Vec<Uuid> {
    fn collect(value: &serde_json::Value, ids: &mut Vec<Uuid>) {
        match value {
            serde_json::Value::String(text) => ids.extend(Uuid::try_parse(text)),
            serde_json::Value::Array(items) => items.iter().for_each(|item| collect(item, ids)),
            serde_json::Value::Object(fields) => {
                fields.values().for_each(|field| collect(field, ids));
            }
            _ => {}
        }
    }
    let mut ids = Vec::new();
    if let Ok(answer) = serde_json::from_str::<serde_json::Value>(body) {
        collect(&answer, &mut ids);
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}
