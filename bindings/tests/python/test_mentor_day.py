"""A mentor's day through the generated Python bindings, against a real server process:
every mentor action at least once, most of them offline, with a mentee's phone
submitting the work to review; the live loop bringing the mentee's resubmission without
a sync call; a refusal at once with its code, one from the server later with its reason."""

import asyncio
import datetime

import pytest

import mentorsync_ffi as ms
from conftest import (COORDINATOR, PASSWORD, CommandValues, LiveStates, QueueValues,
                      SessionValues, device, now)

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
A = ms.Action
MENTOR = "mentor0001@demo.mentorsync.dev"
MENTEE = "mentee00001@demo.mentorsync.dev"


def test_a_mentors_day(server, tmp_path):
    async def day():
        phone = device(server, tmp_path, "mentor")
        me = await phone.login(MENTOR, PASSWORD)
        assert me.role == ms.Role.MENTOR
        await phone.sync(None)

        board = phone.dashboards().mine
        assert board.mentor_id == me.id and board.day_start < board.day_end
        assert board.capacity_label == f"{board.capacity_used}/{board.capacity_weekly} weekly slots"
        mine = phone.mentees(ms.MenteeQuery())
        assert len(mine) == 2 and all(m.mentor_id == me.id for m in mine)

        queue = QueueValues()
        queue_handle = phone.observe_work_queue(None, 0, queue)
        sessions = SessionValues()
        sessions_handle = phone.observe_sessions(now() - DAY, now() + 30 * DAY, sessions)
        assert len(queue.seen) == 1 and len(sessions.seen) == 1, "current values on registration"

        # Their mentee hands in two missions from the mentee's own phone.
        mentee_phone = device(server, tmp_path, "mentee")
        mentee = await mentee_phone.login(MENTEE, PASSWORD)
        assert mentee.role == ms.Role.MENTEE
        await mentee_phone.sync(None)
        first = next(m.mentee for m in mine if m.mentee.id == mentee.id)
        second = next(m.mentee for m in mine if m.mentee.id != mentee.id)
        goals = mentee_phone.execute(A.SUBMIT_MISSION(mission_ref="M1", title="Goals",
                                                      content="my goals")).created_id
        cv = mentee_phone.execute(A.SUBMIT_MISSION(mission_ref="M2", title="CV",
                                                   content="https://cv.example.org/me")).created_id
        assert (await mentee_phone.sync(None)).rejected == 0

        await phone.sync(None)
        assert {goals, cv} <= {s.id for s in phone.submissions_to_review(me.id)}
        items = queue.wait(lambda q: {goals, cv} <= {w.reference_id for w in q})
        review_goals = next(w for w in items if w.reference_id == goals)
        assert review_goals.kind == ms.WorkItemKind.MISSION_REVIEW
        assert review_goals.status == ms.WorkItemStatus.OPEN
        assert isinstance(review_goals.sla_due_at, datetime.datetime)

        # No signal on the way to the first session: everything is done offline.
        server.stop()
        pause = phone.execute(A.REQUEST_PAUSE(mentor_id=me.id, reason="Exams",
                                              starts_at=now() + 7 * DAY,
                                              ends_at=now() + 14 * DAY)).created_id
        phone.execute(A.CANCEL_PAUSE(pause_id=pause))
        phone.execute(A.CLAIM_WORK_ITEM(item_id=review_goals.id))
        queue.wait(lambda q: any(w.id == review_goals.id and w.status == ms.WorkItemStatus.IN_PROGRESS
                                 for w in q))
        phone.execute(A.COMPLETE_WORK_ITEM(item_id=review_goals.id))
        phone.execute(A.REVIEW_MISSION(submission_id=cv, decision=ms.ReviewDecision.CHANGES_REQUESTED,
                                       feedback="add your last job"))
        assert cv not in {s.id for s in phone.submissions_to_review(None)}

        def schedule(mentee_id, hours):
            return phone.execute(A.SCHEDULE_SESSION(
                mentee_id=mentee_id, mentor_id=None, scheduled_at=now() + hours * HOUR,
                duration_minutes=30, meeting_link=f"https://meet.example.org/{hours}")).created_id

        held, called_off, missed = schedule(first.id, 2), schedule(second.id, 3), schedule(first.id, 4)
        shown = sessions.wait(lambda ss: {held, called_off, missed} <= {s.id for s in ss})
        assert next(s for s in shown if s.id == held).meeting_link == "https://meet.example.org/2"
        phone.execute(A.EDIT_SESSION_NOTES(session_id=held, text="Agenda: goals"))
        phone.execute(A.COMPLETE_SESSION(session_id=held))
        phone.execute(A.CANCEL_SESSION(session_id=called_off))
        phone.execute(A.MARK_NO_SHOW(session_id=missed))
        phone.execute(A.RAISE_FLAG(mentee_id=second.id, severity=ms.FlagSeverity.MEDIUM,
                                   reason="seems withdrawn"))
        statuses = {s.id: s.status for s in sessions.seen[-1]}
        assert (statuses[held], statuses[called_off], statuses[missed]) == (
            ms.SessionStatus.COMPLETED, ms.SessionStatus.CANCELLED, ms.SessionStatus.NO_SHOW)
        assert len(phone.commands().pending) == 13
        with pytest.raises(ms.MentorsyncError.Offline):
            await phone.sync(None)

        # Signal again: all thirteen apply.
        server.start()
        report = await phone.sync(None)
        assert (report.pushed, report.rejected) == (13, 0), [
            (r.action, r.code, r.reason) for r in phone.commands().rejected]
        cockpit = phone.cockpit(first.id)
        done = next(s for s in cockpit.recent_sessions + cockpit.upcoming_sessions if s.id == held)
        assert done.status == ms.SessionStatus.COMPLETED and done.notes == "Agenda: goals"
        assert [f.reason for f in phone.cockpit(second.id).open_flags] == ["seems withdrawn"]

        # Live: the mentee's resubmission reaches the mentor's queue without a sync call,
        # and the mentor's decision goes out at once.
        live = LiveStates()
        assert phone.start_live(live)
        live.wait(lambda s: s.is_LIVE())
        await mentee_phone.sync(None)
        sent_back = next(s for s in phone.cockpit(first.id).submissions if s.id == cv)
        assert sent_back.status == ms.SubmissionStatus.CHANGES_REQUESTED
        mentee_phone.execute(A.RESUBMIT_MISSION(submission_id=cv, content="now with my last job"))
        await mentee_phone.sync(None)
        again = queue.wait(lambda q: any(w.reference_id == cv for w in q))
        commands = CommandValues()
        commands_handle = phone.observe_commands(commands)
        phone.execute(A.CANCEL_WORK_ITEM(item_id=next(w.id for w in again if w.reference_id == cv)))
        commands.wait(lambda cs: cs.pending == [])
        queue.wait(lambda q: all(w.reference_id != cv for w in q))

        # Bad input is refused at once, naming the field, and nothing is queued.
        with pytest.raises(ms.MentorsyncError.Rejected) as bad:
            phone.execute(A.SCHEDULE_SESSION(mentee_id=first.id, mentor_id=None,
                                             scheduled_at=now() + DAY, duration_minutes=0,
                                             meeting_link=None))
        assert bad.value.code == ms.RefusalCode.VALIDATION_FAILED
        assert "duration_minutes" in bad.value.reason
        assert phone.commands().pending == []

        # Refused at once: a session cannot be completed twice.
        with pytest.raises(ms.MentorsyncError.Rejected) as refused:
            phone.execute(A.COMPLETE_SESSION(session_id=held))
        assert refused.value.code == ms.RefusalCode.INVALID_TRANSITION and refused.value.reason

        # Refused by the server later: the coordinator ends the assignment while the
        # mentor, offline, schedules with that mentee.
        assert phone.stop_live()
        live.wait(lambda s: s.is_STOPPED())
        server.stop()
        phone.execute(A.SCHEDULE_SESSION(mentee_id=first.id, mentor_id=None,
                                         scheduled_at=now() + DAY, duration_minutes=30,
                                         meeting_link=None))
        server.start()
        coordinator = device(server, tmp_path, "coordinator")
        await coordinator.login(COORDINATOR, PASSWORD)
        await coordinator.sync(None)
        coordinator.execute(A.END_ASSIGNMENT(assignment_id=coordinator.cockpit(first.id).assignment.id))
        await coordinator.sync(None)
        assert (await phone.sync(None)).rejected == 1
        [rejected] = phone.commands().rejected
        assert rejected.action.is_SCHEDULE_SESSION() and rejected.action.mentee_id == first.id
        assert rejected.code == ms.RefusalCode.NOT_ASSIGNED
        assert rejected.reason == "the mentee is not assigned to this mentor"
        assert [m.mentee.id for m in phone.mentees(ms.MenteeQuery())] == [second.id]

        for h in (queue_handle, sessions_handle, commands_handle):
            h.cancel()
        await phone.logout()
        assert phone.me() is None

    asyncio.run(day())
