//! `/api/v1/admin/…`: running a programme. People, mentor and mentee profiles,
//! coordination, cohorts and their directors; every change is a protocol [`Command`] run
//! through the same path as every other command (audit, change log, pokes), and the same
//! commands travel through sync push from an admin's device. Reads and sign-in codes are
//! admin-only; mentor edits and certification renewals are also open to the mentor's
//! coordinator.

use crate::api::commands::{VersionBody, run};
use crate::api::extract::{Json, Path, Query, page_size};
use crate::auth::{Caller, codes};
use crate::db::{Acting, q};
use crate::domain::{Applied, DomainError};
use crate::error::ApiError;
use crate::rows::ACCOUNT_COLUMNS;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use mentorsync_protocol::command::*;
use mentorsync_protocol::model::{Account, Cohort};
use mentorsync_protocol::{AccountStatus, ErrorBody, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Refuses everyone but the chapter's admins.
pub fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(DomainError::Forbidden("only a chapter administrator may do this".into()).into())
    }
}

async fn created(
    s: &AppState,
    caller: &Caller,
    command: Command,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    run(s, caller, command, None)
        .await
        .map(|j| (StatusCode::CREATED, j))
}

/// Creates an account of any role in your chapter (a mentor or mentee with their profile).
/// It has no password: issue a sign-in code for the person.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUser,
    responses((status = 201, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<CreateUser>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    created(&s, &caller, Command::CreateUser(b)).await
}

/// Account filters and paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserParams {
    /// Only accounts of this role.
    pub role: Option<Role>,
    /// Only active or only disabled accounts.
    pub status: Option<AccountStatus>,
    /// Case-insensitive part of the name or email (at most 100 characters).
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// `next_cursor` of the previous page (the last email seen).
    #[param(max_length = 320)]
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// A page of accounts, by email.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    /// The accounts.
    pub items: Vec<Account>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Lists your chapter's accounts, by email.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(UserParams),
    responses((status = 200, body = UserPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<UserParams>,
) -> Result<Json<UserPage>, ApiError> {
    require_admin(&caller)?;
    let limit = page_size(p.limit, 50, 200)? as usize;
    let needle = p.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if needle.is_some_and(|n| n.chars().count() > 100)
        || p.cursor.as_ref().is_some_and(|c| c.len() > 320)
    {
        return Err(ApiError::bad_request(
            "`q` is at most 100 characters, `cursor` 320 bytes",
        ));
    }
    let chapter = caller.actor.chapter_id.as_str();
    let mut sql =
        format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE chapter_id = $1 AND email > $2");
    let mut query_args: Vec<String> = vec![chapter.to_owned(), p.cursor.unwrap_or_default()];
    if let Some(r) = p.role {
        query_args.push(r.as_str().to_owned());
        sql.push_str(&format!(" AND role = ${}", query_args.len()));
    }
    if let Some(st) = p.status {
        query_args.push(st.as_str().to_owned());
        sql.push_str(&format!(" AND status = ${}", query_args.len()));
    }
    if let Some(n) = needle {
        let escaped = n
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query_args.push(format!("%{escaped}%"));
        let i = query_args.len();
        sql.push_str(&format!(
            " AND (lower(display_name) LIKE ${i} ESCAPE '\\' OR email LIKE ${i} ESCAPE '\\')"
        ));
    }
    sql.push_str(&format!(" ORDER BY email LIMIT {}", limit + 1));
    let mut query = q(sql);
    for a in query_args {
        query = query.bind(a);
    }
    let mut tx = s.db.read_as(Acting::Chapter(chapter)).await?;
    let mut items: Vec<Account> = tx.fetch_all(query).await?;
    tx.rollback().await?;
    let next_cursor = (items.len() > limit).then(|| {
        items.truncate(limit);
        items.last().map(|a| a.email.clone()).unwrap_or_default()
    });
    Ok(Json(UserPage { items, next_cursor }))
}

/// One account of your chapter.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = Account), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Account>, ApiError> {
    require_admin(&caller)?;
    let chapter = caller.actor.chapter_id.as_str();
    let mut tx = s.db.read_as(Acting::Chapter(chapter)).await?;
    let account: Option<Account> = tx
        .fetch_optional(
            crate::rows::by_id(Entity::User, "")
                .bind(id.to_string())
                .bind(chapter.to_owned()),
        )
        .await?;
    tx.rollback().await?;
    account.map(Json).ok_or_else(|| ApiError::not_found("user"))
}

/// An account edit: absent fields stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserEdit {
    /// New sign-in email (unique in the deployment).
    #[serde(default)]
    #[schema(max_length = 320)]
    pub email: Option<String>,
    /// New display name, up to 200 characters.
    #[serde(default)]
    #[schema(pattern = r"\S", max_length = 200)]
    pub display_name: Option<String>,
    /// New IANA time zone; an empty string means the chapter's.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The account's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Edits an account's email, name or time zone.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")), request_body = UserEdit,
    responses((status = 200, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_user(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<UserEdit>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::UpdateUser(UpdateUser {
        user_id: id.to_string(),
        email: b.email,
        display_name: b.display_name,
        time_zone: b.time_zone,
    });
    run(&s, &caller, c, b.expected_version).await
}

/// A new role.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// Admin, coordinator or director (mentors and mentees keep theirs).
    pub role: Role,
    /// The account's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Changes a staff member's role; they are signed out everywhere.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/role", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")), request_body = RoleBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_role(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<RoleBody>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::ChangeRole(ChangeRole {
        user_id: id.to_string(),
        role: b.role,
    });
    run(&s, &caller, c, b.expected_version).await
}

