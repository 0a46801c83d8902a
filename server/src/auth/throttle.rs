//! Sign-in throttling, kept in the database so that every server instance sees the same
//! counts (`login_failures`, whose `email` column holds the throttle key).
//!
//! An attempt is counted *before* its password is checked, in the same write transaction
//! as the check of the counts (under an advisory lock per key on PostgreSQL; SQLite's
//! `BEGIN IMMEDIATE` serialises writers), so parallel guesses cannot slip past the limit.
//! A right password then takes its attempt back. Three keys, so that nobody can lock the
//! owner out from where they are (docs/security.md):
//! - the account from one address: `login_max_failures` per window (the owner elsewhere
//!   is unaffected by a guesser here);
//! - one address across accounts: four times that (password spraying);
//! - the account from everywhere: ten times that (guessing spread over many addresses).
//!   Only a guesser with many addresses can reach it, and only new sign-ins wait: devices
//!   already signed in keep refreshing their tokens.

use crate::db::{Tx, q};
use crate::state::Settings;
use std::net::IpAddr;

/// The attempt's rows, to take back if the password was right.
#[derive(Debug)]
pub struct Attempt {
    keys: Vec<String>,
    at: i64,
}

/// Counts an attempt for `email` from `address`, or `Err(seconds)` when one of its keys
/// has failed too often within the window.
pub async fn reserve(
    tx: &mut Tx,
    email: &str,
    address: IpAddr,
    now: i64,
    s: &Settings,
) -> Result<Result<Attempt, u64>, sqlx::Error> {
    let limits = [
        (format!("account:{email}@{address}"), s.login_max_failures),
        (format!("address:{address}"), 4 * s.login_max_failures),
        (format!("account:{email}"), 10 * s.login_max_failures),
    ];
    let keys: Vec<&str> = limits.iter().map(|(k, _)| k.as_str()).collect();
    tx.lock_keys(&keys).await?;
    let mut wait_ms = 0;
    for (key, max) in &limits {
        let recent: Vec<i64> = tx
            .fetch_all(
                q("SELECT at FROM login_failures WHERE email = $1 AND at > $2 ORDER BY at DESC LIMIT $3")
                    .bind(key.as_str())
                    .bind(now - s.login_window_ms)
                    .bind(*max),
            )
            .await?;
        if (recent.len() as i64) >= *max {
            // Free again when the oldest of the last `max` failures leaves the window.
            let oldest = recent.last().copied().unwrap_or(now);
            wait_ms = wait_ms.max(oldest + s.login_window_ms - now);
        }
    }
    if wait_ms > 0 {
        return Ok(Err((wait_ms.max(1000) as u64).div_ceil(1000)));
    }
    for (key, _) in &limits {
        tx.execute(
            q("DELETE FROM login_failures WHERE email = $1 AND at <= $2")
                .bind(key.as_str())
                .bind(now - s.login_window_ms),
        )
        .await?;
        tx.execute(
            q("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
                .bind(key.as_str())
                .bind(now),
        )
        .await?;
    }
    Ok(Ok(Attempt {
        keys: limits.into_iter().map(|(k, _)| k).collect(),
        at: now,
    }))
}

/// The password was right: the attempt does not count, and the account's failures from
/// this address are forgotten.
pub async fn succeeded(tx: &mut Tx, attempt: &Attempt) -> Result<(), sqlx::Error> {
    let (pair, rest) = attempt
        .keys
        .split_first()
        .map_or((None, &[][..]), |(p, r)| (Some(p), r));
    if let Some(pair) = pair {
        tx.execute(q("DELETE FROM login_failures WHERE email = $1").bind(pair.as_str()))
            .await?;
    }
    for key in rest {
        tx.execute(
            q("DELETE FROM login_failures WHERE id = (SELECT MAX(id) FROM login_failures WHERE email = $1 AND at = $2)")
                .bind(key.as_str())
                .bind(attempt.at),
        )
        .await?;
    }
    Ok(())
}

/// Forgets failures older than `before` (the window's start): an attempt at an unknown
/// email leaves rows no later attempt would clear, so they are collected here.
pub async fn collect(tx: &mut Tx, before: i64) -> Result<u64, sqlx::Error> {
    tx.execute(q("DELETE FROM login_failures WHERE at <= $1").bind(before))
        .await
}
