//! The list screens besides the roster and the work queue: mentees, flags, pause requests
//! awaiting a decision, submissions awaiting review, cohorts, the inbox. Each is one indexed query on
//! the local view (an `(entity, status, …)` or `(entity, name, …)` index), so a screen
//! reads in milliseconds however much the device holds.

use crate::error::Result;
use mentorsync_protocol::model::{Cohort, Flag, InboxItem, Mentee, Pause, Submission};
use mentorsync_protocol::{FlagSeverity, FlagStatus};
use rusqlite::{Connection, params_from_iter, types::Value as Sql};
use serde::de::DeserializeOwned;

/// One line of the mentee list.
#[derive(Debug, Clone, PartialEq)]
pub struct MenteeItem {
    /// The mentee as shown (pending commands applied).
    pub mentee: Mentee,
    /// Their mentor, while an assignment is active.
    pub mentor_id: Option<String>,
    /// Open and acknowledged flags on them.
    pub open_flags: i64,
}

/// Which mentees to list.
#[derive(Debug, Clone, Default)]
pub struct MenteeFilter {
    /// Only those enrolled in this cohort.
    pub cohort_id: Option<String>,
    /// Only those of this mentor (active assignment).
    pub mentor_id: Option<String>,
    /// Case-insensitive part of the name.
    pub name: Option<String>,
    /// Page size (0 means 50).
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// The most rows one list call reads and converts (an app asking for `u32::MAX` gets
/// this many): a screen pages, it does not load a chapter.
pub const MAX_PAGE: u32 = 1_000;

fn page(limit: u32) -> i64 {
    if limit == 0 {
        50
    } else {
        i64::from(limit.min(MAX_PAGE))
    }
}

fn decode<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    args: Vec<Sql>,
) -> Result<Vec<(T, Vec<Sql>)>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let width = stmt.column_count();
    let rows = stmt.query_map(params_from_iter(args), |r| {
        let data: String = r.get(0)?;
        let extra = (1..width)
            .map(|i| r.get::<_, Sql>(i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((data, extra))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (data, extra) = row?;
        out.push((serde_json::from_str(&data)?, extra));
    }
    Ok(out)
}

fn int(v: &Sql) -> i64 {
    match v {
        Sql::Integer(i) => *i,
        _ => 0,
    }
}

/// Mentees by name, with their mentor and open flags.
pub fn mentees(conn: &Connection, f: &MenteeFilter) -> Result<Vec<MenteeItem>> {
    let mut sql = String::from(
        "SELECT v.data, \
           (SELECT a.mentor_id FROM view_rows a INDEXED BY view_by_mentee WHERE a.entity = 'mentee_assignment' \
              AND a.mentee_id = v.id AND a.status = 'active' LIMIT 1) AS mentor, \
           (SELECT COUNT(*) FROM view_rows fl INDEXED BY view_by_mentee WHERE fl.entity = 'flag' \
              AND fl.mentee_id = v.id AND fl.status IN ('open', 'acknowledged')) \
         FROM view_rows v INDEXED BY view_by_name WHERE v.entity = 'mentee'",
    );
    let mut args: Vec<Sql> = Vec::new();
    if let Some(c) = &f.cohort_id {
        args.push(Sql::Text(c.clone()));
        sql.push_str(&format!(
            " AND json_extract(v.data, '$.cohort_id') = ?{}",
            args.len()
        ));
    }
    if let Some(m) = &f.mentor_id {
        args.push(Sql::Text(m.clone()));
        sql.push_str(&format!(" AND mentor = ?{}", args.len()));
    }
    if let Some(n) = f.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        args.push(Sql::Text(n.to_lowercase()));
        sql.push_str(&format!(" AND instr(v.name, ?{}) > 0", args.len()));
    }
    args.push(Sql::Integer(page(f.limit)));
    args.push(Sql::Integer(i64::from(f.offset)));
    sql.push_str(&format!(
        " ORDER BY v.name, v.id LIMIT ?{} OFFSET ?{}",
        args.len() - 1,
        args.len()
    ));
    Ok(decode::<Mentee>(conn, &sql, args)?
        .into_iter()
        .map(|(mentee, extra)| MenteeItem {
            mentee,
            mentor_id: match &extra[0] {
                Sql::Text(t) => Some(t.clone()),
                _ => None,
            },
            open_flags: int(&extra[1]),
        })
        .collect())
}

/// Flags in these statuses (all when empty), of one mentee or all held: the most serious
/// first, then the newest.
pub fn flags(
    conn: &Connection,
    statuses: &[FlagStatus],
    mentee_id: Option<&str>,
    limit: u32,
) -> Result<Vec<Flag>> {
    let wanted: Vec<FlagStatus> = if statuses.is_empty() {
        FlagStatus::ALL.to_vec()
    } else {
        statuses.to_vec()
    };
    let mut args: Vec<Sql> = wanted
        .iter()
        .map(|s| Sql::Text(s.as_str().to_owned()))
        .collect();
    let marks = (1..=args.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let severity = FlagSeverity::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| format!("WHEN '{}' THEN {i}", s.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut sql = format!(
        "SELECT data FROM view_rows INDEXED BY view_by_mentee WHERE entity = 'flag' AND status IN ({marks})"
    );
    if let Some(m) = mentee_id {
        args.push(Sql::Text(m.to_owned()));
        sql.push_str(&format!(" AND mentee_id = ?{}", args.len()));
    }
    args.push(Sql::Integer(page(limit)));
    sql.push_str(&format!(
        " ORDER BY CASE json_extract(data, '$.severity') {severity} END DESC, \
           json_extract(data, '$.created_at') DESC, id LIMIT ?{}",
        args.len()
    ));
    Ok(decode::<Flag>(conn, &sql, args)?
        .into_iter()
        .map(|(f, _)| f)
        .collect())
}

/// Pauses mentors asked for that wait for a coordinator's decision, oldest first.
pub fn pause_requests(conn: &Connection) -> Result<Vec<Pause>> {
    Ok(decode::<Pause>(
        conn,
        "SELECT data FROM view_rows INDEXED BY view_by_status_name WHERE entity = 'pause' AND status = 'requested' \
         ORDER BY json_extract(data, '$.updated_at'), id LIMIT ?1",
        vec![Sql::Integer(page(MAX_PAGE))],
    )?
    .into_iter()
    .map(|(p, _)| p)
    .collect())
}

/// Submissions waiting for a review (of one mentor, or all held), oldest first.
pub fn submissions_to_review(
    conn: &Connection,
    mentor_id: Option<&str>,
) -> Result<Vec<Submission>> {
    let (sql, args) = match mentor_id {
        Some(m) => (
            "SELECT data FROM view_rows INDEXED BY view_by_mentor WHERE entity = 'submission' \
             AND mentor_id = ?1 AND status = 'submitted' ORDER BY json_extract(data, '$.submitted_at'), id LIMIT ?2",
            vec![Sql::Text(m.to_owned()), Sql::Integer(page(MAX_PAGE))],
        ),
        None => (
            "SELECT data FROM view_rows INDEXED BY view_by_status_name WHERE entity = 'submission' \
             AND status = 'submitted' ORDER BY json_extract(data, '$.submitted_at'), id LIMIT ?1",
            vec![Sql::Integer(page(MAX_PAGE))],
        ),
    };
    Ok(decode::<Submission>(conn, sql, args)?
        .into_iter()
        .map(|(s, _)| s)
        .collect())
}

/// The cohorts held, soonest start first.
pub fn cohorts(conn: &Connection) -> Result<Vec<Cohort>> {
    Ok(decode::<Cohort>(
        conn,
        "SELECT data FROM view_rows WHERE entity = 'cohort' ORDER BY json_extract(data, '$.starts_at'), id LIMIT ?1",
        vec![Sql::Integer(page(MAX_PAGE))],
    )?
    .into_iter()
    .map(|(c, _)| c)
    .collect())
}

/// The person's inbox, newest first, without dismissed items (only unread ones when
/// `unread_only`). Ids are time-ordered (UUIDv7, given at dispatch), so the id index orders
/// them: an inbox item has no name, and `view_by_name` holds them by id.
pub fn inbox(conn: &Connection, unread_only: bool, limit: u32) -> Result<Vec<InboxItem>> {
    let unread = if unread_only {
        " AND json_extract(data, '$.read_at') IS NULL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT data FROM view_rows INDEXED BY view_by_name WHERE entity = 'inbox_item' AND name IS NULL \
         AND json_extract(data, '$.dismissed_at') IS NULL{unread} ORDER BY id DESC LIMIT ?1"
    );
    Ok(
        decode::<InboxItem>(conn, &sql, vec![Sql::Integer(page(limit))])?
            .into_iter()
            .map(|(i, _)| i)
            .collect(),
    )
}

/// How many inbox items are neither read nor dismissed (the badge on the app's icon).
pub fn unread_count(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM view_rows INDEXED BY view_by_name WHERE entity = 'inbox_item' AND name IS NULL \
             AND json_extract(data, '$.read_at') IS NULL AND json_extract(data, '$.dismissed_at') IS NULL",
        )?
        .query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mentorsync_protocol::command::Entity;
    use serde_json::json;

    fn put(conn: &Connection, entity: Entity, id: &str, row: serde_json::Value) {
        crate::rows::put_view(conn, entity, id, 1, &row, "c1").unwrap();
    }

    fn flag(id: &str, mentee: &str, severity: &str, status: &str, at: i64) -> serde_json::Value {
        json!({"id": id, "mentee_id": mentee, "raised_by": "m1", "severity": severity,
               "status": status, "reason": "r", "created_at": at, "version": 1, "updated_at": at})
    }

    #[test]
    fn flags_come_most_serious_then_newest_first() {
        let (_dir, store) = crate::testing::store();
        let conn = store.conn();
        put(
            &conn,
            Entity::Flag,
            "f1",
            flag("f1", "e1", "low", "open", 3),
        );
        put(
            &conn,
            Entity::Flag,
            "f2",
            flag("f2", "e1", "critical", "open", 1),
        );
        put(
            &conn,
            Entity::Flag,
            "f3",
            flag("f3", "e2", "high", "acknowledged", 2),
        );
        put(
            &conn,
            Entity::Flag,
            "f4",
            flag("f4", "e2", "critical", "resolved", 4),
        );
        put(
            &conn,
            Entity::Flag,
            "f5",
            flag("f5", "e2", "low", "open", 5),
        );
        let ids = |v: Vec<Flag>| v.into_iter().map(|f| f.id).collect::<Vec<_>>();
        let open = [FlagStatus::Open, FlagStatus::Acknowledged];
        assert_eq!(
            ids(flags(&conn, &open, None, 0).unwrap()),
            ["f2", "f3", "f5", "f1"]
        );
        assert_eq!(
            ids(flags(&conn, &open, Some("e2"), 0).unwrap()),
            ["f3", "f5"]
        );
        assert_eq!(ids(flags(&conn, &[], None, 2).unwrap()), ["f4", "f2"]);
    }

    #[test]
    fn the_inbox_is_newest_first_without_dismissed_items_and_counts_unread() {
        let (_dir, store) = crate::testing::store();
        let conn = store.conn();
        let item = |id: &str, read: Option<i64>, dismissed: Option<i64>| {
            json!({"id": id, "recipient_id": "me", "notification_id": format!("n{id}"),
                   "kind": "pause_requested", "entity": "pause", "entity_id": "p", "mentor_id": null,
                   "message": "m", "created_at": 1, "read_at": read, "dismissed_at": dismissed,
                   "version": 1, "updated_at": 1})
        };
        put(&conn, Entity::InboxItem, "i1", item("i1", None, None));
        put(&conn, Entity::InboxItem, "i2", item("i2", Some(5), None));
        put(&conn, Entity::InboxItem, "i3", item("i3", Some(5), Some(6)));
        put(&conn, Entity::InboxItem, "i4", item("i4", None, None));
        let ids = |v: Vec<InboxItem>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
        assert_eq!(ids(inbox(&conn, false, 0).unwrap()), ["i4", "i2", "i1"]);
        assert_eq!(ids(inbox(&conn, true, 0).unwrap()), ["i4", "i1"]);
        assert_eq!(ids(inbox(&conn, false, 1).unwrap()), ["i4"]);
        assert_eq!(unread_count(&conn).unwrap(), 2);
    }

    /// However much the device holds and whatever the app asks for, one call reads at
    /// most a page of `MAX_PAGE` rows.
    #[test]
    fn a_list_call_reads_at_most_one_bounded_page() {
        let (_dir, store) = crate::testing::store();
        let conn = store.conn();
        let over = MAX_PAGE as usize + 5;
        for i in 0..over {
            let id = format!("f{i:05}");
            put(
                &conn,
                Entity::Flag,
                &id,
                flag(&id, "e1", "low", "open", i as i64),
            );
            let pause = format!("p{i:05}");
            put(
                &conn,
                Entity::Pause,
                &pause,
                json!({"id": pause, "mentor_id": "m1", "status": "requested", "reason": "r",
                       "starts_at": 0, "ends_at": null, "created_by": "m1", "decided_by": null,
                       "version": 1, "updated_at": i}),
            );
        }
        assert_eq!(
            flags(&conn, &[], None, u32::MAX).unwrap().len(),
            MAX_PAGE as usize
        );
        assert_eq!(
            flags(&conn, &[], None, 0).unwrap().len(),
            50,
            "0 means a default page"
        );
        assert_eq!(pause_requests(&conn).unwrap().len(), MAX_PAGE as usize);
    }

    #[test]
    fn mentees_show_their_mentor_and_open_flags() {
        let (_dir, store) = crate::testing::store();
        let conn = store.conn();
        for (id, name, cohort) in [("e1", "Zoe", Some("c1")), ("e2", "Ari", None)] {
            put(
                &conn,
                Entity::Mentee,
                id,
                json!({"id": id, "display_name": name, "cohort_id": cohort, "interests": [],
                       "version": 1, "updated_at": 0}),
            );
        }
        put(
            &conn,
            Entity::MenteeAssignment,
            "a1",
            json!({"id": "a1", "mentor_id": "m1", "mentee_id": "e1", "status": "active",
                   "started_at": 0, "ended_at": null, "version": 1, "updated_at": 0}),
        );
        put(
            &conn,
            Entity::Flag,
            "f1",
            flag("f1", "e1", "low", "open", 1),
        );
        put(
            &conn,
            Entity::Flag,
            "f2",
            flag("f2", "e1", "low", "resolved", 1),
        );
        let all = mentees(&conn, &MenteeFilter::default()).unwrap();
        assert_eq!(
            all.iter()
                .map(|m| (m.mentee.id.as_str(), m.mentor_id.as_deref(), m.open_flags))
                .collect::<Vec<_>>(),
            [("e2", None, 0), ("e1", Some("m1"), 1)]
        );
        let of = |f: MenteeFilter| -> Vec<String> {
            mentees(&conn, &f)
                .unwrap()
                .into_iter()
                .map(|m| m.mentee.id)
                .collect()
        };
        let mentor = MenteeFilter {
            mentor_id: Some("m1".into()),
            ..Default::default()
        };
        assert_eq!(of(mentor), ["e1"]);
        let cohort = MenteeFilter {
            cohort_id: Some("c1".into()),
            ..Default::default()
        };
        assert_eq!(of(cohort), ["e1"]);
        let name = MenteeFilter {
            name: Some("AR".into()),
            ..Default::default()
        };
        assert_eq!(of(name), ["e2"]);
    }
}
