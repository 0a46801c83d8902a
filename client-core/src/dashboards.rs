//! Dashboards as the server computed them, read from the local view: a director's cohort
//! figures, a mentor's home screen, a coordinator's counts. Each row carries its
//! `computed_at`, so the app can say how old the figures are when offline.

use crate::error::Result;
use mentorsync_protocol::dashboard::{
    CohortFigures, CoordinatorFigures, Dashboard, DashboardKind, MentorDashboard,
};
use rusqlite::Connection;

/// Every dashboard row held (of one kind, or all), by id.
pub fn all(conn: &Connection, kind: Option<DashboardKind>) -> Result<Vec<Dashboard>> {
    let mut stmt =
        conn.prepare_cached("SELECT data FROM view_rows WHERE entity = 'dashboard' ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        let d: Dashboard = serde_json::from_str(&row?)?;
        if kind.is_none_or(|k| d.kind == k) {
            out.push(d);
        }
    }
    Ok(out)
}

fn one<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    kind: DashboardKind,
    subject: &str,
) -> Result<Option<T>> {
    let id = format!("{kind}:{subject}");
    let mut stmt =
        conn.prepare_cached("SELECT data FROM view_rows WHERE entity = 'dashboard' AND id = ?1")?;
    let mut rows = stmt.query([id])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let d: Dashboard = serde_json::from_str(&row.get::<_, String>(0)?)?;
    Ok(Some(serde_json::from_value(d.figures)?))
}

/// A mentor's dashboard, if this device holds it (the mentor's own, or a coordinator's
/// mentors').
pub fn mentor(conn: &Connection, mentor_id: &str) -> Result<Option<MentorDashboard>> {
    one(conn, DashboardKind::Mentor, mentor_id)
}

/// A coordinator's figures.
pub fn coordinator(conn: &Connection, coordinator_id: &str) -> Result<Option<CoordinatorFigures>> {
    one(conn, DashboardKind::Coordinator, coordinator_id)
}

/// The cohorts this device holds figures for (a director's), by name.
pub fn cohorts(conn: &Connection) -> Result<Vec<CohortFigures>> {
    let mut out = Vec::new();
    for d in all(conn, Some(DashboardKind::Cohort))? {
        out.push(serde_json::from_value::<CohortFigures>(d.figures)?);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.cohort_id.cmp(&b.cohort_id)));
    Ok(out)
}
