//! Accounts: an admin creates people, edits them, changes a staff role, disables and
//! re-enables. The rules are `mentorsync_protocol::rules::admin`; this file reads their
//! facts and writes their effects, including the end of access a disabled account or a
//! changed role means (tokens revoked, open streams closed on every instance).

use super::{Ctx, DomainError};
use crate::auth::tokens;
use crate::db::{Failure, classify, q};
use mentorsync_protocol::command::{ChangeRole, CreateUser, Entity, UpdateUser};
use mentorsync_protocol::machine::{AccountAction, Action};
use mentorsync_protocol::model::Account;
use mentorsync_protocol::rules::admin as rules;
use mentorsync_protocol::{AccountStatus, ErrorCode, Refusal, Role};

type Primary = (Entity, String);

fn email_taken(email: &str) -> DomainError {
    DomainError::Refused(Refusal::new(
        ErrorCode::EMAIL_TAKEN,
        format!("an account with the email {email} exists already"),
    ))
}

/// A write that may meet the deployment-wide email index: a unique violation there means
/// the email is taken (perhaps in a chapter this transaction cannot see).
fn or_taken(e: sqlx::Error, email: &str) -> DomainError {
    match classify(&e) {
        Failure::Unique => email_taken(email),
        _ => e.into(),
    }
}

/// Whether another account (of any chapter) signs in with `email`.
async fn taken(ctx: &mut Ctx<'_>, email: &str, other_than: &str) -> Result<bool, DomainError> {
    Ok(ctx
        .tx
        .exists(
            q("SELECT 1 FROM users WHERE lower(email) = $1 AND id <> $2")
                .bind(email)
                .bind(other_than),
        )
        .await?)
}

/// Creates an account (and a mentor's or mentee's profile) without a password.
pub async fn create(ctx: &mut Ctx<'_>, a: &CreateUser) -> Result<Primary, DomainError> {
    let u = rules::create_user_input(a)?;
    if taken(ctx, &u.email, &u.id).await? {
        return Err(email_taken(&u.email));
    }
    ctx.tx
        .execute(
            q("INSERT INTO users (id, chapter_id, email, display_name, role, password_hash, status, time_zone, \
               version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, '', 'active', $6, 1, $7, $7)")
            .bind(u.id.as_str())
            .bind(ctx.chapter().to_owned())
            .bind(u.email.as_str())
            .bind(u.display_name.as_str())
            .bind(u.role.as_str())
            .bind(u.time_zone.clone())
            .bind(ctx.now),
        )
        .await
        .map_err(|e| or_taken(e, &u.email))?;
    let details = serde_json::json!({"role": u.role, "email": u.email});
    ctx.audit(
        Entity::User,
        &u.id,
        "create",
        None,
        "active",
        1,
        Some(details),
    )
    .await?;
    match u.role {
        Role::Mentor => {
            ctx.tx
                .execute(
                    q("INSERT INTO mentor_profiles (user_id, chapter_id, status, capacity_weekly, specialties, \
                       availability, version, updated_at) VALUES ($1, $2, 'active', 10, '[]', '{}', 1, $3)")
                    .bind(u.id.as_str())
                    .bind(ctx.chapter().to_owned())
                    .bind(ctx.now),
                )
                .await?;
            ctx.audit(Entity::Mentor, &u.id, "create", None, "active", 1, None)
                .await?;
        }
        Role::Mentee => {
            ctx.tx
                .execute(
                    q("INSERT INTO mentee_profiles (user_id, chapter_id, interests, version, updated_at) \
                       VALUES ($1, $2, '[]', 1, $3)")
                    .bind(u.id.as_str())
                    .bind(ctx.chapter().to_owned())
                    .bind(ctx.now),
                )
                .await?;
            ctx.audit(Entity::Mentee, &u.id, "create", None, "-", 1, None)
                .await?;
        }
        Role::Admin | Role::Coordinator | Role::Director => {}
    }
    Ok((Entity::User, u.id))
}

/// Loads an account of the caller's chapter, locked, and whether the caller's version of
/// it is stale.
async fn load(ctx: &mut Ctx<'_>, user_id: &str) -> Result<(Account, bool), DomainError> {
    let account: Account = ctx.load(Entity::User, user_id, true).await?;
    let stale = ctx.stale(account.version);
    Ok((account, stale))
}

/// Writes an account's new state with its version checked.
async fn save(ctx: &mut Ctx<'_>, before: &Account, after: &Account) -> Result<(), DomainError> {
    ctx.versioned_update(
        Entity::User,
        &before.id,
        q("UPDATE users SET email = $1, display_name = $2, role = $3, status = $4, time_zone = $5, \
           version = version + 1, updated_at = $6 WHERE id = $7 AND version = $8")
        .bind(after.email.as_str())
        .bind(after.display_name.as_str())
        .bind(after.role.as_str())
        .bind(after.status.as_str())
        .bind(after.time_zone.clone())
        .bind(ctx.now)
        .bind(before.id.as_str())
        .bind(before.version),
    )
    .await
    .map_err(|e| match e {
        DomainError::Database(e) => or_taken(e, &after.email),
        e => e,
    })
}

