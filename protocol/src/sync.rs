//! Wire types of the delta-sync API (`/api/v1/sync/*`), shared by server and client.
//! See docs/sync-protocol.md for the semantics.

use crate::command::{Command, Entity};
use serde::{Deserialize, Serialize};

/// Header every sync request carries with the protocol version the client speaks.
pub const PROTOCOL_HEADER: &str = "x-mentorsync-protocol";

/// Independent pull streams, so an app can publish what its first screen needs (the
/// roster) before the rest has arrived. Each has its own cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SyncSet {
    /// Mentors, pauses, coordinator and mentee assignments, flags, dashboards and the
    /// caller's inbox: the first screen of every role.
    Roster,
    /// Work items and the submissions they are about: the work-queue screen.
    Queue,
    /// Cohorts, mentees, sessions and (for admins) accounts.
    Rest,
}

impl SyncSet {
    /// Every set, in the order a client should sync them.
    pub const ALL: [SyncSet; 3] = [SyncSet::Roster, SyncSet::Queue, SyncSet::Rest];

    /// The entities of the set, parents first.
    pub fn entities(self) -> &'static [Entity] {
        match self {
            SyncSet::Roster => &[
                Entity::Mentor,
                Entity::CoordinatorAssignment,
                Entity::Pause,
                Entity::MenteeAssignment,
                Entity::Flag,
                Entity::Dashboard,
                Entity::InboxItem,
            ],
            SyncSet::Queue => &[Entity::Submission, Entity::WorkItem],
            SyncSet::Rest => &[
                Entity::Cohort,
                Entity::Mentee,
                Entity::Session,
                Entity::User,
            ],
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncSet::Roster => "roster",
            SyncSet::Queue => "queue",
            SyncSet::Rest => "rest",
        }
    }
}

/// Every synced entity, parents first (the order of a snapshot of all sets).
pub const SYNCED_ENTITIES: &[Entity] = &[
    Entity::Cohort,
    Entity::User,
    Entity::Mentor,
    Entity::Mentee,
    Entity::CoordinatorAssignment,
    Entity::Pause,
    Entity::MenteeAssignment,
    Entity::Session,
    Entity::Submission,
    Entity::WorkItem,
    Entity::Flag,
    Entity::Dashboard,
    Entity::InboxItem,
];

/// The scope keys of a row from its wire JSON: `chapter:…` always, then `mentor:…`,
/// `mentee:…`, `coordinator:…`, `cohort:…` from its own columns. A client holds a row while one of
/// them is in its scope set. The server decides visibility with the same rule.
///
/// An inbox item is the exception: its only key is `user:<recipient>`, which nobody but the
/// recipient holds, so not even the chapter's admins receive someone else's inbox.
pub fn row_scopes(entity: Entity, row: &serde_json::Value, chapter_id: &str) -> Vec<String> {
    if entity == Entity::InboxItem {
        return row["recipient_id"]
            .as_str()
            .map(|r| vec![format!("user:{r}")])
            .unwrap_or_default();
    }
    let mut keys = vec![format!("chapter:{chapter_id}")];
    let mut add = |kind: &str, field: &str| {
        if let Some(id) = row[field].as_str() {
            keys.push(format!("{kind}:{id}"));
        }
    };
    match entity {
        Entity::Mentor => add("mentor", "id"),
        Entity::Mentee => add("mentee", "id"),
        Entity::CoordinatorAssignment => {
            add("mentor", "mentor_id");
            add("coordinator", "coordinator_id");
        }
        Entity::Cohort => add("cohort", "id"),
        Entity::User => {}
        Entity::Dashboard => {
            add("mentor", "mentor_id");
            add("coordinator", "coordinator_id");
            add("cohort", "cohort_id");
        }
        _ => {
            add("mentor", "mentor_id");
            add("mentee", "mentee_id");
        }
    }
    keys
}

/// Whether a change brings the row (`upsert`) or takes it away from this client (`remove`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// Store `row` (if its version is newer than the one held).
    Upsert,
    /// Drop the row: it no longer exists for this client.
    Remove,
}

