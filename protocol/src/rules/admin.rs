//! Provisioning: accounts, mentor and mentee profiles, coordination and cohorts. An
//! admin's work (a coordinator also edits and renews the mentors they coordinate).
//!
//! The input checks run on the device too, so a malformed command is refused offline; the
//! decisions need facts only the server has (every account of the deployment, for email
//! uniqueness), so a device queues these commands without predicting their verdict.

use super::input::{self, invalid};
use super::{Caller, Move, access, forbidden, fresh};
use crate::command::{CreateCohort, CreateUser, UpdateCohort, UpdateMentor, UpdateUser};
use crate::machine::AccountAction;
use crate::model::{Account, Cohort, Mentor};
use crate::{AccountStatus, ErrorCode, Refusal, Role};

/// The longest email (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 320;
/// The longest display name or cohort name.
pub const NAME_MAX: usize = 200;
/// At most this many specialties or interests, each at most [`TOPIC_MAX`] characters.
pub const TOPICS_MAX: usize = 20;
/// The longest specialty or interest.
pub const TOPIC_MAX: usize = 50;
/// The largest availability document, in bytes of JSON.
pub const AVAILABILITY_MAX: usize = 2000;
/// The most seats a cohort offers.
pub const SEATS_MAX: i64 = 100_000;

/// An email as stored: trimmed and lowercased, so that uniqueness is case-insensitive.
pub fn email(value: &str) -> Result<String, Refusal> {
    let e = value.trim().to_lowercase();
    let valid = e.len() <= EMAIL_MAX
        && !e.chars().any(char::is_whitespace)
        && matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                && !domain.ends_with('.') && !domain.contains('@'));
    if valid {
        Ok(e)
    } else {
        Err(invalid(format!(
            "`email` must be an address like name@example.org (at most {EMAIL_MAX} bytes)"
        )))
    }
}

/// An IANA time zone name (`Europe/Lisbon`); empty means none (the chapter's applies).
pub fn time_zone(value: Option<&str>) -> Result<Option<String>, Refusal> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(tz) => tz
            .parse::<chrono_tz::Tz>()
            .map(|z| Some(z.name().to_owned()))
            .map_err(|_| {
                invalid(format!(
                    "`time_zone` must be an IANA time zone such as Europe/Lisbon, not `{tz}`"
                ))
            }),
    }
}

/// A list of topics (specialties, interests): trimmed, lowercased, duplicates dropped.
pub fn topics(field: &str, values: &[String]) -> Result<Vec<String>, Refusal> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let t = input::text(field, v, TOPIC_MAX)?.to_lowercase();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > TOPICS_MAX {
        return Err(invalid(format!(
            "`{field}` holds at most {TOPICS_MAX} topics"
        )));
    }
    Ok(out)
}

/// A new account, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Its id.
    pub id: String,
    /// Lowercased email.
    pub email: String,
    /// Trimmed display name.
    pub display_name: String,
    /// Its role.
    pub role: Role,
    /// Its time zone, if not the chapter's.
    pub time_zone: Option<String>,
}

/// Checks a new account's fields.
pub fn create_user_input(a: &CreateUser) -> Result<NewUser, Refusal> {
    Ok(NewUser {
        id: input::new_id("user_id", a.user_id.as_deref())?,
        email: email(&a.email)?,
        display_name: input::text("display_name", &a.display_name, NAME_MAX)?,
        role: a.role,
        time_zone: time_zone(a.time_zone.as_deref())?,
    })
}

/// The account an edit leaves: absent fields stay.
pub fn update_user(
    account: &Account,
    a: &UpdateUser,
    stale: bool,
    now: i64,
) -> Result<Account, Refusal> {
    let email = a.email.as_deref().map(email).transpose()?;
    let display_name = a
        .display_name
        .as_deref()
        .map(|n| input::text("display_name", n, NAME_MAX))
        .transpose()?;
    let time_zone = match &a.time_zone {
        Some(tz) => time_zone(Some(tz))?,
        None => account.time_zone.clone(),
    };
    fresh(stale)?;
    Ok(Account {
        email: email.unwrap_or_else(|| account.email.clone()),
        display_name: display_name.unwrap_or_else(|| account.display_name.clone()),
        time_zone,
        updated_at: now,
        ..account.clone()
    })
}

