//! Query text plus positional arguments, bound to whichever driver runs it.

use std::borrow::Cow;

/// One bound value. The set is small on purpose: every column is text, a 64-bit integer,
/// a boolean or bytes, which both backends store natively.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// TEXT (or NULL).
    Text(Option<String>),
    /// BIGINT (or NULL).
    Int(Option<i64>),
    /// BOOLEAN.
    Bool(bool),
    /// BLOB / BYTEA (or NULL).
    Bytes(Option<Vec<u8>>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}

/// The `$N` parameters of a multi-row `VALUES`: `rows` groups of `cols`, numbered from `$1`
/// row by row — `($1, $2), ($3, $4)` for two rows of two.
pub fn values_list(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQL text with its arguments. The text is always built from constants in this crate,
/// never from input; input travels only as arguments.
#[derive(Debug, Clone)]
pub struct Q {
    pub(super) sql: Cow<'static, str>,
    pub(super) args: Vec<Arg>,
}

/// Starts a query.
pub fn q(sql: impl Into<Cow<'static, str>>) -> Q {
    Q {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl Q {
    /// Appends the next positional argument (`$1`, `$2`, …).
    pub fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// The SQL text (for logs and tests).
    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub(super) fn bind_to<'a, DB>(
        &self,
        mut query: sqlx::query::Query<'a, DB, <DB as sqlx::Database>::Arguments>,
    ) -> sqlx::query::Query<'a, DB, <DB as sqlx::Database>::Arguments>
    where
        DB: sqlx::Database,
        Option<String>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        Option<i64>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        Option<Vec<u8>>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    {
        for arg in &self.args {
            query = match arg.clone() {
                Arg::Text(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
            };
        }
        query
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_list_numbers_row_by_row() {
        assert_eq!(super::values_list(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(super::values_list(1, 3), "($1, $2, $3)");
        assert_eq!(super::values_list(0, 3), "");
    }
}
