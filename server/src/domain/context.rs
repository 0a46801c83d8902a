//! The state one command carries through its transaction: who acts, when, which version
//! they expect, and every row it changed (for the response, and for the change log).

use super::DomainError;
use super::error::ChangedBy;
use crate::db::{ChangeRow, DbRow, FromDb, Q, Tx, q};
use crate::rows;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::rules::{Caller, Clock};
use mentorsync_protocol::{ErrorCode, Refusal, Role};
use serde::Serialize;

/// Who issues a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Every row touched must belong to this chapter.
    pub chapter_id: String,
    /// A signed-in person, or the scheduler.
    pub kind: ActorKind,
    /// The device command this is, when it arrived through push: `(client_id, mutation_id)`.
    /// Audit rows carry it, so that each applied mutation can be traced to exactly the
    /// transitions it made (and an operator can tell which phone did what).
    pub origin: Option<(String, i64)>,
    /// For a device command, when its person issued it, on the server's clock: it may have
    /// waited offline, and a time window it named may have passed meanwhile.
    pub issued_at: Option<i64>,
}

/// A person with a role, or the server's own scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in user.
    User {
        /// Their user id.
        id: String,
        /// Their role.
        role: Role,
    },
    /// Scheduled jobs; bypasses role checks, audited as `system`.
    System,
}

impl Actor {
    /// A signed-in user.
    pub fn user(chapter_id: impl Into<String>, id: impl Into<String>, role: Role) -> Self {
        Actor {
            chapter_id: chapter_id.into(),
            kind: ActorKind::User {
                id: id.into(),
                role,
            },
            origin: None,
            issued_at: None,
        }
    }

    /// The scheduler acting in a chapter.
    pub fn system(chapter_id: impl Into<String>) -> Self {
        Actor {
            chapter_id: chapter_id.into(),
            kind: ActorKind::System,
            origin: None,
            issued_at: None,
        }
    }

    /// The same actor, for a command its person issued at `issued_at` (server clock).
    pub fn issued(self, issued_at: Option<i64>) -> Self {
        Actor { issued_at, ..self }
    }

    /// The same actor, issuing mutation `mutation_id` of device `client_id`.
    pub fn via(&self, client_id: &str, mutation_id: i64) -> Self {
        Actor {
            origin: Some((client_id.to_owned(), mutation_id)),
            ..self.clone()
        }
    }

    /// The user's role; `None` for the scheduler.
    pub fn role(&self) -> Option<Role> {
        match &self.kind {
            ActorKind::User { role, .. } => Some(*role),
            ActorKind::System => None,
        }
    }

    /// The user's id; `None` for the scheduler.
    pub fn user_id(&self) -> Option<&str> {
        match &self.kind {
            ActorKind::User { id, .. } => Some(id),
            ActorKind::System => None,
        }
    }

    /// Admins and the scheduler may act on anything in the chapter.
    pub fn is_chapter_wide(&self) -> bool {
        matches!(
            self.kind,
            ActorKind::System
                | ActorKind::User {
                    role: Role::Admin,
                    ..
                }
        )
    }

    /// True when the actor is this user.
    pub fn is(&self, user_id: &str) -> bool {
        self.user_id() == Some(user_id)
    }

    fn audit_role(&self) -> &'static str {
        self.role().map_or("system", Role::as_str)
    }
}

/// A row a command changed, with its new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Changed {
    /// Which kind of row.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// Its version after the command.
    pub version: i64,
}

/// The outcome of an applied command: its main row as it is now, and every row it changed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Applied {
    /// The main row's kind (the mentor for `pause_mentor`).
    pub entity: Entity,
    /// The main row's id.
    pub id: String,
    /// The main row's new version.
    pub version: i64,
    /// The main row as JSON (the entity's wire row).
    pub row: serde_json::Value,
    /// Every row the command changed or created, in order.
    pub changes: Vec<Changed>,
}

/// What a command did, before its main row is read back: sync push answers with versions
/// only, so it skips that read; the REST endpoints call [`Done::with_row`].
#[derive(Debug, Clone)]
pub struct Done {
    /// The main row's kind.
    pub entity: Entity,
    /// The main row's id.
    pub id: String,
    /// Every row the command changed or created, in order.
    pub changes: Vec<Changed>,
}

impl Done {
    /// Reads the main row as it is now, in the command's transaction.
    pub async fn with_row(
        self,
        tx: &mut Tx,
        chapter_id: &str,
        now: i64,
    ) -> Result<Applied, DomainError> {
        let row = rows::load_json(tx, self.entity, &self.id, chapter_id, now)
            .await?
            .ok_or(DomainError::NotFound(self.entity))?;
        let version = row["version"].as_i64().unwrap_or(0);
        Ok(Applied {
            entity: self.entity,
            id: self.id,
            version,
            row,
            changes: self.changes,
        })
    }
}

