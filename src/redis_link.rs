//! One link to a Redis-compatible server (Redis, Valkey, the cloud Redis
//! services), shared by the fleet token store and the fleet media cache:
//! a [`ConnectionManager`] that reconnects in the background, every
//! operation bounded by a short timeout, and a pause after a failed connect
//! so that while Redis is down calls skip it at once instead of each
//! waiting for a connect timeout. Callers treat every error as "go on
//! without Redis"; error texts never hold the URL's password.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

/// Bound on one Redis operation; past it the call goes on without Redis.
pub const OP_TIMEOUT: Duration = Duration::from_millis(1000);
/// Bound on connecting (a cold process under load connects slowly).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(2000);
/// After a failed connect, operations skip Redis this long before trying again.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// Deletes KEYS[1] only while it still holds ARGV[1] (a lock's owner id).
const DELETE_IF_EQUAL: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Why a Redis operation failed; the text never holds a secret.
#[derive(Debug, Clone)]
pub struct LinkError(pub String);

pub struct RedisLink {
    client: redis::Client,
    prefix: String,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    paused_until: Mutex<Option<Instant>>,
    delete_if_equal: Script,
}

fn failed(e: impl std::fmt::Display) -> LinkError {
    LinkError(crate::secrets::scrub(&e.to_string()))
}

impl RedisLink {
    /// `url` is `redis://[user:password@]host:port[/db]` (or `rediss://`,
    /// `unix://`); `option` names it in the error (`tokenStore.redis`).
    /// Nothing is connected until the first operation.
    pub fn new(url: &str, prefix: Option<String>, option: &str) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("{option} is not a valid Redis URL ({:?})", e.kind()))?;
        Ok(RedisLink {
            client,
            prefix: prefix.unwrap_or_default(),
            conn: tokio::sync::Mutex::new(None),
            paused_until: Mutex::new(None),
            delete_if_equal: Script::new(DELETE_IF_EQUAL),
        })
    }

    /// The key as stored: the caller's prefix first.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub async fn connection(&self) -> Result<ConnectionManager, LinkError> {
        {
            let paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            if paused.is_some_and(|until| Instant::now() < until) {
                return Err(LinkError("Redis is unreachable (retrying)".into()));
            }
        }
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        match tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.client.get_connection_manager_with_config(config),
        )
        .await
        {
            Ok(Ok(conn)) => {
                *slot = Some(conn.clone());
                Ok(conn)
            }
            Ok(Err(e)) => Err(self.pause(failed(e))),
            Err(_) => Err(self.pause(LinkError("connecting to Redis timed out".into()))),
        }
    }

    fn pause(&self, e: LinkError) -> LinkError {
        *self.paused_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + RECONNECT_PAUSE);
        e
    }

    /// Runs one operation within [`OP_TIMEOUT`].
    pub async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, LinkError> {
        match tokio::time::timeout(OP_TIMEOUT, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(failed(e)),
            Err(_) => Err(LinkError(format!(
                "Redis did not answer within {} ms",
                OP_TIMEOUT.as_millis()
            ))),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, LinkError> {
        let mut conn = self.connection().await?;
        let key = self.key(key);
        self.bounded(conn.get::<_, Option<String>>(key)).await
    }

    /// `SET key value PX ms`.
    pub async fn set(&self, key: &str, value: &str, ms: u64) -> Result<(), LinkError> {
        let mut conn = self.connection().await?;
        let key = self.key(key);
        let opts = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ms.max(1)));
        self.bounded(conn.set_options::<_, _, ()>(key, value, opts))
            .await
    }

    /// `SET <key>:lock <random owner> NX PX ms`: `Some(owner)` if taken.
    pub async fn lock(&self, key: &str, ms: u64) -> Result<Option<String>, LinkError> {
        let mut conn = self.connection().await?;
        let owner = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ms.max(1)));
        let key = self.key(&format!("{key}:lock"));
        let taken: Option<String> = self
            .bounded(conn.set_options(key, owner.as_str(), opts))
            .await?;
        Ok(taken.map(|_| owner))
    }

    /// Releases the lock of `key` if `owner` still holds it (a holder whose
    /// lock expired must not release the next holder's).
    pub async fn unlock(&self, key: &str, owner: &str) -> Result<(), LinkError> {
        let mut conn = self.connection().await?;
        let key = self.key(&format!("{key}:lock"));
        let mut call = self.delete_if_equal.key(key);
        call.arg(owner);
        self.bounded(call.invoke_async::<i64>(&mut conn))
            .await
            .map(|_| ())
    }

    /// Runs `script` on the prefixed `key` with `args` (for atomic
    /// compare-and-change operations).
    pub async fn eval(&self, script: &Script, key: &str, args: &[&str]) -> Result<i64, LinkError> {
        let mut conn = self.connection().await?;
        let mut call = script.key(self.key(key));
        for arg in args {
            call.arg(*arg);
        }
        self.bounded(call.invoke_async::<i64>(&mut conn)).await
    }
}