/// What happens to an account.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccountAction {
    /// Active → disabled: every session ends at once, sign-in is refused.
    Disable,
    /// Disabled → active.
    Enable,
}

/// Disables or re-enables an account.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/{action}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id"), ("action" = AccountAction, Path)), request_body = VersionBody,
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn account_action(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(Uuid, AccountAction)>,
    Json(b): Json<VersionBody>,
) -> Result<Json<Applied>, ApiError> {
    let r = UserRef {
        user_id: id.to_string(),
    };
    let c = match action {
        AccountAction::Disable => Command::DisableUser(r),
        AccountAction::Enable => Command::EnableUser(r),
    };
    run(&s, &caller, c, b.expected_version).await
}

/// A one-time sign-in code, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignInCode {
    /// Give it to the person; they spend it at `POST /api/v1/auth/redeem`.
    pub code: String,
    /// Epoch ms after which it no longer works (72 hours).
    pub expires_at: i64,
}

/// Issues a one-time sign-in code for a person (a new account, or a password reset);
/// an earlier unspent code stops working.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/sign-in-code", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 201, body = SignInCode), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn sign_in_code(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<SignInCode>), ApiError> {
    require_admin(&caller)?;
    let chapter = caller.actor.chapter_id.as_str();
    let mut tx = s.db.write_as(Acting::Chapter(chapter)).await?;
    let status: Option<String> = tx
        .fetch_optional(
            q("SELECT status FROM users WHERE id = $1 AND chapter_id = $2")
                .bind(id.to_string())
                .bind(chapter),
        )
        .await?;
    match status.as_deref() {
        None => return Err(ApiError::not_found("user")),
        Some("disabled") => {
            return Err(DomainError::Refused(mentorsync_protocol::Refusal::new(
                mentorsync_protocol::ErrorCode::ACCOUNT_DISABLED,
                "the account is disabled; enable it first",
            ))
            .into());
        }
        Some(_) => {}
    }
    let (code, expires_at) = codes::issue(&mut tx, &id.to_string(), s.now()).await?;
    tx.commit().await?;
    tracing::info!(user_id = %id, "sign-in code issued");
    Ok((StatusCode::CREATED, Json(SignInCode { code, expires_at })))
}

/// A mentor profile edit: absent fields stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MentorEdit {
    /// Weekly slots, 1 to 100; never below the mentees they hold.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub capacity_weekly: Option<i64>,
    /// Topics, at most 20 of at most 50 characters.
    #[serde(default)]
    pub specialties: Option<Vec<String>>,
    /// A JSON object of at most 2,000 bytes (e.g. `{"mon": ["18:00-20:00"]}`).
    #[serde(default)]
    pub availability: Option<serde_json::Value>,
    /// The mentor's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Edits a mentor's capacity, specialties or availability (admin, the mentor's coordinator).
