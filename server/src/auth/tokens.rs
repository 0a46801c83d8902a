//! Access and refresh tokens.
//!
//! A login starts a token *family*. Each refresh spends the presented refresh token and
//! issues a new pair in the same family. Presenting a spent refresh token again means it
//! was copied: the whole family is revoked, which signs out both the thief and the owner.
//!
//! One exception keeps phones on bad networks signed in: if the answer to a refresh was
//! lost, the phone presents the same token again. Within `refresh_grace_ms` of its use,
//! while the pair it bought is still unused, from the same device (the `client_id` that
//! spent it) and only once, that is a retry, not a theft: the unused successor is
//! superseded and a new pair issued. A copy presented from anywhere else, without a device
//! id, or a second time is reuse: the family is revoked.

use crate::db::{DbRow, FromDb, Tx, q};
use crate::domain::Actor;
use crate::state::Settings;
use base64::Engine;
use mentorsync_protocol::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use mentorsync_protocol::auth::TokenPair;

/// Why a refresh was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Not a token we issued.
    Unknown,
    /// Past its lifetime.
    Expired,
    /// Its family was revoked (logout, or reuse detected earlier).
    Revoked,
    /// Already spent: the family is now revoked.
    Reused,
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Starts a new family for a user (a login) and issues its first pair.
pub async fn issue_family(
    tx: &mut Tx,
    user_id: &str,
    now: i64,
    s: &Settings,
) -> Result<TokenPair, sqlx::Error> {
    let family = uuid::Uuid::now_v7().to_string();
    tx.execute(
        q("INSERT INTO token_families (id, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(family.as_str())
            .bind(user_id)
            .bind(now),
    )
    .await?;
    issue(tx, &family, now, s).await
}

async fn issue(
    tx: &mut Tx,
    family: &str,
    now: i64,
    s: &Settings,
) -> Result<TokenPair, sqlx::Error> {
    let access = random_token("msa_");
    let refresh = random_token("msr_");
    tx.execute(
        q("INSERT INTO access_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, $3)")
            .bind(hash(&access))
            .bind(family)
            .bind(now + s.access_ttl_ms),
    )
    .await?;
    tx.execute(
        q("INSERT INTO refresh_tokens (token_hash, family_id, expires_at, created_at) VALUES ($1, $2, $3, $4)")
            .bind(hash(&refresh))
            .bind(family)
            .bind(now + s.refresh_ttl_ms)
            .bind(now),
    )
    .await?;
    Ok(TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer".into(),
        expires_in: s.access_ttl_ms / 1000,
        refresh_expires_in: s.refresh_ttl_ms / 1000,
    })
}

struct StoredRefresh {
    family_id: String,
    expires_at: i64,
    used_at: Option<i64>,
    superseded_at: Option<i64>,
    revoked_at: Option<i64>,
    used_by: Option<String>,
    retried_at: Option<i64>,
}

impl FromDb for StoredRefresh {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        Ok(StoredRefresh {
            family_id: r.get("family_id")?,
            expires_at: r.get("expires_at")?,
            used_at: r.get("used_at")?,
            superseded_at: r.get("superseded_at")?,
            revoked_at: r.get("revoked_at")?,
            used_by: r.get("used_by")?,
            retried_at: r.get("retried_at")?,
        })
    }
}

