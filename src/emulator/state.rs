//! Shared emulator state: the clock, the stores and the locks around them.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::faults::FaultList;
use super::gateway::CloudCredentials;
use super::media::MediaEntry;
use super::messages::Outbox;
use super::record::Recorder;
use super::storage::StorageState;
use super::tokens::TokenStore;
use super::EmulatorOptions;

/// Locks a mutex, recovering the data if a handler panicked while holding it:
/// every critical section here leaves the data consistent, so poisoning
/// carries no information worth failing a request for.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Emulator time: real wall-clock time plus an offset that tests advance to
/// make tokens, media and links expire without waiting. Clients in this
/// process that talk to the emulator share it (see [`crate::world_clock`]).
#[derive(Default)]
pub(crate) struct Clock {
    offset_ms: Arc<AtomicU64>,
}

impl Clock {
    pub(crate) fn now_ms(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        real.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// A clock that clients of `origin` in this process share.
    pub(crate) fn shared_with_clients_of(origin: &str) -> Clock {
        let clock = Clock::default();
        crate::world_clock::register(origin, &clock.offset_ms);
        clock
    }

    pub(crate) fn advance(&self, ms: u64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// Everything the request handlers share.
pub(crate) struct Shared {
    pub(crate) opts: EmulatorOptions,
    /// `http://host:port` the emulator listens on (used when a request has no Host).
    pub(crate) base_url: String,
    pub(crate) clock: Clock,
    pub(crate) tokens: Mutex<TokenStore>,
    pub(crate) media: Mutex<ByteStore<String, MediaEntry>>,
    pub(crate) storage: Mutex<StorageState>,
    pub(crate) faults: Mutex<FaultList>,
    pub(crate) recorder: Mutex<Recorder>,
    pub(crate) outbox: Mutex<Outbox>,
    /// Bodies the `/__cdn/` routes serve.
    pub(crate) cdn: Mutex<super::cdn::CdnStore>,
    /// What the emulated cloud function is given (see `gateway`).
    pub(crate) gateway: Mutex<CloudCredentials>,
}

impl Shared {
    pub(crate) fn new(opts: EmulatorOptions, base_url: String) -> Self {
        let max_stored = opts.max_stored_bytes;
        Shared {
            opts,
            clock: Clock::shared_with_clients_of(&base_url),
            base_url,
            tokens: Mutex::new(TokenStore::default()),
            media: Mutex::new(ByteStore::new(max_stored)),
            storage: Mutex::new(StorageState::new(max_stored)),
            faults: Mutex::new(FaultList::default()),
            recorder: Mutex::new(Recorder::default()),
            outbox: Mutex::new(Outbox::default()),
            cdn: Mutex::new(super::cdn::CdnStore::default()),
            gateway: Mutex::new(CloudCredentials::issue()),
        }
    }

    /// The first configured app: the owner of cloudbase tokens and the
    /// default of `issue_token`.
    pub(crate) fn first_appid(&self) -> String {
        self.opts
            .apps
            .first()
            .map(|(appid, _)| appid.clone())
            .unwrap_or_default()
    }

    pub(crate) fn secret_of(&self, appid: &str) -> Option<&str> {
        self.opts
            .apps
            .iter()
            .find(|(id, _)| id == appid)
            .map(|(_, secret)| secret.as_str())
    }

    pub(crate) fn has_env(&self, env: &str) -> bool {
        self.opts.envs.iter().any(|e| e == env)
    }
}

/// Something stored in a [`ByteStore`], which needs to know its size.
pub(crate) trait StoredLen {
    fn stored_len(&self) -> usize;
}

/// An in-memory map that keeps the sum of its values' sizes under a cap by
/// evicting the oldest entries, so a long benchmark cannot exhaust memory.
pub(crate) struct ByteStore<K, V> {
    entries: HashMap<K, (u64, V)>,
    /// Insertion order as (key, generation); a stale generation means the key
    /// was overwritten or removed since, and the queue slot is skipped.
    order: VecDeque<(K, u64)>,
    next_generation: u64,
    total_bytes: usize,
    cap_bytes: usize,
}

impl<K: Eq + Hash + Clone, V: StoredLen> ByteStore<K, V> {
    pub(crate) fn new(cap_bytes: usize) -> Self {
        ByteStore {
            entries: HashMap::new(),
            order: VecDeque::new(),
            next_generation: 0,
            total_bytes: 0,
            cap_bytes,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key).map(|(_, v)| v)
    }

    pub(crate) fn insert(&mut self, key: K, value: V) {
        self.remove(&key);
        let size = value.stored_len();
        while self.total_bytes + size > self.cap_bytes && self.evict_oldest() {}
        let generation = self.next_generation;
        self.next_generation += 1;
        self.total_bytes += size;
        self.order.push_back((key.clone(), generation));
        self.entries.insert(key, (generation, value));
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let (_, value) = self.entries.remove(key)?;
        self.total_bytes -= value.stored_len();
        Some(value)
    }

    /// The oldest live entry, if any.
    pub(crate) fn oldest(&mut self) -> Option<&V> {
        self.skip_stale_front();
        let (key, _) = self.order.front()?;
        self.entries.get(key).map(|(_, v)| v)
    }

    /// Evicts the oldest live entry; false when the store is empty.
    pub(crate) fn evict_oldest(&mut self) -> bool {
        self.skip_stale_front();
        match self.order.pop_front() {
            Some((key, _)) => self.remove(&key).is_some(),
            None => false,
        }
    }

    fn skip_stale_front(&mut self) {
        while let Some((key, generation)) = self.order.front() {
            let live = matches!(self.entries.get(key), Some((g, _)) if g == generation);
            if live {
                return;
            }
            self.order.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl StoredLen for Vec<u8> {
        fn stored_len(&self) -> usize {
            self.len()
        }
    }

    #[test]
    fn byte_store_evicts_oldest_to_stay_under_cap() {
        let mut store: ByteStore<&str, Vec<u8>> = ByteStore::new(10);
        store.insert("a", vec![0; 4]);
        store.insert("b", vec![0; 4]);
        store.insert("c", vec![0; 4]);
        assert!(store.get(&"a").is_none());
        assert_eq!(store.len(), 2);
        assert_eq!(store.total_bytes(), 8);
    }

    #[test]
    fn byte_store_overwrite_does_not_double_count() {
        let mut store: ByteStore<&str, Vec<u8>> = ByteStore::new(100);
        store.insert("a", vec![0; 10]);
        store.insert("a", vec![0; 3]);
        assert_eq!(store.total_bytes(), 3);
        assert_eq!(store.len(), 1);
        // The stale queue slot of the first "a" must not evict the new one.
        assert!(store.evict_oldest());
        assert_eq!(store.len(), 0);
        assert!(!store.evict_oldest());
    }

    #[test]
    fn clock_advances() {
        let clock = Clock::default();
        let before = clock.now_ms();
        clock.advance(3 * 86_400_000);
        assert!(clock.now_ms() >= before + 3 * 86_400_000);
    }
}