/// Roles that come with a profile (and its history): a person changes into or out of them
/// only as a new account.
fn has_profile(role: Role) -> bool {
    matches!(role, Role::Mentor | Role::Mentee)
}

/// An admin changes a staff member's role. `coordinated`: the mentors the account
/// coordinates now, who must be given another coordinator first.
pub fn change_role(
    caller: Caller<'_>,
    account: &Account,
    to: Role,
    coordinated: i64,
    stale: bool,
) -> Result<Role, Refusal> {
    if caller.is(&account.id) {
        return Err(forbidden("you may not change your own role"));
    }
    fresh(stale)?;
    if account.role == to {
        return Err(Refusal::new(
            ErrorCode::INVALID_TRANSITION,
            format!("the account is a {to} already"),
        ));
    }
    if has_profile(account.role) || has_profile(to) {
        return Err(Refusal::new(
            ErrorCode::ROLE_CHANGE_INVALID,
            format!(
                "a {} cannot become a {to}: mentors and mentees keep their role; create a new account",
                account.role
            ),
        ));
    }
    if account.role == Role::Coordinator && coordinated > 0 {
        return Err(Refusal::new(
            ErrorCode::ROLE_CHANGE_INVALID,
            format!(
                "the coordinator still looks after {coordinated} mentor(s); assign them another coordinator first"
            ),
        ));
    }
    Ok(to)
}

/// An admin disables or re-enables an account (never their own).
pub fn set_status(
    caller: Caller<'_>,
    account: &Account,
    action: AccountAction,
    stale: bool,
) -> Result<Move<AccountAction>, Refusal> {
    if caller.is(&account.id) {
        return Err(forbidden("you may not disable or enable your own account"));
    }
    fresh(stale)?;
    Move::of(account.status, action)
}

/// The mentor an edit leaves. `held`: their active mentees, which capacity may not fall
/// below.
pub fn update_mentor(
    caller: Caller<'_>,
    mentor: &Mentor,
    a: &UpdateMentor,
    coordinates: bool,
    stale: bool,
    held: i64,
    now: i64,
) -> Result<Mentor, Refusal> {
    let capacity = a.capacity_weekly.map(capacity).transpose()?;
    let specialties = a
        .specialties
        .as_deref()
        .map(|s| topics("specialties", s))
        .transpose()?;
    let availability = a.availability.clone().map(availability).transpose()?;
    access::manages_mentor(caller, coordinates)?;
    fresh(stale)?;
    if let Some(c) = capacity
        && c < held
    {
        return Err(Refusal::new(
            ErrorCode::CAPACITY_EXCEEDED,
            format!("the mentor holds {held} active mentee(s); capacity cannot go below that"),
        ));
    }
    Ok(Mentor {
        capacity_weekly: capacity.unwrap_or(mentor.capacity_weekly),
        specialties: specialties.unwrap_or_else(|| mentor.specialties.clone()),
        availability: availability.unwrap_or_else(|| mentor.availability.clone()),
        updated_at: now,
        ..mentor.clone()
    })
}

/// Weekly slots: 1 to 100.
pub fn capacity(value: i64) -> Result<i64, Refusal> {
    if (1..=100).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(
            "`capacity_weekly` must be between 1 and 100".into(),
        ))
    }
}

fn availability(value: serde_json::Value) -> Result<serde_json::Value, Refusal> {
    if !value.is_object() || value.to_string().len() > AVAILABILITY_MAX {
        return Err(invalid(format!(
            "`availability` must be a JSON object of at most {AVAILABILITY_MAX} bytes"
        )));
    }
    Ok(value)
}

/// A renewed certification: its new expiry, which must lie ahead.
pub fn renew_certification(
    caller: Caller<'_>,
    now: i64,
    expires_at: i64,
    coordinates: bool,
    stale: bool,
) -> Result<i64, Refusal> {
    let expires_at = input::time("expires_at", expires_at)?;
    access::manages_mentor(caller, coordinates)?;
    fresh(stale)?;
    if expires_at <= now {
        return Err(invalid("`expires_at` must be in the future".into()));
    }
    Ok(expires_at)
}

