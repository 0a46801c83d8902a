//! What the operator does from the command line before anyone can sign in: create a
//! chapter and its first admin, import and export roster files. Accounts go through the
//! domain commands (audited as `system`), exactly as an admin's would.

use crate::auth::{codes, password};
use crate::db::{Db, q};
use crate::domain::{self, Actor};
use crate::roster_file::{self, ImportReport, Roster};
use anyhow::Context;
use mentorsync_protocol::Role;
use mentorsync_protocol::command::{Command, CreateUser};
use mentorsync_protocol::rules::admin;

/// Creates a chapter; returns its id.
pub async fn create_chapter(
    db: &Db,
    name: &str,
    time_zone: Option<&str>,
    now: i64,
) -> anyhow::Result<String> {
    let name = mentorsync_protocol::rules::input::text("name", name, admin::NAME_MAX)
        .map_err(|r| anyhow::anyhow!(r.reason))?;
    let tz = admin::time_zone(time_zone).map_err(|r| anyhow::anyhow!(r.reason))?;
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = db.write().await?;
    tx.execute(
        q("INSERT INTO chapters (id, name, created_at, time_zone) VALUES ($1, $2, $3, $4)")
            .bind(id.as_str())
            .bind(name.as_str())
            .bind(now)
            .bind(tz.unwrap_or_else(|| "UTC".to_owned())),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(chapter_id = %id, %name, "chapter created");
    Ok(id)
}

/// The chapter a command means: the one named, or the only one there is.
pub async fn chapter(db: &Db, named: Option<&str>) -> anyhow::Result<String> {
    let mut tx = db.read().await?;
    let ids: Vec<String> = tx
        .fetch_all(q("SELECT id FROM chapters ORDER BY created_at"))
        .await?;
    tx.rollback().await?;
    match named {
        Some(n) if ids.iter().any(|i| i == n) => Ok(n.to_owned()),
        Some(n) => anyhow::bail!("no chapter with id {n}"),
        None if ids.len() == 1 => Ok(ids[0].clone()),
        None if ids.is_empty() => {
            anyhow::bail!("there is no chapter yet: run `chapter create` first")
        }
        None => anyhow::bail!("there are {} chapters: name one with --chapter", ids.len()),
    }
}

/// Lists chapters: id, name, accounts.
pub async fn list_chapters(db: &Db) -> anyhow::Result<Vec<(String, String, i64)>> {
    let mut tx = db.read().await?;
    let rows = tx
        .fetch_all(q(
            "SELECT c.id, c.name, (SELECT COUNT(*) FROM users u WHERE u.chapter_id = c.id) FROM chapters c ORDER BY c.created_at",
        ))
        .await?;
    tx.rollback().await?;
    Ok(rows)
}

/// How a new account gets its first password.
pub enum FirstSignIn {
    /// Set this password now.
    Password(String),
    /// Issue a one-time sign-in code.
    Code,
}

/// Creates an account in `chapter_id`; returns its id and, for [`FirstSignIn::Code`],
/// the code (shown once).
pub async fn create_user(
    db: &Db,
    chapter_id: &str,
    email: &str,
    name: &str,
    role: Role,
    first: FirstSignIn,
    now: i64,
) -> anyhow::Result<(String, Option<String>)> {
    if let FirstSignIn::Password(p) = &first
        && !crate::api::auth::PASSWORD_LEN.contains(&p.len())
    {
        anyhow::bail!("the password must be 10 to 1,024 bytes");
    }
    let hash = match &first {
        FirstSignIn::Password(p) => {
            let p = p.clone();
            Some(
                tokio::task::spawn_blocking(move || password::hash(&p))
                    .await?
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            )
        }
        FirstSignIn::Code => None,
    };
    let command = Command::CreateUser(CreateUser {
        user_id: None,
        email: email.to_owned(),
        display_name: name.to_owned(),
        role,
        time_zone: None,
    });
    let mut tx = db.write().await?;
    let done = domain::apply(&mut tx, &Actor::system(chapter_id), now, &command, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let code = match hash {
        Some(h) => {
            tx.execute(
                q("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(h)
                    .bind(done.id.as_str()),
            )
            .await?;
            None
        }
        None => Some(codes::issue(&mut tx, &done.id, now).await?.0),
    };
    tx.commit().await?;
    Ok((done.id, code))
}

/// Imports a roster file into `chapter_id` as the system, showing progress.
pub async fn import(
    db: &Db,
    chapter_id: &str,
    bytes: &[u8],
    dry_run: bool,
    now: i64,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<Result<ImportReport, Vec<roster_file::LineError>>> {
    match roster_file::import(
        db,
        &Actor::system(chapter_id),
        bytes,
        dry_run,
        now,
        progress,
    )
    .await
    {
        Ok(r) => Ok(Ok(r)),
        Err(roster_file::ImportError::Invalid(errors)) => Ok(Err(errors)),
        Err(roster_file::ImportError::Database(e)) => Err(e).context("importing"),
    }
}

/// The chapter's roster file.
pub async fn export(db: &Db, chapter_id: &str) -> anyhow::Result<Vec<u8>> {
    let mut tx = db.read().await?;
    let roster = Roster::load(&mut tx, chapter_id).await?;
    tx.rollback().await?;
    Ok(roster_file::export(&roster)?)
}
