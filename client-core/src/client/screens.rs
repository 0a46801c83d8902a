//! The list screens' reads ([`crate::lists`]) and the refusals the app dismisses.

use super::Client;
use crate::error::Result;
use crate::listeners::Topic;
use crate::lists::{self, MenteeFilter, MenteeItem};
use mentorsync_protocol::FlagStatus;
use mentorsync_protocol::model::{Cohort, Flag, InboxItem, Pause, Submission};

impl Client {
    /// A page of mentees, by name.
    pub fn mentees(&self, filter: &MenteeFilter) -> Result<Vec<MenteeItem>> {
        lists::mentees(&self.inner.store.conn(), filter)
    }

    /// Flags in these statuses (all when empty), most serious first.
    pub fn flags(
        &self,
        statuses: &[FlagStatus],
        mentee_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Flag>> {
        lists::flags(&self.inner.store.conn(), statuses, mentee_id, limit)
    }

    /// Pause requests waiting for a coordinator's decision, oldest first.
    pub fn pause_requests(&self) -> Result<Vec<Pause>> {
        lists::pause_requests(&self.inner.store.conn())
    }

    /// Submissions waiting for a review (of one mentor, or all held), oldest first.
    pub fn submissions_to_review(&self, mentor_id: Option<&str>) -> Result<Vec<Submission>> {
        lists::submissions_to_review(&self.inner.store.conn(), mentor_id)
    }

    /// The cohorts held.
    pub fn cohorts(&self) -> Result<Vec<Cohort>> {
        lists::cohorts(&self.inner.store.conn())
    }

    /// The person's inbox, newest first, without dismissed items. Read and dismiss them
    /// with the `read_inbox_item` and `dismiss_inbox_item` commands (offline too).
    pub fn inbox(&self, unread_only: bool, limit: u32) -> Result<Vec<InboxItem>> {
        lists::inbox(&self.inner.store.conn(), unread_only, limit)
    }

    /// Inbox items neither read nor dismissed.
    pub fn unread_count(&self) -> Result<i64> {
        lists::unread_count(&self.inner.store.conn())
    }

    /// Forgets a refusal once the person has seen it. Returns whether it was there.
    pub fn dismiss_rejection(&self, mutation_id: i64) -> Result<bool> {
        let n = self.inner.store.conn().execute(
            "DELETE FROM rejections WHERE mutation_id = ?1",
            [mutation_id],
        )?;
        self.inner
            .listeners
            .notify(&[Topic::Commands, Topic::SyncStatus]);
        Ok(n > 0)
    }
}