/// Whether `account` may take on the `needed` role's part (a coordinator for coordination,
/// a director for a cohort), and is enabled.
pub fn require_role(account: &Account, needed: Role) -> Result<(), Refusal> {
    if account.role != needed {
        return Err(Refusal::new(
            ErrorCode::WRONG_ROLE,
            format!("the account is a {}, not a {needed}", account.role),
        ));
    }
    if account.status == AccountStatus::Disabled {
        return Err(Refusal::new(
            ErrorCode::ACCOUNT_DISABLED,
            format!("the {needed}'s account is disabled"),
        ));
    }
    Ok(())
}

/// Gives a mentor `coordinator` in place of `current` (the coordinator they have now).
pub fn assign_coordinator(
    mentor: &Mentor,
    coordinator: &Account,
    current: Option<&str>,
    stale: bool,
) -> Result<(), Refusal> {
    fresh(stale)?;
    require_role(coordinator, Role::Coordinator)?;
    if current == Some(coordinator.id.as_str()) {
        return Err(Refusal::new(
            ErrorCode::INVALID_TRANSITION,
            format!(
                "{} coordinates {} already",
                coordinator.display_name, mentor.display_name
            ),
        ));
    }
    Ok(())
}

fn window(starts_at: i64, ends_at: i64) -> Result<(), Refusal> {
    input::time("starts_at", starts_at)?;
    input::time("ends_at", ends_at)?;
    if ends_at <= starts_at {
        return Err(invalid("`ends_at` must be after `starts_at`".into()));
    }
    Ok(())
}

fn seats(value: i64) -> Result<i64, Refusal> {
    if (0..=SEATS_MAX).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(format!(
            "`seats` must be between 0 and {SEATS_MAX}"
        )))
    }
}

/// A cohort's external key: what the programme calls it (letters, digits, `-_.`).
pub fn external_id(value: Option<&str>) -> Result<Option<String>, Refusal> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v)
            if v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
        {
            Ok(Some(v.to_owned()))
        }
        Some(_) => Err(invalid(
            "`external_id` must be at most 64 letters, digits, `-`, `_` or `.`".into(),
        )),
    }
}

/// A new cohort, checked (version 1, at `now`).
pub fn create_cohort(a: &CreateCohort, now: i64) -> Result<Cohort, Refusal> {
    let id = input::new_id("cohort_id", a.cohort_id.as_deref())?;
    let name = input::text("name", &a.name, NAME_MAX)?;
    window(a.starts_at, a.ends_at)?;
    Ok(Cohort {
        id,
        external_id: external_id(a.external_id.as_deref())?,
        name,
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        seats: seats(a.seats)?,
        version: 1,
        updated_at: now,
    })
}

/// The cohort an edit leaves; `enrolled` mentees keep their seats.
pub fn update_cohort(
    cohort: &Cohort,
    a: &UpdateCohort,
    enrolled: i64,
    stale: bool,
    now: i64,
) -> Result<Cohort, Refusal> {
    let name = a
        .name
        .as_deref()
        .map(|n| input::text("name", n, NAME_MAX))
        .transpose()?;
    let starts_at = a.starts_at.unwrap_or(cohort.starts_at);
    let ends_at = a.ends_at.unwrap_or(cohort.ends_at);
    window(starts_at, ends_at)?;
    let seats = a.seats.map(seats).transpose()?.unwrap_or(cohort.seats);
    fresh(stale)?;
    if seats < enrolled {
        return Err(Refusal::new(
            ErrorCode::COHORT_FULL,
            format!("{enrolled} mentee(s) are enrolled; seats cannot go below that"),
        ));
    }
    Ok(Cohort {
        name: name.unwrap_or_else(|| cohort.name.clone()),
        starts_at,
        ends_at,
        seats,
        updated_at: now,
        ..cohort.clone()
    })
}

