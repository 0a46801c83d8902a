//! What the app reads, from the local view only (never the network): milliseconds.

use crate::error::Result;
use crate::rows;
use mentorsync_protocol::command::Entity;
use mentorsync_protocol::model::*;
use mentorsync_protocol::{MentorStatus, WorkItemStatus};
use rusqlite::{Connection, params_from_iter, types::Value as Sql};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Roster order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RosterSort {
    /// By name.
    #[default]
    Name,
    /// Soonest certification expiry first.
    CertificationExpiry,
}

/// Which mentors to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RosterFilter {
    /// Only this status.
    pub status: Option<MentorStatus>,
    /// Only certifications expiring within this many days (or expired).
    pub certification_expiring_within_days: Option<u32>,
    /// Case-insensitive part of the name.
    pub name: Option<String>,
    /// Order.
    pub sort: RosterSort,
    /// Page size (0 means 50).
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// One roster line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterItem {
    /// The mentor as the app should show them (pending commands applied).
    pub mentor: Mentor,
    /// Their open pause.
    pub open_pause: Option<Pause>,
    /// Active mentees.
    pub mentee_count: i64,
    /// Unresolved flags on those mentees.
    pub open_flags: i64,
    /// A command about this mentor is waiting for the server.
    pub pending: bool,
}

fn pending_keys(conn: &Connection) -> Result<HashSet<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT touched FROM outbox")?;
    let mut keys = HashSet::new();
    for t in stmt.query_map([], |r| r.get::<_, String>(0))? {
        keys.extend(serde_json::from_str::<Vec<(String, String)>>(&t?).unwrap_or_default());
    }
    Ok(keys)
}

/// A page of the roster. The per-mentor subqueries name their indexes: without
/// statistics on the query columns SQLite walked every row of the entity per mentor
/// (320 ms for a page of 50 on a 20,000-row device; 2 ms with the index). They are
/// answered from the indexes alone since the query columns are plain columns and
/// `view_by_mentor` holds the mentee (migrations 4 and 5: 0.8 ms; docs/performance.md, W7).
pub fn roster(conn: &Connection, f: &RosterFilter, now: i64) -> Result<Vec<RosterItem>> {
    let (sql, args) = roster_sql(f, now);
    let pending = pending_keys(conn)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mentor, pause, mentee_count, open_flags) = row?;
        let mentor: Mentor = serde_json::from_str(&mentor)?;
        let open_pause: Option<Pause> = pause.map(|p| serde_json::from_str(&p)).transpose()?;
        let pending = pending.contains(&("mentor".to_owned(), mentor.id.clone()))
            || open_pause
                .as_ref()
                .is_some_and(|p| pending.contains(&("pause".to_owned(), p.id.clone())));
        out.push(RosterItem {
            mentor,
            open_pause,
            mentee_count,
            open_flags,
            pending,
        });
    }
    Ok(out)
}

/// The roster page's statement and its arguments.
fn roster_sql(f: &RosterFilter, now: i64) -> (String, Vec<Sql>) {
    let mut sql = String::from(
        "SELECT v.data, \
           (SELECT p.data FROM view_rows p INDEXED BY view_by_mentor WHERE p.entity = 'pause' AND p.mentor_id = v.id \
              AND p.status IN ('requested', 'scheduled', 'active') LIMIT 1), \
           (SELECT COUNT(*) FROM view_rows a INDEXED BY view_by_mentor WHERE a.entity = 'mentee_assignment' \
              AND a.mentor_id = v.id AND a.status = 'active'), \
           (SELECT COUNT(*) FROM view_rows a INDEXED BY view_by_mentor \
              JOIN view_rows fl INDEXED BY view_by_mentee ON fl.entity = 'flag' AND fl.mentee_id = a.mentee_id \
              AND fl.status <> 'resolved' \
            WHERE a.entity = 'mentee_assignment' AND a.mentor_id = v.id AND a.status = 'active') \
         FROM view_rows v WHERE v.entity = 'mentor'",
    );
    let mut args: Vec<Sql> = Vec::new();
    if let Some(s) = f.status {
        args.push(Sql::Text(s.as_str().to_owned()));
        sql.push_str(&format!(" AND v.status = ?{}", args.len()));
    }
    if let Some(days) = f.certification_expiring_within_days {
        args.push(Sql::Integer(now + i64::from(days) * 86_400_000));
        sql.push_str(&format!(
            " AND v.cert IS NOT NULL AND v.cert < ?{}",
            args.len()
        ));
    }
    if let Some(n) = f.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        // instr, not LIKE: nothing to escape, and SQLite prepares a LIKE statement again
        // for every new pattern bound to it.
        args.push(Sql::Text(n.to_lowercase()));
        sql.push_str(&format!(" AND instr(v.name, ?{}) > 0", args.len()));
    }
    sql.push_str(match f.sort {
        RosterSort::Name => " ORDER BY v.name, v.id",
        RosterSort::CertificationExpiry => " ORDER BY v.cert IS NULL, v.cert, v.name, v.id",
    });
    args.push(Sql::Integer(if f.limit == 0 {
        50
    } else {
        i64::from(f.limit)
    }));
    args.push(Sql::Integer(i64::from(f.offset)));
    sql.push_str(&format!(
        " LIMIT ?{} OFFSET ?{}",
        args.len() - 1,
        args.len()
    ));
    (sql, args)
}

