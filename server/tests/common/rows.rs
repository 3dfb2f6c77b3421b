//! Reading the whole database back, to prove what it does not hold.

use yinyom_server::store::Store;

/// Every row of every table of the database, as text ([`Store::every_row`]).
pub async fn every_row(store: &Store) -> Vec<(String, String)> {
    store.every_row().await.expect("read every row")
}