/// A command in progress.
pub struct Ctx<'a> {
    /// The command's transaction.
    pub tx: &'a mut Tx,
    /// Who issues it.
    pub actor: &'a Actor,
    /// The command's time (epoch ms), from the server's clock.
    pub now: i64,
    expected_version: Option<i64>,
    changes: Vec<Changed>,
    premerged: Option<super::notes::Premerged>,
}

impl<'a> Ctx<'a> {
    /// Starts a command.
    pub fn new(tx: &'a mut Tx, actor: &'a Actor, now: i64, expected_version: Option<i64>) -> Self {
        Ctx {
            tx,
            actor,
            now,
            expected_version,
            changes: Vec::new(),
            premerged: None,
        }
    }

    /// Carries a notes merge done before the transaction (see `domain::notes`).
    pub fn with_premerged(mut self, premerged: Option<super::notes::Premerged>) -> Self {
        self.premerged = premerged;
        self
    }

    /// The merged notes of `session_id`, if they were merged ahead from `version`.
    pub(super) fn premerged(&self, session_id: &str, version: i64) -> Option<(String, Vec<u8>)> {
        self.premerged
            .as_ref()
            .and_then(|p| p.for_session(session_id, version))
    }

    /// The chapter every row must belong to.
    pub fn chapter(&self) -> &str {
        &self.actor.chapter_id
    }

    /// Loads a row of the caller's chapter; `lock` holds it until commit (PostgreSQL).
    pub async fn load<T: crate::db::FromDb>(
        &mut self,
        entity: Entity,
        id: &str,
        lock: bool,
    ) -> Result<T, DomainError> {
        let lock = if lock { self.tx.for_update() } else { "" };
        let query = rows::by_id(entity, lock)
            .bind(id)
            .bind(self.actor.chapter_id.clone());
        self.tx
            .fetch_optional::<T>(query)
            .await?
            .ok_or(DomainError::NotFound(entity))
    }

