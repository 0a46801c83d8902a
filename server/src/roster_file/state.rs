//! What a chapter holds now, as far as a roster file speaks of it: accounts by email,
//! profiles, coordination, mentee assignments, cohorts and their directors. Import diffs a
//! file against it; export writes it out.

use crate::db::{Tx, q};
use crate::rows::{ACCOUNT_COLUMNS, COHORT_COLUMNS, MENTEE_COLUMNS, MENTOR_COLUMNS};
use mentorsync_protocol::model::{Account, Cohort, Mentee, Mentor};
use std::collections::{BTreeSet, HashMap};

/// A chapter's roster.
#[derive(Debug, Default)]
pub struct Roster {
    /// Accounts by (lowercase) email.
    pub accounts: HashMap<String, Account>,
    /// Mentor profiles by user id.
    pub mentors: HashMap<String, Mentor>,
    /// Mentee profiles by user id.
    pub mentees: HashMap<String, Mentee>,
    /// Each mentor's coordinator (user ids).
    pub coordinator_of: HashMap<String, String>,
    /// Each mentee's active assignment: (assignment id, mentor id).
    pub mentor_of: HashMap<String, (String, String)>,
    /// Cohorts by id.
    pub cohorts: HashMap<String, Cohort>,
    /// (cohort id, director id) links.
    pub directors: BTreeSet<(String, String)>,
}

impl Roster {
    /// Reads the chapter's roster in `tx`.
    pub async fn load(tx: &mut Tx, chapter_id: &str) -> Result<Roster, sqlx::Error> {
        let accounts: Vec<Account> = tx
            .fetch_all(
                q(format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM users WHERE chapter_id = $1"
                ))
                .bind(chapter_id),
            )
            .await?;
        let mentors: Vec<Mentor> = tx
            .fetch_all(
                q(format!(
                    "SELECT {MENTOR_COLUMNS} FROM mentor_profiles m JOIN users u ON u.id = m.user_id WHERE m.chapter_id = $1"
                ))
                .bind(chapter_id),
            )
            .await?;
        let mentees: Vec<Mentee> = tx
            .fetch_all(
                q(format!(
                    "SELECT {MENTEE_COLUMNS} FROM mentee_profiles p JOIN users u ON u.id = p.user_id WHERE p.chapter_id = $1"
                ))
                .bind(chapter_id),
            )
            .await?;
        let coordination: Vec<(String, String)> = tx
            .fetch_all(
                q("SELECT mentor_id, coordinator_id FROM coordinator_assignments WHERE chapter_id = $1 AND status = 'active'")
                    .bind(chapter_id),
            )
            .await?;
        let assignments: Vec<(String, String, String)> = tx
            .fetch_all(
                q("SELECT mentee_id, id, mentor_id FROM mentee_assignments WHERE chapter_id = $1 AND status = 'active'")
                    .bind(chapter_id),
            )
            .await?;
        let cohorts: Vec<Cohort> = tx
            .fetch_all(
                q(format!(
                    "SELECT {COHORT_COLUMNS} FROM cohorts WHERE chapter_id = $1"
                ))
                .bind(chapter_id),
            )
            .await?;
        let directors: Vec<(String, String)> = tx
            .fetch_all(
                q("SELECT d.cohort_id, d.director_id FROM cohort_directors d JOIN cohorts c ON c.id = d.cohort_id \
                   WHERE c.chapter_id = $1")
                .bind(chapter_id),
            )
            .await?;
        Ok(Roster {
            accounts: accounts.into_iter().map(|a| (a.email.clone(), a)).collect(),
            mentors: mentors.into_iter().map(|m| (m.id.clone(), m)).collect(),
            mentees: mentees.into_iter().map(|m| (m.id.clone(), m)).collect(),
            coordinator_of: coordination.into_iter().collect(),
            mentor_of: assignments
                .into_iter()
                .map(|(mentee, id, mentor)| (mentee, (id, mentor)))
                .collect(),
            cohorts: cohorts.into_iter().map(|c| (c.id.clone(), c)).collect(),
            directors: directors.into_iter().collect(),
        })
    }

    /// The cohort a file's key names: by external id, else by id.
    pub fn cohort_by_key(&self, key: &str) -> Option<&Cohort> {
        self.cohorts
            .values()
            .find(|c| c.external_id.as_deref() == Some(key))
            .or_else(|| self.cohorts.get(key))
    }
}
