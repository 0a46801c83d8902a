//! The small chapters tests build: one person of every role and the relationships tests
//! need.

use super::{DAY, Seeder};
use mentorsync_protocol::Role;

/// The ids of a small chapter built by [`Seeder::small_chapter`].
#[derive(Debug, Clone)]
pub struct SmallChapter {
    /// Chapter id.
    pub id: String,
    /// `admin@<tag>.test`.
    pub admin: String,
    /// `coordinator@<tag>.test`, coordinates `mentor`.
    pub coordinator: String,
    /// `coordinator2@<tag>.test`, coordinates `other_mentor`.
    pub other_coordinator: String,
    /// `mentor@<tag>.test` (capacity 3, certified for a year), mentors `mentee`.
    pub mentor: String,
    /// `mentor2@<tag>.test`, mentors nobody.
    pub other_mentor: String,
    /// `mentee@<tag>.test`, assigned to `mentor`.
    pub mentee: String,
    /// `mentee2@<tag>.test`, unassigned.
    pub free_mentee: String,
    /// `director@<tag>.test`, directs `cohort`.
    pub director: String,
    /// The chapter's cohort.
    pub cohort: String,
}

impl Seeder {
    /// A chapter with one person of every role and the relationships tests need; emails
    /// are `<role>@<tag>.test`.
    pub fn small_chapter(&mut self, tag: &str) -> SmallChapter {
        let chapter = self.chapter(&format!("Chapter {tag}"));
        let e = |who: &str| format!("{who}@{tag}.test");
        let year = self.now + 365 * DAY;
        let admin = self.user(&chapter, Role::Admin, &e("admin"), "Admin");
        let coordinator = self.user(
            &chapter,
            Role::Coordinator,
            &e("coordinator"),
            "Cora Coordinator",
        );
        let other_coordinator = self.user(
            &chapter,
            Role::Coordinator,
            &e("coordinator2"),
            "Otto Coordinator",
        );
        let director = self.user(&chapter, Role::Director, &e("director"), "Dina Director");
        let mentor = self.mentor(
            &chapter,
            &e("mentor"),
            "Mia Mentor",
            3,
            Some(year),
            &["web"],
        );
        let other_mentor = self.mentor(
            &chapter,
            &e("mentor2"),
            "Max Mentor",
            3,
            Some(year),
            &["data"],
        );
        let cohort = self.cohort(&chapter, "Cohort", 10, &[&director]);
        let mentee = self.mentee(
            &chapter,
            &e("mentee"),
            "Tom Mentee",
            Some(&cohort),
            &["web"],
        );
        let free_mentee = self.mentee(
            &chapter,
            &e("mentee2"),
            "Fay Mentee",
            Some(&cohort),
            &["data"],
        );
        self.coordinate(&chapter, &coordinator, &mentor);
        self.coordinate(&chapter, &other_coordinator, &other_mentor);
        self.assign(&chapter, &mentor, &mentee);
        SmallChapter {
            id: chapter,
            admin,
            coordinator,
            other_coordinator,
            mentor,
            other_mentor,
            mentee,
            free_mentee,
            director,
            cohort,
        }
    }
}
