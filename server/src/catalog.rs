//! In-memory copies of what every receipt post reads: the site (for its origins) and the
//! notice version the choice was made under. Without them a receipt costs three extra
//! database round trips and a parse of the whole notice JSON.
//!
//! - A published notice version never changes (a label is never reused for other content,
//!   see [`crate::sites`]), so it is kept until the process ends (the map is emptied if
//!   it ever holds more than [`MAX_ENTRIES`] versions).
//! - When a version was superseded never changes once it is: that time is kept like the
//!   version; "not superseded yet" is trusted for [`SITE_TTL`] only, like a site.
//! - A site can change (`yinyom sites import` in another process may edit its origins), so
//!   a known site is kept for [`SITE_TTL`] only; an unknown site is never remembered, so a
//!   newly imported site works at once.

use crate::store::{Store, StoreError};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};
use yinyom_model::{notice::PublishedNotice, site::Site};

/// How long a site's origins are trusted from memory.
pub const SITE_TTL: Duration = Duration::from_secs(2);
/// Most entries per map before it is emptied.
const MAX_ENTRIES: usize = 4096;

/// (site, version label).
type VersionKey = (String, String);

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Cached reads of sites and notice versions.
#[derive(Debug)]
pub struct Catalog {
    store: Store,
    sites: Mutex<HashMap<String, (Instant, Arc<Site>)>>,
    versions: Mutex<HashMap<(String, String), Arc<PublishedNotice>>>,
    superseded: Mutex<HashMap<VersionKey, (Instant, Option<i64>)>>,
}

impl Catalog {
    /// An empty catalog reading from `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            sites: Mutex::default(),
            versions: Mutex::default(),
            superseded: Mutex::default(),
        }
    }

    /// The site `id`, at most [`SITE_TTL`] old; `None` if it does not exist.
    pub async fn site(&self, id: &str) -> Result<Option<Arc<Site>>> {
        if let Some((at, site)) = self
            .sites
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            && at.elapsed() < SITE_TTL
        {
            return Ok(Some(site.clone()));
        }
        let Some(site) = self.store.site(id).await? else {
            return Ok(None);
        };
        let site = Arc::new(site);
        let mut sites = self.sites.lock().unwrap_or_else(PoisonError::into_inner);
        if sites.len() >= MAX_ENTRIES {
            sites.clear();
        }
        sites.insert(id.to_owned(), (Instant::now(), site.clone()));
        Ok(Some(site))
    }

    /// Version `version` of the site's notice; `None` if it was never published.
    pub async fn notice_version(
        &self,
        site: &str,
        version: &str,
    ) -> Result<Option<Arc<PublishedNotice>>> {
        let key = (site.to_owned(), version.to_owned());
        if let Some(n) = self
            .versions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Some(n.clone()));
        }
        let Some(n) = self.store.notice_version(site, version).await? else {
            return Ok(None);
        };
        let n = Arc::new(n);
        let mut versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
        if versions.len() >= MAX_ENTRIES {
            versions.clear();
        }
        versions.insert(key, n.clone());
        Ok(Some(n))
    }

    /// When a newer version superseded `version` of the site's notice (unix ms); `None`
    /// while it is the current version (as of at most [`SITE_TTL`] ago).
    pub async fn superseded_at(&self, site: &str, version: &str) -> Result<Option<i64>> {
        let key = (site.to_owned(), version.to_owned());
        if let Some((at, superseded)) = self
            .superseded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            && (superseded.is_some() || at.elapsed() < SITE_TTL)
        {
            return Ok(*superseded);
        }
        let superseded = self.store.superseded_at(site, version).await?;
        let mut map = self
            .superseded
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (Instant::now(), superseded));
        Ok(superseded)
    }
}
