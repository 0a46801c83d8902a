//! Who sees which synced rows. Every row belongs to scope keys (`chapter:C` always, then
//! `mentor:M`, `mentee:X`, `coordinator:K`, `cohort:H` from its own columns; an inbox item
//! only to `user:U`, its recipient). A caller holds a scope
//! set derived from current relationships and their own `user:` key; a row is visible when
//! the two meet. The same
//! rule exists twice, on purpose, in two forms that must agree: a SQL predicate (to filter
//! the change log and snapshots in the database) and a set (to check rows in Rust and to
//! diff a client's scopes between rounds).

use crate::db::{Arg, Tx, q};
use crate::rows::ScopeExprs;
use mentorsync_protocol::Role;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The scope columns of the change log itself (aliased `t`).
pub const CHANGE_LOG: ScopeExprs = ScopeExprs {
    table: "change_log t",
    key: "t.position",
    mentor: Some("t.mentor_id"),
    mentee: Some("t.mentee_id"),
    coordinator: Some("t.coordinator_id"),
    cohort: Some("t.cohort_id"),
    user: Some("t.recipient_id"),
};

/// The caller of a sync endpoint.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Their chapter.
    pub chapter_id: String,
    /// Their user id.
    pub user_id: String,
    /// Their role.
    pub role: Role,
}

/// A sorted set of scope keys.
pub type ScopeSet = BTreeSet<String>;

/// The ids a one-column query (its column named `x`, one `$1` argument) returns, fetched
/// as a single comma-joined row. A coordinator's scope holds hundreds of ids and every pull
/// reads it; row by row, each id cost a hop to SQLite's worker thread. Ids are UUIDs.
async fn ids(tx: &mut Tx, select: &str, arg: &str) -> Result<Vec<String>, sqlx::Error> {
    let joined: String = tx.fetch_one(q(tx.joined_ids(select)).bind(arg)).await?;
    Ok(split_ids(&joined))
}