fn with_overdue(mut w: WorkItem, now: i64) -> WorkItem {
    w.overdue =
        w.sla_due_at < now && matches!(w.status, WorkItemStatus::Open | WorkItemStatus::InProgress);
    w
}

/// Open and in-progress items (of one mentor, or all held): overdue first, then
/// priority, then SLA.
pub fn work_queue(
    conn: &Connection,
    mentor_id: Option<&str>,
    now: i64,
    limit: u32,
) -> Result<Vec<WorkItem>> {
    let sql = format!(
        "SELECT data FROM view_rows{} WHERE entity = 'work_item' AND status IN ('open', 'in_progress') {} \
         ORDER BY CASE WHEN due < ?1 THEN 0 ELSE 1 END, \
           CASE json_extract(data, '$.priority') WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, \
           due, id LIMIT ?2",
        if mentor_id.is_some() {
            " INDEXED BY view_by_mentor"
        } else {
            ""
        },
        if mentor_id.is_some() {
            "AND mentor_id = ?3"
        } else {
            ""
        }
    );
    let mut args: Vec<Sql> = vec![
        Sql::Integer(now),
        Sql::Integer(if limit == 0 { 50 } else { i64::from(limit) }),
    ];
    if let Some(m) = mentor_id {
        args.push(Sql::Text(m.to_owned()));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(with_overdue(serde_json::from_str(&row?)?, now));
    }
    Ok(out)
}

/// Work-queue figures computed from the local rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Open or in progress.
    pub open: i64,
    /// Of those, past their SLA.
    pub overdue: i64,
    /// Of those, due before `day_end`.
    pub due_today: i64,
}

/// Counts for a mentor's queue (or all held items).
pub fn queue_stats(
    conn: &Connection,
    mentor_id: Option<&str>,
    now: i64,
    day_end: i64,
) -> Result<QueueStats> {
    let items = work_queue(conn, mentor_id, now, u32::MAX)?;
    Ok(QueueStats {
        open: items.len() as i64,
        overdue: items.iter().filter(|i| i.overdue).count() as i64,
        due_today: items.iter().filter(|i| i.sla_due_at < day_end).count() as i64,
    })
}

/// Sessions scheduled in `[from, to)`, soonest first.
pub fn sessions_between(conn: &Connection, from: i64, to: i64) -> Result<Vec<Session>> {
    let mut stmt =
        conn.prepare_cached("SELECT data FROM view_rows WHERE entity = 'session' AND at >= ?1 AND at < ?2 ORDER BY at, id")?;
    let rows = stmt.query_map([from, to], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?)?);
    }
    Ok(out)
}

