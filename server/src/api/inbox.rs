//! The caller's own inbox over REST: the same rows their devices sync, and the same read
//! and dismiss commands (through [`commands::run`], the path sync push takes).

use crate::api::commands;
use crate::api::extract::{Json, Path, Query, page_size};
use crate::auth::Caller;
use crate::db::{Acting, q};
use crate::domain::Applied;
use crate::error::ApiError;
use crate::rows::INBOX_COLUMNS;
use crate::state::AppState;
use axum::extract::State;
use mentorsync_protocol::ErrorBody;
use mentorsync_protocol::command::{Command, InboxItemRef};
use mentorsync_protocol::model::{InboxItem, InboxPage};
use serde::Deserialize;
use uuid::Uuid;

/// Inbox filters and paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxParams {
    /// Only items not read yet.
    #[serde(default)]
    pub unread_only: bool,
    /// `next_before` of the previous page.
    pub before: Option<Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The caller's inbox, newest first; dismissed items are left out. Everyone has one, and
/// nobody, admins included, reads another person's.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox", security(("bearer" = [])), params(InboxParams),
    responses((status = 200, body = InboxPage), (status = 400, body = ErrorBody)))]
pub async fn get_inbox(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<InboxParams>,
) -> Result<Json<InboxPage>, ApiError> {
    let limit = page_size(
        p.limit,
        s.settings.page_size_default,
        s.settings.page_size_max,
    )?;
    let chapter = caller.actor.chapter_id.as_str();
    let me = caller.user_id.clone();
    let mut tx = s.db.read_as(Acting::Chapter(chapter)).await?;
    let unread_only = if p.unread_only {
        " AND read_at IS NULL"
    } else {
        ""
    };
    let before = p.before.map(|b| b.to_string());
    let before_sql = if before.is_some() { " AND id < $4" } else { "" };
    let mut query = q(format!(
        "SELECT {INBOX_COLUMNS} FROM inbox_items WHERE chapter_id = $1 AND recipient_id = $2 \
         AND dismissed_at IS NULL{unread_only}{before_sql} ORDER BY id DESC LIMIT $3"
    ))
    .bind(chapter)
    .bind(me.as_str())
    .bind(i64::from(limit) + 1);
    if let Some(b) = before {
        query = query.bind(b);
    }
    let mut items: Vec<InboxItem> = tx.fetch_all(query).await?;
    let unread: i64 = tx
        .fetch_one(
            q(
                "SELECT COUNT(*) FROM inbox_items WHERE chapter_id = $1 AND recipient_id = $2 \
               AND dismissed_at IS NULL AND read_at IS NULL",
            )
            .bind(chapter)
            .bind(me.as_str()),
        )
        .await?;
    tx.rollback().await?;
    let next_before = (items.len() > limit as usize).then(|| {
        items.truncate(limit as usize);
        items.last().map(|i| i.id.clone()).unwrap_or_default()
    });
    Ok(Json(InboxPage {
        items,
        unread,
        next_before,
    }))
}

/// What the recipient does with an item.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InboxStep {
    /// Mark it read.
    Read,
    /// Take it out of the inbox (it also counts as read).
    Dismiss,
}

/// Reads or dismisses one of the caller's inbox items. Doing it twice changes nothing the
/// second time (`200` with the item as it is); someone else's item is `404`.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/{action}", tag = "inbox", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "inbox item id"), ("action" = InboxStep, Path)),
    responses((status = 200, body = Applied), (status = 404, body = ErrorBody)))]
pub async fn inbox_step(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(Uuid, InboxStep)>,
) -> Result<Json<Applied>, ApiError> {
    let r = InboxItemRef {
        item_id: id.to_string(),
    };
    let command = match action {
        InboxStep::Read => Command::ReadInboxItem(r),
        InboxStep::Dismiss => Command::DismissInboxItem(r),
    };
    commands::run(&s, &caller, command, None).await
}