/// One row change in a pull page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Which kind of row.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// Upsert or remove.
    pub op: ChangeOp,
    /// The row's version (upserts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The scope keys the row belongs to (`mentor:<id>`, `mentee:<id>`, …), so the client
    /// can drop it when it leaves every scope it holds (upserts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The full row as the entity's wire type (upserts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<serde_json::Value>,
}

/// How the client's scope set changed since its cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeChange {
    /// Replace everything: this round is a complete snapshot (first sync, or the cursor is
    /// older than the compacted change log).
    pub full_reset: bool,
    /// Scopes the client now holds; their rows arrive in this round.
    pub added: Vec<String>,
    /// Scopes the client no longer holds: once the round is published, drop every row
    /// whose scopes no longer meet the client's scope set.
    pub removed: Vec<String>,
}

/// One page of a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// Changes in this page, in order; at most one per row.
    pub changes: Vec<Change>,
    /// Pass back as `cursor` for the next page (or the next round).
    pub cursor: String,
    /// More pages until this round reaches `target`.
    pub has_more: bool,
    /// The change-log position this round ends at (fixed by its first page).
    pub target: i64,
    /// Present on the first page of a round whose scope set changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_change: Option<ScopeChange>,
    /// The client's current scope set (first page of a round).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The highest mutation id of this client the server has a verdict for.
    pub last_mutation_id: i64,
    /// Verdicts the client has not acknowledged yet (`ack` on a later pull).
    pub verdicts: Vec<Verdict>,
}

/// One command from a client's outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// Per client, starting at 1, increasing by 1.
    pub mutation_id: i64,
    /// The command, as `{"name": …, "args": …}` flattened into the mutation.
    #[serde(flatten)]
    pub command: Command,
    /// The version of the target row the client's view was based on.
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// Epoch ms on the device's clock when the person issued the command (it may have
    /// waited offline since). With the push's `sent_at` the server reads it, and the
    /// command's own times, on its own clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<i64>,
}

/// A push: commands in outbox order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The device's id (UUID), registered to the caller on first use.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub client_id: String,
    /// At most 100, contiguous mutation ids.
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub mutations: Vec<serde_json::Value>,
    /// Epoch ms on the device's clock when it sent this push. The server takes the
    /// difference to its own clock as the device's clock offset and moves every device
    /// time in the push (`issued_at`, `starts_at`, `ends_at`, `scheduled_at`) by it, so a
    /// phone whose clock is hours off still means what its person meant. Absent: the
    /// device's times are taken as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
}

/// What happened to one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VerdictOutcome {
    /// Applied: every row it changed, with new versions.
    Applied {
        /// The main row's kind.
        entity: Entity,
        /// The main row's id.
        id: String,
        /// Rows changed: `(entity, id, version)`.
        changes: Vec<ChangedRow>,
    },
    /// Refused: nothing changed.
    Rejected {
        /// Stable code (`invalid_transition`, `version_conflict`, `forbidden`, …).
        code: String,
        /// A sentence for the person who issued it.
        reason: String,
        /// The target row as the server has it, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current: Option<serde_json::Value>,
    },
}

/// A row a mutation changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangedRow {
    /// Which kind.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// Its version after the mutation.
    pub version: i64,
}

/// The verdict on one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verdict {
    /// Which mutation.
    pub mutation_id: i64,
    /// Applied or rejected.
    #[serde(flatten)]
    pub outcome: VerdictOutcome,
}

/// Answer to a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// The highest mutation id with a verdict.
    pub last_mutation_id: i64,
    /// One verdict per pushed mutation, in order (replays return the recorded verdict).
    pub verdicts: Vec<Verdict>,
    /// The server's clock when it answered (epoch ms), so a device can tell how far its
    /// own clock is off.
    #[serde(default)]
    pub server_time: i64,
}

/// An events-stream poke: pull now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Poke {
    /// The newest change-log position in the caller's scopes.
    pub position: i64,
}