#[utoipa::path(patch, path = "/api/v1/admin/mentors/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentor id")), request_body = MentorEdit,
    responses((status = 200, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_mentor(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<MentorEdit>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::UpdateMentor(UpdateMentor {
        mentor_id: id.to_string(),
        capacity_weekly: b.capacity_weekly,
        specialties: b.specialties,
        availability: b.availability,
    });
    run(&s, &caller, c, b.expected_version).await
}

/// A renewed certification.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationBody {
    /// Epoch ms of the new expiry; in the future, before 2200.
    #[schema(minimum = 946_684_800_000_i64, maximum = 7_258_118_399_999_i64)]
    pub expires_at: i64,
    /// The mentor's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Records a renewed certification (admin, the mentor's coordinator): resume and
/// reactivate work again.
#[utoipa::path(post, path = "/api/v1/admin/mentors/{id}/certification", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentor id")), request_body = CertificationBody,
    responses((status = 200, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn renew_certification(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<CertificationBody>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::RenewCertification(RenewCertification {
        mentor_id: id.to_string(),
        expires_at: b.expires_at,
    });
    run(&s, &caller, c, b.expected_version).await
}

/// The coordinator a mentor gets.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorBody {
    /// The coordinator's user id.
    #[schema(format = Uuid)]
    pub coordinator_id: String,
    /// The mentor's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Gives a mentor a coordinator, ending their current coordination.
#[utoipa::path(put, path = "/api/v1/admin/mentors/{id}/coordinator", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentor id")), request_body = CoordinatorBody,
    responses((status = 200, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign_coordinator(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<CoordinatorBody>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::AssignCoordinator(AssignCoordinator {
        mentor_id: id.to_string(),
        coordinator_id: b.coordinator_id,
        assignment_id: None,
    });
    run(&s, &caller, c, b.expected_version).await
}

/// A mentee profile edit.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MenteeEdit {
    /// Topics, at most 20 of at most 50 characters (matched against specialties).
    pub interests: Vec<String>,
    /// The mentee's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Edits a mentee's interests.
#[utoipa::path(patch, path = "/api/v1/admin/mentees/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentee id")), request_body = MenteeEdit,
    responses((status = 200, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_mentee(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<MenteeEdit>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::UpdateMentee(UpdateMentee {
        mentee_id: id.to_string(),
        interests: b.interests,
    });
    run(&s, &caller, c, b.expected_version).await
}

/// The cohort a mentee is enrolled in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    /// The cohort; null takes the mentee out of theirs.
    #[schema(format = Uuid)]
    pub cohort_id: Option<String>,
    /// The mentee's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Enrols a mentee in a cohort with a free seat (or takes them out of theirs).
#[utoipa::path(put, path = "/api/v1/admin/mentees/{id}/cohort", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "mentee id")), request_body = EnrolBody,
    responses((status = 200, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn enrol_mentee(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<EnrolBody>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::EnrolMentee(EnrolMentee {
        mentee_id: id.to_string(),
        cohort_id: b.cohort_id,
    });
    run(&s, &caller, c, b.expected_version).await
}

/// Creates a cohort.
#[utoipa::path(post, path = "/api/v1/admin/cohorts", tag = "admin", security(("bearer" = [])),
    request_body = CreateCohort,
    responses((status = 201, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn create_cohort(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<CreateCohort>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    created(&s, &caller, Command::CreateCohort(b)).await
}

/// A cohort with its directors and how many mentees it holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CohortEntry {
    /// The cohort.
    pub cohort: Cohort,
    /// Its directors' user ids.
    pub director_ids: Vec<String>,
    /// Mentees enrolled.
    pub enrolled: i64,
}

/// Lists your chapter's cohorts, newest start first (at most 1,000).
#[utoipa::path(get, path = "/api/v1/admin/cohorts", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [CohortEntry]), (status = 403, body = ErrorBody)))]
pub async fn list_cohorts(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<CohortEntry>>, ApiError> {
    require_admin(&caller)?;
    let chapter = caller.actor.chapter_id.as_str();
    let mut tx = s.db.read_as(Acting::Chapter(chapter)).await?;
    let cohorts: Vec<Cohort> = tx
        .fetch_all(
            q(format!(
                "SELECT {} FROM cohorts WHERE chapter_id = $1 ORDER BY starts_at DESC, id LIMIT 1000",
                crate::rows::COHORT_COLUMNS
            ))
            .bind(chapter),
        )
        .await?;
    let links: Vec<(String, String)> = tx
        .fetch_all(
            q(
                "SELECT d.cohort_id AS a, d.director_id AS b FROM cohort_directors d \
               JOIN cohorts c ON c.id = d.cohort_id WHERE c.chapter_id = $1 ORDER BY d.director_id",
            )
            .bind(chapter),
        )
        .await?;
    let counts: Vec<(String, i64)> = tx
        .fetch_all(
            q(
                "SELECT cohort_id AS a, COUNT(*) AS b FROM mentee_profiles WHERE chapter_id = $1 \
               AND cohort_id IS NOT NULL GROUP BY cohort_id",
            )
            .bind(chapter),
        )
        .await?;
    tx.rollback().await?;
    let entries = cohorts
        .into_iter()
        .map(|cohort| CohortEntry {
            director_ids: links
                .iter()
                .filter(|(c, _)| *c == cohort.id)
                .map(|(_, d)| d.clone())
                .collect(),
            enrolled: counts
                .iter()
                .find(|(c, _)| *c == cohort.id)
                .map_or(0, |(_, n)| *n),
            cohort,
        })
        .collect();
    Ok(Json(entries))
}

/// A cohort edit: absent fields stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CohortEdit {
    /// New name, up to 200 characters.
    #[serde(default)]
    #[schema(pattern = r"\S", max_length = 200)]
    pub name: Option<String>,
    /// New start, epoch ms.
    #[serde(default)]
    #[schema(minimum = 946_684_800_000_i64, maximum = 7_258_118_399_999_i64)]
    pub starts_at: Option<i64>,
    /// New end, epoch ms; after the start.
    #[serde(default)]
    #[schema(minimum = 946_684_800_000_i64, maximum = 7_258_118_399_999_i64)]
    pub ends_at: Option<i64>,
    /// New seat count, 0 to 100,000; never below the mentees enrolled.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100_000)]
    pub seats: Option<i64>,
    /// The cohort's version you saw.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Edits a cohort's name, dates or seats.
#[utoipa::path(patch, path = "/api/v1/admin/cohorts/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "cohort id")), request_body = CohortEdit,
    responses((status = 200, body = Applied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_cohort(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(b): Json<CohortEdit>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::UpdateCohort(UpdateCohort {
        cohort_id: id.to_string(),
        name: b.name,
        starts_at: b.starts_at,
        ends_at: b.ends_at,
        seats: b.seats,
    });
    run(&s, &caller, c, b.expected_version).await
}

/// Makes a director a director of the cohort; they see its dashboards on their next pull.
#[utoipa::path(put, path = "/api/v1/admin/cohorts/{id}/directors/{director_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "cohort id"), ("director_id" = Uuid, Path, description = "director's user id")),
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_director(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, director)): Path<(Uuid, Uuid)>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::AddCohortDirector(CohortDirector {
        cohort_id: id.to_string(),
        director_id: director.to_string(),
    });
    run(&s, &caller, c, None).await
}

/// Takes a director off the cohort; their devices drop its dashboards.
#[utoipa::path(delete, path = "/api/v1/admin/cohorts/{id}/directors/{director_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "cohort id"), ("director_id" = Uuid, Path, description = "director's user id")),
    responses((status = 200, body = Applied), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn remove_director(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, director)): Path<(Uuid, Uuid)>,
) -> Result<Json<Applied>, ApiError> {
    let c = Command::RemoveCohortDirector(CohortDirector {
        cohort_id: id.to_string(),
        director_id: director.to_string(),
    });
    run(&s, &caller, c, None).await
}

/// The largest roster file the API takes (the CLI takes any size).
pub const IMPORT_MAX_BYTES: usize = 8 * 1024 * 1024;

/// Import options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// Check and apply everything, report it, keep nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports a roster file (`text/csv`, at most 8 MiB; columns in docs/import.md) into your
/// chapter in one transaction. A file with any bad row changes nothing and answers 422
/// `import_invalid` with every error and its line in `details.errors`. One import runs at a
/// time per server instance (503 while another does).
#[utoipa::path(post, path = "/api/v1/admin/import", tag = "admin", security(("bearer" = [])), params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = crate::roster_file::ImportReport), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn import(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<ImportParams>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<crate::roster_file::ImportReport>, ApiError> {
    use mentorsync_protocol::ErrorCode;
    require_admin(&caller)?;
    let csv = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    if !csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UNSUPPORTED_MEDIA_TYPE,
            "send the roster file with `Content-Type: text/csv`",
        ));
    }
    let body = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PAYLOAD_TOO_LARGE,
            format!("a roster file sent over HTTP is at most {IMPORT_MAX_BYTES} bytes; use `mentorsync-server import` for larger ones"),
        )
    })?;
    let _turn = s.imports.try_acquire().map_err(|_| {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::UNAVAILABLE,
            "another import is running; retry when it has finished",
        );
        e.retry_after = Some(5);
        e
    })?;
    match crate::roster_file::import(&s.db, &caller.actor, &body, p.dry_run, s.now(), &|_, _| {})
        .await
    {
        Ok(report) => Ok(Json(report)),
        Err(crate::roster_file::ImportError::Invalid(errors)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IMPORT_INVALID,
            format!(
                "{} line(s) of the file are invalid; nothing was imported",
                errors.len()
            ),
        )
        .with_details(serde_json::json!({ "errors": errors }))),
        Err(crate::roster_file::ImportError::Database(e)) => Err(e.into()),
    }
}

/// Your chapter's roster as a roster file (`text/csv`), the format import reads.
#[utoipa::path(get, path = "/api/v1/admin/export", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 403, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    require_admin(&caller)?;
    let chapter = caller.actor.chapter_id.as_str();
    let mut tx = s.db.read_as(Acting::Chapter(chapter)).await?;
    let roster = crate::roster_file::Roster::load(&mut tx, chapter).await?;
    tx.rollback().await?;
    let bytes = crate::roster_file::export(&roster).map_err(ApiError::internal)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        bytes,
    )
        .into_response())
}
