//! The database's identity across backups and restores.
//!
//! A device's pull cursor is a position in the change log. A database restored from a
//! backup reuses positions the devices have already been given for changes it no longer
//! has, so a cursor from before the restore would silently skip what the restored server
//! writes next at those positions. Every database carries an epoch (migration 0010);
//! cursors carry it too, and a cursor of another epoch starts a fresh snapshot. An operator
//! who restores a backup runs `mentorsync-server restored`, which gives the database a new
//! epoch (docs/operations.md). Devices also notice a server that forgot their commands
//! without it (client-core's journal).

use crate::db::{Db, Pool, q};

/// The epoch, read once per process: a restore is done with the servers stopped.
pub async fn current(db: &Db) -> Result<String, sqlx::Error> {
    db.epoch
        .get_or_try_init(|| async {
            let mut tx = db.read().await?;
            let epoch: String = tx
                .fetch_one(q("SELECT epoch FROM server_epoch WHERE id = 1"))
                .await?;
            tx.rollback().await?;
            Ok(epoch)
        })
        .await
        .cloned()
}

/// Gives the database a new epoch: run once after restoring it from a backup.
pub async fn renew(db: &Db) -> Result<String, sqlx::Error> {
    let epoch = uuid::Uuid::new_v4().simple().to_string();
    let mut tx = db.write().await?;
    tx.execute(q("UPDATE server_epoch SET epoch = $1 WHERE id = 1").bind(epoch.as_str()))
        .await?;
    tx.commit().await?;
    Ok(epoch)
}

/// Writes a consistent copy of a SQLite database to `path` while it serves (`VACUUM
/// INTO`). `None` on PostgreSQL, whose own tools (`pg_dump`) make backups.
pub async fn backup_sqlite(db: &Db, path: &std::path::Path) -> Result<Option<()>, sqlx::Error> {
    let Pool::Sqlite(pool) = db.pool() else {
        return Ok(None);
    };
    sqlx::query("VACUUM INTO ?")
        .bind(path.to_string_lossy().into_owned())
        .execute(pool)
        .await?;
    Ok(Some(()))
}
