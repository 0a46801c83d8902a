//! Appending to the change log, and the notice that announces new positions.

use super::{Tx, q, values_list};
use serde::{Deserialize, Serialize};

/// The PostgreSQL NOTIFY channel for committed changes.
pub const CHANNEL: &str = "mentorsync_changes";
/// The advisory-lock key that orders change-log appends by commit.
pub const CHANGE_LOG_LOCK: i64 = 0x006d_7379_6e63; // "msync"

/// One change-log row to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    /// The row's chapter.
    pub chapter_id: String,
    /// Entity kind (wire spelling).
    pub entity: &'static str,
    /// Row id.
    pub entity_id: String,
    /// `true` for a removal from the scope named below (the row left it).
    pub remove: bool,
    /// The row's version after the change.
    pub version: i64,
    /// Who may see it.
    pub scope: Scope,
    /// When (epoch ms).
    pub at: i64,
}

/// The scope columns of a row. Who may see a row is decided from these, against current
/// relationships, when it is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The mentor whose data it is.
    pub mentor_id: Option<String>,
    /// The mentee it is about.
    pub mentee_id: Option<String>,
    /// The coordinator it names.
    pub coordinator_id: Option<String>,
    /// The cohort it is about (cohort dashboards).
    pub cohort_id: Option<String>,
    /// The one person it is for (inbox items); such a row has no other scope key.
    pub recipient_id: Option<String>,
}

impl super::FromDb for Scope {
    fn from_db(r: &super::DbRow) -> Result<Self, sqlx::Error> {
        Ok(Scope {
            mentor_id: r.get("m")?,
            mentee_id: r.get("e")?,
            coordinator_id: r.get("c")?,
            cohort_id: r.get("h")?,
            recipient_id: r.get("u")?,
        })
    }
}

impl ChangeRow {
    /// The scope keys of this change (`chapter:…`, `mentor:…`, …; only `user:…` for a row
    /// that is one person's, so no other stream is poked for it).
    pub fn scope_keys(&self) -> Vec<String> {
        if let Some(recipient) = &self.scope.recipient_id {
            return vec![format!("user:{recipient}")];
        }
        let mut keys = vec![format!("chapter:{}", self.chapter_id)];
        let s = &self.scope;
        for (kind, id) in [
            ("mentor", &s.mentor_id),
            ("mentee", &s.mentee_id),
            ("coordinator", &s.coordinator_id),
            ("cohort", &s.cohort_id),
        ] {
            if let Some(id) = id {
                keys.push(format!("{kind}:{id}"));
            }
        }
        keys
    }
}

/// Committed change-log positions, with the scopes they touched, so an event stream can
/// poke exactly the clients that can see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The chapter.
    pub chapter_id: String,
    /// The highest position committed.
    pub position: i64,
    /// Every scope key touched.
    pub scopes: Vec<String>,
    /// Token families whose access ended in this commit (logout, revocation): every
    /// instance ends the streams they opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ended: Vec<String>,
    /// Only dashboard rows changed (a refresh): what dashboards summarise did not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dashboards_only: bool,
}

impl Notice {
    /// "Something may have been missed": followers re-read their newest position.
    pub fn recheck() -> Notice {
        Notice {
            chapter_id: String::new(),
            position: -1,
            scopes: Vec::new(),
            ended: Vec::new(),
            dashboards_only: false,
        }
    }

    /// Whether this is a [`Notice::recheck`].
    pub fn is_recheck(&self) -> bool {
        self.position < 0
    }

    /// Folds a later notice of the same transaction into this one.
    pub fn merge(&mut self, later: Notice) {
        self.position = self.position.max(later.position);
        self.ended.extend(later.ended);
        self.dashboards_only &= later.dashboards_only;
        for s in later.scopes {
            if !self.scopes.contains(&s) {
                self.scopes.push(s);
            }
        }
    }
}

/// Most change-log rows per INSERT (11 arguments each; SQLite allows 32,766).
const ROWS_PER_INSERT: usize = 200;

/// Inserts the rows in order, a few hundred per statement, and returns the notice for them.
/// One statement's rows take their positions in the order of its VALUES list.
pub(super) async fn append(tx: &mut Tx, changes: &[ChangeRow]) -> Result<Notice, sqlx::Error> {
    let mut position = 0;
    let mut scopes: Vec<String> = Vec::new();
    for chunk in changes.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO change_log (chapter_id, entity, entity_id, op, version, mentor_id, mentee_id, \
             coordinator_id, cohort_id, recipient_id, at) VALUES {} RETURNING position",
            values_list(chunk.len(), 11)
        );
        let mut query = q(sql);
        for c in chunk {
            query = query
                .bind(c.chapter_id.as_str())
                .bind(c.entity)
                .bind(c.entity_id.as_str())
                .bind(if c.remove { "remove" } else { "upsert" })
                .bind(c.version)
                .bind(c.scope.mentor_id.clone())
                .bind(c.scope.mentee_id.clone())
                .bind(c.scope.coordinator_id.clone())
                .bind(c.scope.cohort_id.clone())
                .bind(c.scope.recipient_id.clone())
                .bind(c.at);
        }
        let positions: Vec<i64> = tx.fetch_all(query).await?;
        position = positions.into_iter().fold(position, i64::max);
        for c in chunk {
            for key in c.scope_keys() {
                if !scopes.contains(&key) {
                    scopes.push(key);
                }
            }
        }
    }
    let chapter_id = changes
        .first()
        .map(|c| c.chapter_id.clone())
        .unwrap_or_default();
    Ok(Notice {
        chapter_id,
        position,
        scopes,
        ended: Vec::new(),
        dashboards_only: changes.iter().all(|c| c.entity == "dashboard"),
    })
}