/// Spends a refresh token. The caller commits the transaction whatever the outcome: a
/// detected reuse must stay revoked.
pub async fn rotate(
    tx: &mut Tx,
    refresh_token: &str,
    client_id: Option<&str>,
    now: i64,
    s: &Settings,
) -> Result<Result<TokenPair, RefreshRefusal>, sqlx::Error> {
    let sql = format!(
        "SELECT r.family_id, r.expires_at, r.used_at, r.superseded_at, r.used_by, r.retried_at, f.revoked_at \
         FROM refresh_tokens r \
         JOIN token_families f ON f.id = r.family_id WHERE r.token_hash = $1{}",
        tx.for_update_of("r")
    );
    let Some(stored) = tx
        .fetch_optional::<StoredRefresh>(q(sql).bind(hash(refresh_token)))
        .await?
    else {
        return Ok(Err(RefreshRefusal::Unknown));
    };
    if stored.revoked_at.is_some() {
        return Ok(Err(RefreshRefusal::Revoked));
    }
    if let Some(used_at) = stored.used_at {
        let same_device = client_id.is_some() && stored.used_by.as_deref() == client_id;
        if stored.superseded_at.is_some()
            || !same_device
            || stored.retried_at.is_some()
            || now - used_at > s.refresh_grace_ms
            || successor_used(tx, &stored, refresh_token, used_at).await?
        {
            revoke_family(tx, &stored.family_id, now).await?;
            return Ok(Err(RefreshRefusal::Reused));
        }
        // A retry after a lost answer: the pair it bought never arrived; supersede it.
        tx.execute(
            q("UPDATE refresh_tokens SET used_at = $1, superseded_at = $1 WHERE family_id = $2 AND used_at IS NULL")
                .bind(now)
                .bind(stored.family_id.as_str()),
        )
        .await?;
        tx.execute(
            q("UPDATE refresh_tokens SET retried_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(hash(refresh_token)),
        )
        .await?;
    } else {
        if stored.expires_at <= now {
            return Ok(Err(RefreshRefusal::Expired));
        }
        tx.execute(
            q("UPDATE refresh_tokens SET used_at = $1, used_by = $2 WHERE token_hash = $3")
                .bind(now)
                .bind(client_id)
                .bind(hash(refresh_token)),
        )
        .await?;
    }
    tx.execute(
        q("DELETE FROM access_tokens WHERE family_id = $1 AND expires_at <= $2")
            .bind(stored.family_id.as_str())
            .bind(now),
    )
    .await?;
    issue(tx, &stored.family_id, now, s).await.map(Ok)
}

/// Whether a refresh token issued since `used_at` in this family was presented already:
/// then the pair did arrive somewhere, and presenting its parent again is reuse.
async fn successor_used(
    tx: &mut Tx,
    stored: &StoredRefresh,
    presented: &str,
    used_at: i64,
) -> Result<bool, sqlx::Error> {
    tx.exists(
        q(
            "SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND created_at >= $2 \
           AND used_at IS NOT NULL AND superseded_at IS NULL AND token_hash <> $3",
        )
        .bind(stored.family_id.as_str())
        .bind(used_at)
        .bind(hash(presented)),
    )
    .await
}

/// Revokes a family: its access tokens stop working at once, its refresh tokens too.
pub async fn revoke_family(tx: &mut Tx, family_id: &str, now: i64) -> Result<(), sqlx::Error> {
    tx.execute(
        q("UPDATE token_families SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(family_id),
    )
    .await?;
    tx.execute(q("DELETE FROM access_tokens WHERE family_id = $1").bind(family_id))
        .await?;
    tx.end_access(family_id);
    Ok(())
}

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The caller as a command actor.
    pub actor: Actor,
    /// The caller's user id.
    pub user_id: String,
    /// The caller's role.
    pub role: Role,
    /// The token family (for logout).
    pub family_id: String,
    /// When the access token expires (epoch ms): nothing it opened may outlive it.
    pub expires_at: i64,
}

impl FromDb for Authenticated {
    fn from_db(r: &DbRow) -> Result<Self, sqlx::Error> {
        let user_id: String = r.get("id")?;
        let role: Role = r.parse("role")?;
        let chapter: String = r.get("chapter_id")?;
        Ok(Authenticated {
            actor: Actor::user(chapter, user_id.clone(), role),
            user_id,
            role,
            family_id: r.get("family_id")?,
            expires_at: r.get("expires_at")?,
        })
    }
}

/// Looks up a live access token.
pub async fn authenticate(
    tx: &mut Tx,
    access_token: &str,
    now: i64,
) -> Result<Option<Authenticated>, sqlx::Error> {
    tx.fetch_optional(
        q(
            "SELECT u.id, u.chapter_id, u.role, a.family_id, a.expires_at FROM access_tokens a \
           JOIN token_families f ON f.id = a.family_id JOIN users u ON u.id = f.user_id \
           WHERE a.token_hash = $1 AND a.expires_at > $2 AND f.revoked_at IS NULL AND u.status = 'active'",
        )
        .bind(hash(access_token))
        .bind(now),
    )
    .await
}
