//! Reading and writing the two layers of rows.

use crate::error::Result;
use mentorsync_protocol::command::Entity;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::LazyLock;

/// A row key.
pub type Key = (Entity, String);

/// Stores a confirmed row unless a newer version is already held. Returns whether it
/// changed anything.
pub fn upsert_server(
    conn: &Connection,
    entity: Entity,
    id: &str,
    version: i64,
    scopes: &[String],
    row: &Value,
) -> Result<bool> {
    // Cached: a whole-chapter sync runs this 100,000 times, and parsing its SQL each time
    // was a fifth of publishing the round.
    let n = conn
        .prepare_cached(
            "INSERT INTO server_rows (entity, id, version, scopes, data) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (entity, id) DO UPDATE SET version = excluded.version, scopes = excluded.scopes, data = excluded.data \
             WHERE excluded.version >= server_rows.version",
        )?
        .execute(params![entity.as_str(), id, version, serde_json::to_string(scopes)?, row.to_string()])?;
    Ok(n > 0)
}

/// Forgets a confirmed row.
pub fn remove_server(conn: &Connection, entity: Entity, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM server_rows WHERE entity = ?1 AND id = ?2")?
        .execute(params![entity.as_str(), id])?;
    Ok(())
}

/// The view's columns: the row, then the query columns the indexes hold.
const VIEW_COLUMNS: &str =
    "entity, id, version, scopes, data, status, name, mentor_id, mentee_id, due, at, cert";

/// The query columns of a view row, from its entity, id and JSON (SQL expressions). They
/// are plain columns, not generated ones, so that an index on them covers a query
/// (migration 5); every write to `view_rows` goes through here.
fn query_columns(entity: &str, id: &str, data: &str) -> String {
    format!(
        "json_extract({data}, '$.status'), lower(json_extract({data}, '$.display_name')), \
         CASE {entity} WHEN 'mentor' THEN {id} ELSE json_extract({data}, '$.mentor_id') END, \
         CASE {entity} WHEN 'mentee' THEN {id} ELSE json_extract({data}, '$.mentee_id') END, \
         json_extract({data}, '$.sla_due_at'), json_extract({data}, '$.scheduled_at'), \
         json_extract({data}, '$.certification_expires_at')"
    )
}

/// The statement copying the confirmed rows that match `filter` into the view.
fn copy_to_view_sql(filter: &str) -> String {
    format!(
        "INSERT INTO view_rows ({VIEW_COLUMNS}) SELECT entity, id, version, scopes, data, {} \
         FROM server_rows WHERE {filter}",
        query_columns("entity", "id", "data")
    )
}

// The view's statements, built once: every optimistic write and every rebased row runs
// one, and `prepare_cached` finds a statement by its text.
static RESET_ROW: LazyLock<String> = LazyLock::new(|| copy_to_view_sql("entity = ?1 AND id = ?2"));
static RESET_ENTITY: LazyLock<String> = LazyLock::new(|| copy_to_view_sql("entity = ?1"));
static PUT_VIEW: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT OR REPLACE INTO view_rows ({VIEW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, {})",
        query_columns("?1", "?2", "?5")
    )
});

/// Makes the view row equal to the confirmed one (or absent).
pub fn reset_view(conn: &Connection, entity: Entity, id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM view_rows WHERE entity = ?1 AND id = ?2",
        params![entity.as_str(), id],
    )?;
    conn.prepare_cached(&RESET_ROW)?
        .execute(params![entity.as_str(), id])?;
    Ok(())
}

/// Makes the view of whole entities equal to the confirmed rows.
pub fn reset_view_entities(conn: &Connection, entities: &[Entity]) -> Result<()> {
    for e in entities {
        conn.execute("DELETE FROM view_rows WHERE entity = ?1", [e.as_str()])?;
        conn.prepare_cached(&RESET_ENTITY)?.execute([e.as_str()])?;
    }
    Ok(())
}

