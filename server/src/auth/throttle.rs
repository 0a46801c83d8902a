//! Login throttling per email, kept in the database so that every server instance sees the
//! same count.

use crate::db::{Tx, q};
use crate::state::Settings;

/// `Err(seconds)` when the email has failed too often within the window.
pub async fn check(
    tx: &mut Tx,
    email: &str,
    now: i64,
    s: &Settings,
) -> Result<Result<(), u64>, sqlx::Error> {
    let recent: Vec<i64> = tx
        .fetch_all(
            q("SELECT at FROM login_failures WHERE email = $1 AND at > $2 ORDER BY at DESC LIMIT $3")
                .bind(email)
                .bind(now - s.login_window_ms)
                .bind(s.login_max_failures),
        )
        .await?;
    if (recent.len() as i64) < s.login_max_failures {
        return Ok(Ok(()));
    }
    // Free again when the oldest of the last `max` failures leaves the window.
    let oldest = recent.last().copied().unwrap_or(now);
    let wait_ms = (oldest + s.login_window_ms - now).max(1000);
    Ok(Err((wait_ms as u64).div_ceil(1000)))
}

/// Counts a failed attempt and forgets attempts older than the window.
pub async fn record_failure(
    tx: &mut Tx,
    email: &str,
    now: i64,
    s: &Settings,
) -> Result<(), sqlx::Error> {
    tx.execute(
        q("DELETE FROM login_failures WHERE email = $1 AND at <= $2")
            .bind(email)
            .bind(now - s.login_window_ms),
    )
    .await?;
    tx.execute(
        q("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
            .bind(email)
            .bind(now),
    )
    .await?;
    Ok(())
}

/// A successful login clears the count.
pub async fn clear(tx: &mut Tx, email: &str) -> Result<(), sqlx::Error> {
    tx.execute(q("DELETE FROM login_failures WHERE email = $1").bind(email))
        .await?;
    Ok(())
}
