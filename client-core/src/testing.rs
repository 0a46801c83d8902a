//! What the crate's unit tests share: a scratch database and a signed-in person.

use crate::store::Store;
use mentorsync_protocol::model::Me;

/// A migrated store in a directory that lives as long as the returned guard.
pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.db")).unwrap();
    (dir, store)
}

/// User `u1` of chapter `c1` in `role` (`admin`, `coordinator`, …).
pub fn me(role: &str) -> Me {
    serde_json::from_value(
        serde_json::json!({"id": "u1", "chapter_id": "c1", "role": role,
        "display_name": "U", "email": "u@x"}),
    )
    .unwrap()
}