/// The ids of a `Tx::joined_ids` row.
pub fn split_ids(joined: &str) -> Vec<String> {
    joined
        .split(',')
        .filter(|i| !i.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The caller's scope set now.
pub async fn current(tx: &mut Tx, v: &Viewer) -> Result<ScopeSet, sqlx::Error> {
    let mut set = ScopeSet::new();
    let keys = |kind: &str, ids: Vec<String>| {
        ids.into_iter()
            .map(move |i| format!("{kind}:{i}"))
            .collect::<Vec<_>>()
    };
    let me = v.user_id.as_str();
    set.insert(format!("user:{me}"));
    match v.role {
        Role::Admin => {
            set.insert(format!("chapter:{}", v.chapter_id));
        }
        Role::Coordinator => {
            set.insert(format!("coordinator:{me}"));
            let mentors = ids(
                tx,
                "SELECT mentor_id AS x FROM coordinator_assignments WHERE coordinator_id = $1 AND status = 'active'",
                me,
            )
            .await?;
            let mentees = ids(
                tx,
                "SELECT ma.mentee_id AS x FROM mentee_assignments ma JOIN coordinator_assignments ca \
                 ON ca.mentor_id = ma.mentor_id WHERE ca.coordinator_id = $1 AND ca.status = 'active' \
                 AND ma.status = 'active'",
                me,
            )
            .await?;
            set.extend(keys("mentor", mentors));
            set.extend(keys("mentee", mentees));
        }
        Role::Mentor => {
            set.insert(format!("mentor:{me}"));
            let mentees = ids(
                tx,
                "SELECT mentee_id AS x FROM mentee_assignments WHERE mentor_id = $1 AND status = 'active'",
                me,
            )
            .await?;
            set.extend(keys("mentee", mentees));
        }
        Role::Mentee => {
            set.insert(format!("mentee:{me}"));
        }
        Role::Director => {
            let cohorts = ids(
                tx,
                "SELECT cohort_id AS x FROM cohort_directors WHERE director_id = $1",
                me,
            )
            .await?;
            set.extend(keys("cohort", cohorts));
        }
    }
    Ok(set)
}

/// Whether `role` ever receives rows of `entity`, whatever their scope keys. A mentee sees
/// their own profile, assignments, sessions and submissions (DOMAIN.md) — not the flags
/// raised about them, nor the work their mentor does about them, though those rows carry
/// the mentee's key for their mentor's and coordinator's sake.
pub fn role_sees(role: Role, entity: mentorsync_protocol::command::Entity) -> bool {
    use mentorsync_protocol::command::Entity::*;
    match role {
        Role::Mentee => matches!(
            entity,
            Mentee | MenteeAssignment | Session | Submission | InboxItem
        ),
        _ => true,
    }
}

/// Whether a row with these scope keys is visible to a holder of `set`.
pub fn visible(row_scopes: &[String], set: &ScopeSet) -> bool {
    row_scopes.iter().any(|k| set.contains(k))
}

/// A stable name for a scope set (cursors carry it; sets are stored by it).
pub fn hash(set: &ScopeSet) -> String {
    let mut h = Sha256::new();
    for k in set {
        h.update(k.as_bytes());
        h.update(b"\n");
    }
    format!("{:x}", h.finalize())
}

/// Builds SQL with positional arguments appended as they are named.
#[derive(Debug, Default)]
pub struct SqlBuf {
    /// The text.
    pub sql: String,
    /// The arguments, `$1` first.
    pub args: Vec<Arg>,
}

impl SqlBuf {
    /// Adds an argument and returns the `$N` that refers to it.
    pub fn arg(&mut self, a: impl Into<Arg>) -> String {
        self.args.push(a.into());
        format!("${}", self.args.len())
    }

    /// Appends text.
    pub fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    /// The finished query.
    pub fn query(self) -> crate::db::Q {
        let mut query = q(self.sql);
        for a in self.args {
            query = query.bind(a);
        }
        query
    }
}

/// A SQL condition over the given scope columns that is true for rows the viewer sees now.
pub fn predicate(v: &Viewer, x: &ScopeExprs, buf: &mut SqlBuf) -> String {
    let mut any: Vec<String> = Vec::new();
    // A row that is one person's (its user column set) is theirs alone, admins included.
    if let Some(u) = x.user {
        let me = buf.arg(v.user_id.as_str());
        if v.role == Role::Admin {
            return format!("({u} IS NULL OR {u} = {me})");
        }
        any.push(format!("{u} = {me}"));
    }
    match v.role {
        Role::Admin => return "1 = 1".to_owned(),
        Role::Director => {
            if let Some(h) = x.cohort {
                let me = buf.arg(v.user_id.as_str());
                any.push(format!(
                    "{h} IN (SELECT cohort_id FROM cohort_directors WHERE director_id = {me})"
                ));
            }
        }
        Role::Mentee => {
            if let Some(e) = x.mentee {
                any.push(format!("{e} = {}", buf.arg(v.user_id.as_str())));
            }
        }
        Role::Mentor => {
            if let Some(m) = x.mentor {
                any.push(format!("{m} = {}", buf.arg(v.user_id.as_str())));
            }
            if let Some(e) = x.mentee {
                let me = buf.arg(v.user_id.as_str());
                any.push(format!(
                    "{e} IN (SELECT mentee_id FROM mentee_assignments WHERE mentor_id = {me} AND status = 'active')"
                ));
            }
        }
        Role::Coordinator => {
            if let Some(c) = x.coordinator {
                any.push(format!("{c} = {}", buf.arg(v.user_id.as_str())));
            }
            if let Some(m) = x.mentor {
                let me = buf.arg(v.user_id.as_str());
                any.push(format!(
                    "{m} IN (SELECT mentor_id FROM coordinator_assignments WHERE coordinator_id = {me} AND status = 'active')"
                ));
            }
            if let Some(e) = x.mentee {
                let me = buf.arg(v.user_id.as_str());
                any.push(format!(
                    "{e} IN (SELECT ma.mentee_id FROM mentee_assignments ma JOIN coordinator_assignments ca \
                     ON ca.mentor_id = ma.mentor_id WHERE ca.coordinator_id = {me} AND ca.status = 'active' \
                     AND ma.status = 'active')"
                ));
            }
        }
    }
    if any.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("({})", any.join(" OR "))
    }
}

/// A SQL condition true for rows in any of `keys` (for re-syncing just the added scopes).
pub fn keys_predicate(keys: &[String], x: &ScopeExprs, buf: &mut SqlBuf) -> String {
    let mut any = Vec::new();
    for (kind, expr) in [
        ("mentor", x.mentor),
        ("mentee", x.mentee),
        ("coordinator", x.coordinator),
        ("cohort", x.cohort),
        ("user", x.user),
    ] {
        let Some(expr) = expr else { continue };
        let ids: Vec<String> = keys
            .iter()
            .filter_map(|k| {
                k.strip_prefix(kind)
                    .and_then(|r| r.strip_prefix(':'))
                    .map(|r| buf.arg(r))
            })
            .collect();
        if !ids.is_empty() {
            any.push(format!("{expr} IN ({})", ids.join(", ")));
        }
    }
    if any.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("({})", any.join(" OR "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_needs_a_shared_key() {
        let set: ScopeSet = ["mentor:m1".to_owned(), "mentee:x".to_owned()].into();
        assert!(visible(&["chapter:c".into(), "mentee:x".into()], &set));
        assert!(!visible(&["chapter:c".into(), "mentor:m2".into()], &set));
    }

    #[test]
    fn hash_depends_on_content_only() {
        let a: ScopeSet = ["b".to_owned(), "a".to_owned()].into();
        let b: ScopeSet = ["a".to_owned(), "b".to_owned()].into();
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&ScopeSet::new()));
    }

    #[test]
    fn keys_predicate_binds_ids_by_kind() {
        let x = crate::rows::scope_exprs(mentorsync_protocol::command::Entity::Session);
        let mut buf = SqlBuf::default();
        let p = keys_predicate(&["mentee:x1".into(), "mentor:m1".into()], &x, &mut buf);
        assert_eq!(p, "(t.mentor_id IN ($1) OR t.mentee_id IN ($2))");
        assert_eq!(buf.args.len(), 2);
    }
}
