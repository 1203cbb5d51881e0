//! The in-process layer of the media cache: least recently used entries go
//! first once the cache holds more than `max_entries` entries or more than
//! `max_key_bytes` bytes of keys. Expired entries are dropped when met.

use lru::LruCache;

use super::CachedMedia;

pub struct Lru {
    entries: LruCache<String, CachedMedia>,
    key_bytes: usize,
    max_entries: usize,
    max_key_bytes: usize,
}

impl Lru {
    pub fn new(max_entries: usize, max_key_bytes: usize) -> Self {
        Lru {
            entries: LruCache::unbounded(),
            key_bytes: 0,
            max_entries: max_entries.max(1),
            max_key_bytes: max_key_bytes.max(1),
        }
    }

    /// The live entry of `key` at `now_ms` (and it becomes the most recent).
    pub fn get(&mut self, key: &str, now_ms: u64) -> Option<CachedMedia> {
        match self.entries.get(key) {
            Some(entry) if entry.expires_at > now_ms => Some(entry.clone()),
            Some(_) => {
                self.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&mut self, key: &str, entry: CachedMedia) {
        if self.entries.put(key.to_string(), entry).is_none() {
            self.key_bytes += key.len();
        }
        while self.entries.len() > self.max_entries || self.key_bytes > self.max_key_bytes {
            match self.entries.pop_lru() {
                Some((old, _)) => self.key_bytes -= old.len(),
                None => break,
            }
        }
    }

    fn remove(&mut self, key: &str) {
        if self.entries.pop(key).is_some() {
            self.key_bytes -= key.len();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn key_bytes(&self) -> usize {
        self.key_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, expires_at: u64) -> CachedMedia {
        CachedMedia {
            media_type: "image".into(),
            media_id: id.into(),
            created_at: 1,
            expires_at,
        }
    }

    #[test]
    fn bounded_in_entries_least_recent_first() {
        let mut lru = Lru::new(2, 1 << 20);
        lru.put("a", entry("A", u64::MAX));
        lru.put("b", entry("B", u64::MAX));
        assert!(lru.get("a", 0).is_some()); // a is now the most recent
        lru.put("c", entry("C", u64::MAX));
        assert_eq!(lru.len(), 2);
        assert!(lru.get("b", 0).is_none());
        assert_eq!(lru.get("a", 0).map(|e| e.media_id), Some("A".into()));
        assert_eq!(lru.key_bytes(), 2);
    }

    #[test]
    fn bounded_in_key_bytes() {
        let mut lru = Lru::new(100, 10);
        lru.put("12345", entry("A", u64::MAX));
        lru.put("67890", entry("B", u64::MAX));
        lru.put("x", entry("C", u64::MAX));
        assert!(lru.key_bytes() <= 10);
        assert!(lru.get("12345", 0).is_none());
        assert!(lru.get("x", 0).is_some());
    }

    #[test]
    fn an_expired_entry_is_gone() {
        let mut lru = Lru::new(10, 100);
        lru.put("a", entry("A", 1000));
        assert!(lru.get("a", 999).is_some());
        assert!(lru.get("a", 1000).is_none());
        assert_eq!((lru.len(), lru.key_bytes()), (0, 0));
    }

    #[test]
    fn replacing_an_entry_counts_its_key_once() {
        let mut lru = Lru::new(10, 100);
        lru.put("abc", entry("A", u64::MAX));
        lru.put("abc", entry("B", u64::MAX));
        assert_eq!((lru.len(), lru.key_bytes()), (1, 3));
        assert_eq!(lru.get("abc", 0).map(|e| e.media_id), Some("B".into()));
    }
}
