//! One-time sign-in codes: how a person an admin created (or whose password an admin
//! reset) sets their password. A code is shown once to whoever issued it, stored only as a
//! SHA-256 hash, lives 72 hours, is spent by its first use, and is replaced by a newer one.
//! Redeeming is throttled like a sign-in. Codes never travel through sync: a push's verdict
//! is stored and replayed, and a secret must not be.

use super::tokens::hash;
use crate::db::{Tx, q};

/// How long a code stays valid.
pub const CODE_TTL_MS: i64 = 72 * 3600 * 1000;

/// Letters and digits a person cannot misread (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A fresh code, `XXXX-XXXX-XXXX` (about 59 bits).
fn new_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..3)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The code as a person may type it: any case, with or without dashes and spaces.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Issues a code for `user_id` (voiding any earlier one) and returns it with its expiry.
pub async fn issue(tx: &mut Tx, user_id: &str, now: i64) -> Result<(String, i64), sqlx::Error> {
    let code = new_code();
    let expires_at = now + CODE_TTL_MS;
    tx.execute(q("DELETE FROM sign_in_codes WHERE user_id = $1").bind(user_id))
        .await?;
    tx.execute(
        q("INSERT INTO sign_in_codes (user_id, code_hash, expires_at, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user_id)
            .bind(hash(&normalize(&code)))
            .bind(expires_at)
            .bind(now),
    )
    .await?;
    Ok((code, expires_at))
}

/// Spends `code` for `user_id`: true (and gone) when it is theirs and live.
pub async fn spend(tx: &mut Tx, user_id: &str, code: &str, now: i64) -> Result<bool, sqlx::Error> {
    let n = tx
        .execute(
            q("DELETE FROM sign_in_codes WHERE user_id = $1 AND code_hash = $2 AND expires_at > $3")
                .bind(user_id)
                .bind(hash(&normalize(code)))
                .bind(now),
        )
        .await?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_read_back_however_they_are_typed() {
        let c = super::new_code();
        assert_eq!(c.len(), 14);
        assert_eq!(
            super::normalize(&c.to_lowercase().replace('-', " ")),
            c.replace('-', "")
        );
    }
}
