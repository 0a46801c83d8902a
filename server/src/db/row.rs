//! A result row from either backend, and decoding into domain types.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Row, Sqlite};
use std::str::FromStr;

/// A column type both drivers decode.
pub trait DbValue:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
{
}
impl<T> DbValue for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
{
}

/// One row from either backend.
pub enum DbRow {
    /// From SQLite.
    Sqlite(SqliteRow),
    /// From PostgreSQL.
    Postgres(PgRow),
}

impl From<SqliteRow> for DbRow {
    fn from(r: SqliteRow) -> Self {
        DbRow::Sqlite(r)
    }
}
impl From<PgRow> for DbRow {
    fn from(r: PgRow) -> Self {
        DbRow::Postgres(r)
    }
}

pub(crate) fn decode_error(column: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("column `{column}`: {e}").into())
}

impl DbRow {
    /// A column by name.
    pub fn get<T: DbValue>(&self, column: &str) -> Result<T, sqlx::Error> {
        match self {
            DbRow::Sqlite(r) => r.try_get(column),
            DbRow::Postgres(r) => r.try_get(column),
        }
    }

    /// The first column (for scalar queries).
    pub fn first<T: DbValue>(&self) -> Result<T, sqlx::Error> {
        match self {
            DbRow::Sqlite(r) => r.try_get(0),
            DbRow::Postgres(r) => r.try_get(0),
        }
    }

    /// A TEXT column holding one of a domain enum's spellings.
    pub fn parse<T>(&self, column: &str) -> Result<T, sqlx::Error>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let text: String = self.get(column)?;
        text.parse().map_err(|e| decode_error(column, e))
    }

    /// A TEXT column holding JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T, sqlx::Error> {
        let text: String = self.get(column)?;
        serde_json::from_str(&text).map_err(|e| decode_error(column, e))
    }
}

/// Builds a value from a row.
pub trait FromDb: Sized {
    /// Decodes one row.
    fn from_db(row: &DbRow) -> Result<Self, sqlx::Error>;
}

macro_rules! scalar {
    ($($t:ty),*) => { $(impl FromDb for $t {
        fn from_db(row: &DbRow) -> Result<Self, sqlx::Error> { row.first() }
    })* };
}
scalar!(
    i64,
    String,
    bool,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>
);

impl DbRow {
    /// A column by position.
    pub fn at<T: DbValue>(&self, index: usize) -> Result<T, sqlx::Error> {
        match self {
            DbRow::Sqlite(r) => r.try_get(index),
            DbRow::Postgres(r) => r.try_get(index),
        }
    }
}

macro_rules! tuple {
    ($($t:ident : $i:tt),*) => {
        impl<$($t: DbValue),*> FromDb for ($($t,)*) {
            fn from_db(row: &DbRow) -> Result<Self, sqlx::Error> { Ok(($(row.at::<$t>($i)?,)*)) }
        }
    };
}
tuple!(A: 0, B: 1);
tuple!(A: 0, B: 1, C: 2);
tuple!(A: 0, B: 1, C: 2, D: 3);
tuple!(A: 0, B: 1, C: 2, D: 3, E: 4);
