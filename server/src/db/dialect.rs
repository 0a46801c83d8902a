//! The SQL that differs between SQLite and PostgreSQL, as statement builders on [`Tx`]:
//! everything outside `db/` writes one statement for both engines and asks here for the
//! parts that cannot be the same.

use super::{Backend, Tx, q};

impl Tx {
    /// `" FOR UPDATE OF <alias>"` on PostgreSQL (lock one table of a join), nothing on
    /// SQLite, whose write transaction already holds the only lock.
    pub fn for_update_of(&self, alias: &str) -> String {
        match self.backend() {
            Backend::Sqlite => String::new(),
            Backend::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// A query returning the `x` column of `select` as one comma-joined row, in `x` order.
    pub fn joined_ids(&self, select: &str) -> String {
        joined_ids(self.backend(), select)
    }

    /// `select` (whose FROM names the table of `key`) restricted to `chapter = $1` and to the
    /// keys in the JSON array bound as `$2`. The ids travel as one JSON array: one bind and
    /// one statement text per entity, where an IN list of 500 `$N` parameters was parsed
    /// anew for every page. PostgreSQL is driven from the id list into the key's index:
    /// with row-level security the planner cannot tell how many rows the policy leaves,
    /// and from the table's side it chose to scan all of it (a 100-row page: 27 ms, not 1).
    pub fn by_json_ids(&self, select: &str, key: &str, chapter: &str) -> String {
        match self.backend() {
            Backend::Sqlite => {
                format!(
                    "{select} WHERE {chapter} = $1 AND {key} IN (SELECT value FROM json_each($2))"
                )
            }
            Backend::Postgres => {
                let (head, from) = select.split_once(" FROM ").unwrap_or((select, ""));
                let from = if from.contains(" JOIN ") {
                    format!("({from})")
                } else {
                    from.to_owned()
                };
                format!(
                    "{head} FROM json_array_elements_text($2::json) AS wanted(want) \
                     JOIN {from} ON {key} = wanted.want WHERE {chapter} = $1"
                )
            }
        }
    }

    /// Serialises transactions that name the same keys until they end: advisory locks on
    /// PostgreSQL (taken in key order, so two never wait on each other), nothing on SQLite,
    /// where one write transaction runs at a time anyway.
    pub async fn lock_keys(&mut self, keys: &[&str]) -> Result<(), sqlx::Error> {
        if self.backend() == Backend::Postgres {
            let mut keys = keys.to_vec();
            keys.sort_unstable();
            for key in keys {
                self.execute(q("SELECT pg_advisory_xact_lock(hashtext($1))").bind(key))
                    .await?;
            }
        }
        Ok(())
    }
}

/// A query returning the `x` column of `select` as one comma-joined row, in `x` order.
pub fn joined_ids(backend: Backend, select: &str) -> String {
    let agg = match backend {
        Backend::Sqlite => "group_concat(x, ',' ORDER BY x)",
        Backend::Postgres => "string_agg(x, ',' ORDER BY x)",
    };
    format!("SELECT COALESCE({agg}, '') FROM ({select}) AS ids")
}
