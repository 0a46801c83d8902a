//! The audit trail as people read it: who changed which row, from what to what, and when.
//! Every status change is written in the transaction of the change (docs/guarantees.md),
//! so this is the whole history, not a sample.

use crate::command::Entity;
use crate::status::string_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Who acted: a person in one of the roles, or the server's scheduler (`system`).
    ActorRole {
        Admin = "admin", Coordinator = "coordinator", Mentor = "mentor", Mentee = "mentee",
        Director = "director", System = "system",
    }
);

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Increases with every entry of the server.
    pub id: i64,
    /// When the change committed (RFC 3339, UTC).
    pub at: DateTime<Utc>,
    /// The kind of row that changed.
    pub entity: Entity,
    /// The row's id.
    pub entity_id: String,
    /// The command or job step that made the change (e.g. `pause_mentor`, `overdue`).
    pub action: String,
    /// The status before; `None` when the change created the row.
    pub from_status: Option<String>,
    /// The status after.
    pub to_status: String,
    /// The person who acted; `None` for the scheduler.
    pub actor_id: Option<String>,
    /// Their display name, as it is now.
    pub actor_name: Option<String>,
    /// Their role when they acted, or `system`.
    pub actor_role: ActorRole,
    /// What the command carried beyond the status (a pause's reason, a job's finding).
    pub details: Option<serde_json::Value>,
    /// For a change a device sent through sync push: the device's sync id and the
    /// mutation's number, which tie the change to exactly one queued command. Shown to
    /// admins only.
    pub device: Option<AuditDevice>,
}

/// The device command behind a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditDevice {
    /// The device's sync id (`client_id`).
    pub client_id: String,
    /// The mutation's number in that device's outbox.
    pub mutation_id: i64,
}

/// One page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// The entries, newest first.
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; `None` on the last page.
    pub next_cursor: Option<String>,
}