/// A view row, decoded.
pub fn get_view<T: DeserializeOwned>(
    conn: &Connection,
    entity: Entity,
    id: &str,
) -> Result<Option<(T, i64)>> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT data, version FROM view_rows WHERE entity = ?1 AND id = ?2",
            params![entity.as_str(), id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((data, version)) => Ok(Some((serde_json::from_str(&data)?, version))),
        None => Ok(None),
    }
}

/// Writes a view row (an optimistic change), keeping the version it is based on.
pub fn put_view<T: Serialize>(
    conn: &Connection,
    entity: Entity,
    id: &str,
    version: i64,
    row: &T,
    chapter_id: &str,
) -> Result<()> {
    let value = serde_json::to_value(row)?;
    let scopes = mentorsync_protocol::sync::row_scopes(entity, &value, chapter_id);
    conn.prepare_cached(&PUT_VIEW)?.execute(params![
        entity.as_str(),
        id,
        version,
        serde_json::to_string(&scopes)?,
        value.to_string()
    ])?;
    Ok(())
}

/// View rows of one entity matching a column (`mentor_id`, `mentee_id`) and statuses.
pub fn view_where<T: DeserializeOwned>(
    conn: &Connection,
    entity: Entity,
    column: &str,
    value: &str,
    statuses: &[&str],
) -> Result<Vec<(T, i64)>> {
    // SQLite has no statistics for the query columns and would otherwise walk the
    // primary key over every row of the entity; name the index.
    let (col, index) = match column {
        "mentor_id" => ("mentor_id", " INDEXED BY view_by_mentor"),
        "mentee_id" => ("mentee_id", " INDEXED BY view_by_mentee"),
        _ => ("id", ""),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT data, version, status FROM view_rows{index} WHERE entity = ?1 AND {col} = ?2"
    ))?;
    let rows = stmt.query_map(params![entity.as_str(), value], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (data, version, status) = row?;
        if statuses.is_empty() || status.as_deref().is_some_and(|s| statuses.contains(&s)) {
            out.push((serde_json::from_str(&data)?, version));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_columns_of(conn: &Connection, entity: Entity, id: &str) -> Vec<Option<String>> {
        conn.query_row(
            "SELECT status, name, mentor_id, mentee_id, CAST(due AS TEXT), CAST(at AS TEXT), CAST(cert AS TEXT) \
             FROM view_rows WHERE entity = ?1 AND id = ?2",
            params![entity.as_str(), id],
            |r| (0..7).map(|i| r.get(i)).collect(),
        )
        .unwrap()
    }

    /// Both ways into the view (an optimistic write, a reset to the confirmed row) fill the
    /// query columns from the JSON, and a rewrite replaces them.
    #[test]
    fn view_writes_fill_the_query_columns() {
        let (_dir, store) = crate::testing::store();
        let conn = store.conn();
        let item = serde_json::json!({"id": "w1", "status": "open", "mentor_id": "m1",
            "mentee_id": "x1", "sla_due_at": 42});
        put_view(&conn, Entity::WorkItem, "w1", 1, &item, "c1").unwrap();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            query_columns_of(&conn, Entity::WorkItem, "w1"),
            [s("open"), None, s("m1"), s("x1"), s("42"), None, None]
        );
        let mentor = serde_json::json!({"id": "m1", "display_name": "Ana LEE",
            "status": "active", "certification_expires_at": 7});
        upsert_server(&conn, Entity::Mentor, "m1", 2, &[], &mentor).unwrap();
        reset_view(&conn, Entity::Mentor, "m1").unwrap();
        assert_eq!(
            query_columns_of(&conn, Entity::Mentor, "m1"),
            [s("active"), s("ana lee"), s("m1"), None, None, None, s("7")]
        );
        let resolved = serde_json::json!({"id": "w1", "status": "done", "mentor_id": "m2",
            "mentee_id": "x1", "sla_due_at": 43});
        put_view(&conn, Entity::WorkItem, "w1", 2, &resolved, "c1").unwrap();
        assert_eq!(
            query_columns_of(&conn, Entity::WorkItem, "w1"),
            [s("done"), None, s("m2"), s("x1"), s("43"), None, None]
        );
    }
}
