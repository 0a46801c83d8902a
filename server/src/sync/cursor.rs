//! The pull cursor: opaque to clients, a small base64 JSON document to the server.

use super::SyncError;
use base64::Engine;
use mentorsync_protocol::sync::SyncSet;
use serde::{Deserialize, Serialize};

/// Where a client is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Format version.
    pub v: u8,
    /// Every change at or below this position is reflected in what the client holds.
    pub p: i64,
    /// Hash of the scope set the client holds (after this round).
    pub h: String,
    /// The round in progress: its target position (absent between rounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<i64>,
    /// The snapshot in progress within the round, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<Snapshot>,
    /// The set it pages (`None`: every entity). A cursor is only valid for its own set:
    /// another set's position says nothing about this one's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<SyncSet>,
    /// The database epoch it was issued in ([`crate::epoch`]); absent in cursors issued
    /// before epochs existed, which stay valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

/// A snapshot being paged: every visible row (`all`) or the rows of newly added scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Everything the client may see (first sync, or after compaction).
    pub all: bool,
    /// Otherwise: just these scope keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// Index into the entity order.
    pub e: usize,
    /// Last id sent of that entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<String>,
}

/// Version 2 carries its set. Version 1 cursors (issued before) are still read, for any
/// set, so that devices keep their place across the upgrade.
const VERSION: u8 = 2;
const LEGACY: u8 = 1;

impl Cursor {
    /// A cursor between rounds of `set`.
    pub fn at(p: i64, h: String, set: Option<SyncSet>) -> Self {
        Cursor {
            v: VERSION,
            p,
            h,
            t: None,
            s: None,
            k: set,
            e: None,
        }
    }

    /// Refuses a cursor issued for another set than the one asked for.
    pub fn check_set(&self, asked: Option<SyncSet>) -> Result<(), SyncError> {
        if self.v == LEGACY || self.k == asked {
            return Ok(());
        }
        let name = |s: Option<SyncSet>| s.map_or("every set (no `set`)", SyncSet::as_str);
        Err(SyncError::CursorSet {
            issued: name(self.k),
            asked: name(asked),
        })
    }

    /// The opaque form.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads an opaque cursor.
    pub fn decode(s: &str) -> Result<Self, SyncError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| SyncError::BadCursor)?;
        let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| SyncError::BadCursor)?;
        if !(c.v == VERSION || c.v == LEGACY) || c.p < 0 {
            return Err(SyncError::BadCursor);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects_foreign_text() {
        let mut c = Cursor::at(42, "abc".into(), Some(SyncSet::Queue));
        c.t = Some(50);
        c.s = Some(Snapshot {
            all: false,
            keys: vec!["mentee:x".into()],
            e: 2,
            a: Some("id".into()),
        });
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("garbage!").is_err());
        assert!(
            Cursor::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(br#"{"v":9,"p":1,"h":""}"#)
            )
            .is_err()
        );
    }

    #[test]
    fn a_cursor_serves_only_its_own_set() {
        let roster = Cursor::at(7, "h".into(), Some(SyncSet::Roster));
        assert!(roster.check_set(Some(SyncSet::Roster)).is_ok());
        assert!(roster.check_set(Some(SyncSet::Queue)).is_err());
        assert!(roster.check_set(None).is_err());
        let all = Cursor::at(7, "h".into(), None);
        assert!(all.check_set(Some(SyncSet::Rest)).is_err());
        let legacy = Cursor::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"v":1,"p":3,"h":"x"}"#),
        )
        .unwrap();
        assert!(legacy.check_set(Some(SyncSet::Queue)).is_ok());
    }
}