    /// The caller as the rule book sees them.
    pub fn caller(&self) -> Caller<'a> {
        match &self.actor.kind {
            ActorKind::User { id, role } => Caller::Person { id, role: *role },
            ActorKind::System => Caller::Scheduler,
        }
    }

    /// The command's clock for the rule book: now, and when its person issued it.
    pub fn clock(&self) -> Clock {
        Clock {
            now: self.now,
            issued_at: self.actor.issued_at,
        }
    }

    /// Whether the caller said which version of the command's target they saw and it is
    /// not `current_version`. Asked once, of the target row.
    pub fn stale(&mut self, current_version: i64) -> bool {
        matches!(self.expected_version.take(), Some(v) if v != current_version)
    }

    /// The rule book's verdict on the command's target `(entity, id)`: a stale version
    /// becomes a conflict that shows the row as it is now and who changed it.
    pub async fn decided<T>(
        &mut self,
        (entity, id): (Entity, &str),
        verdict: Result<T, Refusal>,
    ) -> Result<T, DomainError> {
        match verdict {
            Err(r) if r.code == ErrorCode::VERSION_CONFLICT => Err(self.conflict(entity, id).await),
            other => Ok(other?),
        }
    }

    /// Whether the caller is a coordinator who currently coordinates `mentor_id` (looked
    /// up only for coordinators, never cached: coordinators change).
    pub async fn coordinates(&mut self, mentor_id: &str) -> Result<bool, DomainError> {
        match (&self.actor.kind, mentor_id) {
            (
                ActorKind::User {
                    id,
                    role: Role::Coordinator,
                },
                m,
            ) => Ok(super::access::coordinates(self.tx, id, m).await?),
            _ => Ok(false),
        }
    }

    /// Runs a `… WHERE id = ? AND version = ?` update; no row means someone else changed
    /// it first (PostgreSQL re-checks the WHERE after waiting for their commit).
    pub async fn versioned_update(
        &mut self,
        entity: Entity,
        id: &str,
        update: Q,
    ) -> Result<(), DomainError> {
        if self.tx.execute(update).await? == 1 {
            Ok(())
        } else {
            Err(self.conflict(entity, id).await)
        }
    }

    async fn conflict(&mut self, entity: Entity, id: &str) -> DomainError {
        let current = rows::load_json(self.tx, entity, id, &self.actor.chapter_id, self.now)
            .await
            .ok()
            .flatten();
        let current_version = current
            .as_ref()
            .and_then(|c| c["version"].as_i64())
            .unwrap_or(0);
        let changed_by = self.last_changed_by(entity, id).await.ok().flatten();
        DomainError::VersionConflict {
            entity,
            current_version,
            current,
            changed_by,
        }
    }

    /// Who made the row's last recorded change, relative to this command's actor.
    async fn last_changed_by(
        &mut self,
        entity: Entity,
        id: &str,
    ) -> Result<Option<ChangedBy>, sqlx::Error> {
        let last: Option<LastChange> = self
            .tx
            .fetch_optional(
                q(
                    "SELECT a.actor_id, a.action, a.client_id, u.display_name FROM audit_log a \
                   LEFT JOIN users u ON u.id = a.actor_id \
                   WHERE a.entity = $1 AND a.entity_id = $2 ORDER BY a.id DESC LIMIT 1",
                )
                .bind(entity.as_str())
                .bind(id),
            )
            .await?;
        // Seeded and imported rows are audited as the system too, but nobody changed them.
        Ok(last
            .filter(|l| l.action != "seed")
            .map(|l| match l.actor_id {
                None => ChangedBy::Scheduler,
                Some(actor) if self.actor.is(&actor) => {
                    let mine = self.actor.origin.as_ref().map(|o| o.0.as_str());
                    if mine.is_some() && mine == l.client_id.as_deref() {
                        ChangedBy::ThisDevice
                    } else {
                        ChangedBy::YouElsewhere
                    }
                }
                Some(_) => ChangedBy::SomeoneElse {
                    name: l.display_name,
                },
            }))
    }

    /// Records a status change (or a creation, with `from = None`) in the audit log, and
    /// the row among the command's changes.
    #[allow(clippy::too_many_arguments)]
    pub async fn audit(
        &mut self,
        entity: Entity,
        id: &str,
        action: &str,
        from: Option<&str>,
        to: &str,
        version: i64,
        details: Option<serde_json::Value>,
    ) -> Result<(), DomainError> {
        self.tx
            .execute(
                q("INSERT INTO audit_log (chapter_id, entity, entity_id, action, from_status, to_status, \
                   actor_id, actor_role, at, details, client_id, mutation_id) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                .bind(self.actor.chapter_id.clone())
                .bind(entity.as_str())
                .bind(id)
                .bind(action)
                .bind(from)
                .bind(to)
                .bind(self.actor.user_id())
                .bind(self.actor.audit_role())
                .bind(self.now)
                .bind(details.map(|d| d.to_string()))
                .bind(self.actor.origin.as_ref().map(|o| o.0.clone()))
                .bind(self.actor.origin.as_ref().map(|o| o.1)),
            )
            .await?;
        self.changes.push(Changed {
            entity,
            id: id.to_owned(),
            version,
        });
        Ok(())
    }

    /// Records a row among the command's changes without an audit row (its content changed
    /// with another row's: a mentor's display name is their account's).
    pub(super) fn touched(&mut self, entity: Entity, id: &str, version: i64) {
        self.changes.push(Changed {
            entity,
            id: id.to_owned(),
            version,
        });
    }

    /// Writes a notification to the outbox in the command's transaction: it exists exactly
    /// when the change it announces committed.
    pub async fn notify(&mut self, n: crate::notify::NewNotification) -> Result<(), DomainError> {
        crate::notify::outbox::enqueue(self.tx, &self.actor.chapter_id, self.now, &n).await?;
        Ok(())
    }

    /// Records that a row left the scope it had (its mentor changed): readers of the old
    /// scope get a removal. Call before the update that moves it.
    pub fn scope_moved(&mut self, entity: Entity, id: &str, version: i64, old: rows::Scope) {
        self.tx.record_change(ChangeRow {
            chapter_id: self.actor.chapter_id.clone(),
            entity: entity.as_str(),
            entity_id: id.to_owned(),
            remove: true,
            version,
            scope: old,
            at: self.now,
        });
    }

    /// Appends every changed row to the change log (with its scope as it is now).
    pub async fn finish(self, (entity, id): (Entity, String)) -> Result<Done, DomainError> {
        let mut seen: Vec<(Entity, &str)> = Vec::new();
        for c in self.changes.iter().rev() {
            if seen.contains(&(c.entity, c.id.as_str())) {
                continue;
            }
            seen.push((c.entity, c.id.as_str()));
            let Some(scope) = rows::scope_of(self.tx, c.entity, &c.id).await? else {
                continue;
            };
            self.tx.record_change(ChangeRow {
                chapter_id: self.actor.chapter_id.clone(),
                entity: c.entity.as_str(),
                entity_id: c.id.clone(),
                remove: false,
                version: c.version,
                scope,
                at: self.now,
            });
        }
        Ok(Done {
            entity,
            id,
            changes: self.changes,
        })
    }
}

/// The last audit row of a row, as far as "who changed it" needs.
struct LastChange {
    actor_id: Option<String>,
    action: String,
    client_id: Option<String>,
    display_name: Option<String>,
}

impl FromDb for LastChange {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(LastChange {
            actor_id: r.get("actor_id")?,
            action: r.get("action")?,
            client_id: r.get("client_id")?,
            display_name: r.get("display_name")?,
        })
    }
}
