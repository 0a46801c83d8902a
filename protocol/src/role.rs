//! The people of DOMAIN.md. What each role may do is decided per command in `command.rs`;
//! which rows a person may touch (their roster, their mentees) is the server's business.

use crate::status::string_enum;

string_enum!(
    /// A user's role inside their one chapter.
    Role {
        /// Chapter administrator: everything in the chapter.
        Admin = "admin",
        /// Looks after a roster of mentors.
        Coordinator = "coordinator",
        /// Mentors mentees, reviews their work.
        Mentor = "mentor",
        /// Is mentored; submits missions.
        Mentee = "mentee",
        /// Reads the dashboards of the cohorts they direct.
        Director = "director",
    }
);
