//! The two migration folders describe one schema: after migrating, SQLite and PostgreSQL
//! have the same tables, the same columns and the same named indexes. Types differ by
//! dialect (INTEGER / BIGINT, BLOB / BYTEA) and are not compared; a column or an index
//! added to one folder only fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorsync_server::db::{ConnectOptions, Db, q};
use std::collections::BTreeSet;

const PG_ENV: &str = "MENTORSYNC_TEST_PG_URL";

async fn names(db: &Db, sql: &'static str) -> BTreeSet<String> {
    let mut tx = db.read().await.unwrap();
    let rows: Vec<String> = tx.fetch_all(q(sql)).await.unwrap();
    tx.rollback().await.unwrap();
    rows.into_iter().collect()
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_tables_columns_and_indexes() {
    let Some(url) = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!(
            "SKIPPED both_backends_migrate_to_the_same_tables_columns_and_indexes: set {PG_ENV} to run it"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(&ConnectOptions::new(format!(
        "sqlite://{}",
        dir.path().join("schema.db").display()
    )))
    .await
    .unwrap();
    sqlite.migrate().await.unwrap();
    let schema = format!("msm_{}", uuid::Uuid::new_v4().simple());
    let pg = Db::connect(&ConnectOptions {
        pg_schema: Some(schema.clone()),
        ..ConnectOptions::new(url.clone())
    })
    .await
    .unwrap();
    pg.migrate().await.unwrap();

    let sqlite_columns = names(
        &sqlite,
        "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
    )
    .await;
    let pg_columns = names(
        &pg,
        "SELECT CAST(table_name || '.' || column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'",
    )
    .await;
    let sqlite_indexes = names(
        &sqlite,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
    )
    .await;
    // Primary keys and UNIQUE constraints get generated names on both sides.
    let pg_indexes = names(
        &pg,
        "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema() \
         AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
    )
    .await;
    sqlite.close().await;
    pg.close().await;
    Db::drop_pg_schema(&url, &schema).await.unwrap();

    assert!(sqlite_columns.len() > 100, "{sqlite_columns:?}");
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| -> Vec<String> {
        a.difference(b).cloned().collect()
    };
    assert_eq!(
        (
            only(&sqlite_columns, &pg_columns),
            only(&pg_columns, &sqlite_columns)
        ),
        (vec![], vec![]),
        "columns only on SQLite, only on PostgreSQL"
    );
    assert!(sqlite_indexes.len() > 20, "{sqlite_indexes:?}");
    assert_eq!(
        (
            only(&sqlite_indexes, &pg_indexes),
            only(&pg_indexes, &sqlite_indexes)
        ),
        (vec![], vec![]),
        "indexes only on SQLite, only on PostgreSQL"
    );
}