/// Edits an account's email, name or time zone.
pub async fn update(ctx: &mut Ctx<'_>, a: &UpdateUser) -> Result<Primary, DomainError> {
    let (account, stale) = load(ctx, &a.user_id).await?;
    let verdict = rules::update_user(&account, a, stale, ctx.now);
    let after = ctx.decided((Entity::User, &account.id), verdict).await?;
    if after.email != account.email && taken(ctx, &after.email, &account.id).await? {
        return Err(email_taken(&after.email));
    }
    save(ctx, &account, &after).await?;
    let details = serde_json::json!({"email": after.email, "display_name": after.display_name,
        "time_zone": after.time_zone});
    ctx.audit(
        Entity::User,
        &account.id,
        "update",
        Some(account.status.as_str()),
        account.status.as_str(),
        account.version + 1,
        Some(details),
    )
    .await?;
    // A mentor's and a mentee's synced rows show the name: devices must get the new one.
    if after.display_name != account.display_name {
        for (entity, table) in [
            (Entity::Mentor, "mentor_profiles"),
            (Entity::Mentee, "mentee_profiles"),
        ] {
            let bumped: Option<i64> = ctx
                .tx
                .fetch_optional(
                    q(format!(
                        "UPDATE {table} SET version = version + 1, updated_at = $1 \
                               WHERE user_id = $2 RETURNING version"
                    ))
                    .bind(ctx.now)
                    .bind(account.id.as_str()),
                )
                .await?;
            if let Some(v) = bumped {
                ctx.touched(entity, &account.id, v);
            }
        }
    }
    Ok((Entity::User, account.id))
}

/// Changes a staff member's role. They are signed out everywhere: their devices sign in
/// again and sync what the new role sees.
pub async fn change_role(ctx: &mut Ctx<'_>, a: &ChangeRole) -> Result<Primary, DomainError> {
    let (account, stale) = load(ctx, &a.user_id).await?;
    let coordinated: i64 = ctx
        .tx
        .fetch_one(
            q("SELECT COUNT(*) FROM coordinator_assignments WHERE coordinator_id = $1 AND status = 'active'")
                .bind(account.id.as_str()),
        )
        .await?;
    let verdict = rules::change_role(ctx.caller(), &account, a.role, coordinated, stale);
    let role = ctx.decided((Entity::User, &account.id), verdict).await?;
    let after = Account {
        role,
        ..account.clone()
    };
    save(ctx, &account, &after).await?;
    if account.role == Role::Director {
        ctx.tx
            .execute(
                q("DELETE FROM cohort_directors WHERE director_id = $1").bind(account.id.as_str()),
            )
            .await?;
    }
    end_sessions(ctx, &account.id).await?;
    let details = serde_json::json!({"from_role": account.role, "to_role": role});
    ctx.audit(
        Entity::User,
        &account.id,
        "change_role",
        Some(account.status.as_str()),
        account.status.as_str(),
        account.version + 1,
        Some(details),
    )
    .await?;
    Ok((Entity::User, account.id))
}

/// Disables or re-enables an account. Disabling ends every session at once and voids an
/// unspent sign-in code.
pub async fn set_status(
    ctx: &mut Ctx<'_>,
    user_id: &str,
    action: AccountAction,
) -> Result<Primary, DomainError> {
    let (account, stale) = load(ctx, user_id).await?;
    let verdict = rules::set_status(ctx.caller(), &account, action, stale);
    let m = ctx.decided((Entity::User, &account.id), verdict).await?;
    let after = Account {
        status: m.to,
        ..account.clone()
    };
    save(ctx, &account, &after).await?;
    if m.to == AccountStatus::Disabled {
        end_sessions(ctx, &account.id).await?;
        ctx.tx
            .execute(q("DELETE FROM sign_in_codes WHERE user_id = $1").bind(account.id.as_str()))
            .await?;
    }
    ctx.audit(
        Entity::User,
        &account.id,
        m.action.verb(),
        Some(account.status.as_str()),
        m.to.as_str(),
        account.version + 1,
        None,
    )
    .await?;
    Ok((Entity::User, account.id))
}

/// Revokes every token family of the user: their access and refresh tokens stop working,
/// and once the transaction commits every instance closes the streams they opened.
pub(super) async fn end_sessions(ctx: &mut Ctx<'_>, user_id: &str) -> Result<(), DomainError> {
    let families: Vec<String> = ctx
        .tx
        .fetch_all(
            q("SELECT id FROM token_families WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user_id),
        )
        .await?;
    for f in families {
        tokens::revoke_family(ctx.tx, &f, ctx.now).await?;
    }
    Ok(())
}
