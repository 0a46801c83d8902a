//! Observers of local state: the app registers a callback per topic and re-reads when it
//! fires. Dropping the returned [`Subscription`] (or calling `cancel`) unsubscribes.

use mentorsync_protocol::command::Entity;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Mentors, pauses, mentee and coordinator assignments.
    Roster,
    /// Mentees, cohorts and accounts.
    Mentees,
    /// Work items and submissions.
    WorkQueue,
    /// Sessions.
    Sessions,
    /// Risk flags.
    Flags,
    /// Dashboard figures computed by the server.
    Dashboards,
    /// The person's inbox (notifications delivered to them).
    Inbox,
    /// Commands waiting for the server, and those it refused.
    Commands,
    /// Online state, last sync, pending count, errors.
    SyncStatus,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 9] = [
        Topic::Roster,
        Topic::Mentees,
        Topic::WorkQueue,
        Topic::Sessions,
        Topic::Flags,
        Topic::Dashboards,
        Topic::Inbox,
        Topic::Commands,
        Topic::SyncStatus,
    ];

    /// The topic whose readers show rows of `entity`.
    pub fn of(entity: Entity) -> Topic {
        match entity {
            Entity::Mentor
            | Entity::Pause
            | Entity::MenteeAssignment
            | Entity::CoordinatorAssignment => Topic::Roster,
            Entity::Mentee | Entity::Cohort | Entity::User => Topic::Mentees,
            Entity::WorkItem | Entity::Submission => Topic::WorkQueue,
            Entity::Session => Topic::Sessions,
            Entity::Flag => Topic::Flags,
            Entity::Dashboard => Topic::Dashboards,
            Entity::InboxItem => Topic::Inbox,
        }
    }

    /// The topics of these entities, each once.
    pub fn of_all(entities: impl IntoIterator<Item = Entity>) -> Vec<Topic> {
        let mut topics: Vec<Topic> = Vec::new();
        for t in entities.into_iter().map(Topic::of) {
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
        topics
    }
}

type Callback = Arc<dyn Fn(Topic) + Send + Sync>;

/// The registry.
#[derive(Default)]
pub struct Listeners {
    next: AtomicU64,
    subs: Mutex<Vec<(u64, Topic, Callback)>>,
}

impl Listeners {
    /// Registers `callback` for `topic`.
    pub fn add(self: &Arc<Self>, topic: Topic, callback: Callback) -> Subscription {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.subs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, topic, callback));
        Subscription {
            id,
            listeners: Arc::downgrade(self),
        }
    }

    /// Calls every callback of these topics (outside the registry lock).
    pub fn notify(&self, topics: &[Topic]) {
        let due: Vec<(Topic, Callback)> = self
            .subs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, t, _)| topics.contains(t))
            .map(|(_, t, c)| (*t, c.clone()))
            .collect();
        for (t, c) in due {
            c(t);
        }
    }

    fn remove(&self, id: u64) {
        self.subs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(i, _, _)| *i != id);
    }
}

/// A registered observer; unsubscribes when dropped.
pub struct Subscription {
    id: u64,
    listeners: Weak<Listeners>,
}

impl Subscription {
    /// Stops the callbacks now.
    pub fn cancel(&self) {
        if let Some(l) = self.listeners.upgrade() {
            l.remove(self.id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn fires_per_topic_until_dropped() {
        let l = Arc::new(Listeners::default());
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let sub = l.add(
            Topic::Roster,
            Arc::new(move |_| {
                h.fetch_add(1, Ordering::SeqCst);
            }),
        );
        l.notify(&[Topic::WorkQueue]);
        l.notify(&[Topic::Roster]);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        drop(sub);
        l.notify(&[Topic::Roster]);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