/// One mentee on one screen.
pub fn cockpit(conn: &Connection, mentee_id: &str, now: i64) -> Result<Option<Cockpit>> {
    let Some((mentee, _)) = rows::get_view::<Mentee>(conn, Entity::Mentee, mentee_id)? else {
        return Ok(None);
    };
    let assignment = rows::view_where::<MenteeAssignment>(
        conn,
        Entity::MenteeAssignment,
        "mentee_id",
        mentee_id,
        &["active"],
    )?
    .into_iter()
    .next()
    .map(|(a, _)| a);
    let mut sessions: Vec<Session> =
        rows::view_where(conn, Entity::Session, "mentee_id", mentee_id, &[])?
            .into_iter()
            .map(|(s, _)| s)
            .collect();
    sessions.sort_by_key(|s| s.scheduled_at);
    let (upcoming, mut recent): (Vec<Session>, Vec<Session>) =
        sessions.into_iter().partition(|s| {
            s.status == mentorsync_protocol::SessionStatus::Scheduled && s.scheduled_at >= now
        });
    recent.reverse();
    let mut submissions: Vec<Submission> =
        rows::view_where(conn, Entity::Submission, "mentee_id", mentee_id, &[])?
            .into_iter()
            .map(|(s, _)| s)
            .collect();
    submissions.sort_by_key(|s| std::cmp::Reverse(s.submitted_at));
    let open_flags = rows::view_where(
        conn,
        Entity::Flag,
        "mentee_id",
        mentee_id,
        &["open", "acknowledged"],
    )?
    .into_iter()
    .map(|(f, _)| f)
    .collect();
    let open_work_items = rows::view_where::<WorkItem>(
        conn,
        Entity::WorkItem,
        "mentee_id",
        mentee_id,
        &["open", "in_progress"],
    )?
    .into_iter()
    .map(|(w, _)| with_overdue(w, now))
    .collect();
    Ok(Some(Cockpit {
        mentee,
        assignment,
        upcoming_sessions: upcoming,
        recent_sessions: recent,
        submissions,
        open_flags,
        open_work_items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name filter is a case-insensitive substring match in which `%`, `_` and `\`
    /// are plain characters.
    #[test]
    fn the_name_filter_matches_substrings_literally() {
        let (_dir, store) = crate::testing::store();
        let names = ["Ana Lee", "Bo 100% Sure", "Cy_Dee", "Dana Back\\slash"];
        for (i, name) in names.iter().enumerate() {
            let mentor = serde_json::json!({"id": format!("m{i}"), "display_name": name,
                "status": "active", "capacity_weekly": 3, "specialties": [], "availability": {},
                "certification_expires_at": null, "version": 1, "updated_at": 0});
            crate::rows::put_view(
                &store.conn(),
                Entity::Mentor,
                &format!("m{i}"),
                1,
                &mentor,
                "c1",
            )
            .unwrap();
        }
        let found = |needle: &str| -> Vec<String> {
            let f = RosterFilter {
                name: Some(needle.into()),
                ..Default::default()
            };
            roster(&store.conn(), &f, 0)
                .unwrap()
                .into_iter()
                .map(|r| r.mentor.display_name)
                .collect()
        };
        assert_eq!(found("ANA"), ["Ana Lee", "Dana Back\\slash"]);
        assert_eq!(found("%"), ["Bo 100% Sure"]);
        assert_eq!(found("_"), ["Cy_Dee"]);
        assert_eq!(found("k\\s"), ["Dana Back\\slash"]);
        assert_eq!(
            found("  lee "),
            ["Ana Lee"],
            "surrounding spaces are trimmed"
        );
        assert!(found("zz").is_empty());
        assert_eq!(found("").len(), 4, "an empty filter is no filter");
    }

    /// The roster's per-mentor counts are answered from the indexes alone: no read of a
    /// table row per assignment (docs/performance.md, W7).
    #[test]
    fn roster_counts_read_only_indexes() {
        let (_dir, store) = crate::testing::store();
        let f = RosterFilter {
            status: Some(MentorStatus::Active),
            name: Some("a".into()),
            ..Default::default()
        };
        let (sql, args) = roster_sql(&f, 0);
        let conn = store.conn();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(params_from_iter(args), |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("\n");
        for search in [
            "SEARCH a USING COVERING INDEX view_by_mentor",
            "SEARCH fl USING COVERING INDEX view_by_mentee",
        ] {
            assert!(plan.contains(search), "{search} in:\n{plan}");
        }
    }
}
