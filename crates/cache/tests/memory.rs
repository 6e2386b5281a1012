//! The versioning behaviour every cache shares, on the in-process cache.

mod support;

use rapport_cache::MemoryCache;

#[tokio::test]
async fn older_never_overwrites_newer() {
    support::older_never_overwrites_newer(&MemoryCache::new(10), "k").await;
}

#[tokio::test]
async fn the_same_version_is_replaced_only_when_asked() {
    support::the_same_version_is_replaced_only_when_asked(&MemoryCache::new(10), "k").await;
}

#[tokio::test]
async fn get_many_keeps_request_order() {
    support::get_many_answers_in_request_order(&MemoryCache::new(10), "p").await;
}