/// Enrols a mentee in `cohort`, which holds `enrolled` mentees now.
pub fn enrol(cohort: &Cohort, enrolled: i64, already: bool) -> Result<(), Refusal> {
    if already {
        return Err(Refusal::new(
            ErrorCode::INVALID_TRANSITION,
            format!("the mentee is enrolled in {} already", cohort.name),
        ));
    }
    if enrolled >= cohort.seats {
        return Err(Refusal::new(
            ErrorCode::COHORT_FULL,
            format!(
                "{} has no free seat ({} of {})",
                cohort.name, enrolled, cohort.seats
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(role: Role) -> Account {
        Account {
            id: "u1".into(),
            email: "a@b.org".into(),
            display_name: "Ada".into(),
            role,
            status: AccountStatus::Active,
            time_zone: None,
            version: 1,
            updated_at: 0,
        }
    }

    const ADMIN: Caller<'static> = Caller::Person {
        id: "admin",
        role: Role::Admin,
    };

    #[test]
    fn emails_are_lowercased_and_shaped() {
        assert_eq!(email("  Ada@Example.ORG ").unwrap(), "ada@example.org");
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.org",
            "a b@x.org",
            "a@x",
            "a@.x",
            "a@x.",
            "a@b@c.org",
        ] {
            assert_eq!(
                email(bad).unwrap_err().code,
                ErrorCode::VALIDATION_FAILED,
                "{bad}"
            );
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            time_zone(Some("Europe/Lisbon")).unwrap().as_deref(),
            Some("Europe/Lisbon")
        );
        assert_eq!(time_zone(Some(" ")).unwrap(), None);
        assert!(time_zone(Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn profile_roles_do_not_change_and_coordinators_hand_over_first() {
        let mentor = account(Role::Mentor);
        let refused = change_role(ADMIN, &mentor, Role::Coordinator, 0, false).unwrap_err();
        assert_eq!(refused.code, ErrorCode::ROLE_CHANGE_INVALID);
        let coordinator = account(Role::Coordinator);
        let refused = change_role(ADMIN, &coordinator, Role::Director, 3, false).unwrap_err();
        assert_eq!(refused.code, ErrorCode::ROLE_CHANGE_INVALID);
        assert_eq!(
            change_role(ADMIN, &coordinator, Role::Director, 0, false),
            Ok(Role::Director)
        );
        let me = Caller::Person {
            id: "u1",
            role: Role::Admin,
        };
        assert_eq!(
            change_role(me, &account(Role::Admin), Role::Director, 0, false)
                .unwrap_err()
                .code,
            ErrorCode::FORBIDDEN
        );
    }

    #[test]
    fn nobody_disables_themselves_and_status_moves_once() {
        let a = account(Role::Coordinator);
        let disabled = set_status(ADMIN, &a, AccountAction::Disable, false).unwrap();
        assert_eq!(disabled.to, AccountStatus::Disabled);
        let refused = set_status(ADMIN, &a, AccountAction::Enable, false).unwrap_err();
        assert_eq!(refused.code, ErrorCode::INVALID_TRANSITION);
        let me = Caller::Person {
            id: "u1",
            role: Role::Admin,
        };
        let refused = set_status(me, &a, AccountAction::Disable, false).unwrap_err();
        assert_eq!(refused.code, ErrorCode::FORBIDDEN);
        // A stale version is a conflict before the status rule.
        let refused = set_status(ADMIN, &a, AccountAction::Enable, true).unwrap_err();
        assert_eq!(refused.code, ErrorCode::VERSION_CONFLICT);
    }

    #[test]
    fn seats_and_capacity_never_fall_below_what_is_held() {
        let c = create_cohort(
            &CreateCohort {
                cohort_id: None,
                external_id: Some("spring-26".into()),
                name: "Spring".into(),
                starts_at: 1_800_000_000_000,
                ends_at: 1_810_000_000_000,
                seats: 2,
            },
            0,
        )
        .unwrap();
        assert_eq!(
            enrol(&c, 2, false).unwrap_err().code,
            ErrorCode::COHORT_FULL
        );
        assert!(enrol(&c, 1, false).is_ok());
        let fewer = UpdateCohort {
            cohort_id: c.id.clone(),
            name: None,
            starts_at: None,
            ends_at: None,
            seats: Some(1),
        };
        assert_eq!(
            update_cohort(&c, &fewer, 2, false, 0).unwrap_err().code,
            ErrorCode::COHORT_FULL
        );
        assert_eq!(capacity(0).unwrap_err().code, ErrorCode::VALIDATION_FAILED);
    }

    #[test]
    fn certifications_renew_into_the_future_only() {
        let now = 1_800_000_000_000;
        assert!(renew_certification(ADMIN, now, now - 1, false, false).is_err());
        assert_eq!(
            renew_certification(ADMIN, now, now + 1, false, false),
            Ok(now + 1)
        );
        let stranger = Caller::Person {
            id: "c9",
            role: Role::Coordinator,
        };
        assert_eq!(
            renew_certification(stranger, now, now + 1, false, false)
                .unwrap_err()
                .code,
            ErrorCode::FORBIDDEN
        );
    }
}
