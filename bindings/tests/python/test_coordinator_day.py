"""A coordinator's day through the generated Python bindings, against a real server
process: every coordinator action at least once, most of them offline; the screens as
typed records, the listeners delivering their current value; the live loop hearing a
mentor's pause request without a sync call; a refusal at once with its code, one from
the server later with its reason."""

import asyncio
import datetime

import pytest

import mentorsync_ffi as ms
from conftest import (ADMIN, COORDINATOR, PASSWORD, CommandValues, InboxValues, Keychain,
                      LiveStates, Progress, Recorder, RosterValues, device, now)

DAY = datetime.timedelta(days=1)
A = ms.Action


def test_a_coordinators_day(server, tmp_path):
    async def day():
        keychain = Keychain()
        client = ms.MentorsyncClient(str(tmp_path / "phone.db"), server.url, keychain, False)
        me = await client.login(COORDINATOR, PASSWORD)
        assert me.role == ms.Role.COORDINATOR and me.email == COORDINATOR
        assert keychain.tokens is not None and keychain.tokens.refresh_token

        progress = Progress()
        report = await client.sync(progress)
        assert report.rows > 0 and report.pages >= 3
        assert progress.seen and progress.seen[-1].pages == report.pages

        # The roster screen binds to a listener, which has the current value at once.
        roster = RosterValues()
        roster_handle = client.observe_roster(ms.RosterQuery(), roster)
        assert len(roster.seen) == 1, "the current value on registration"
        mentors = [r.mentor for r in roster.seen[-1]]
        assert len(mentors) == 4 and all(m.status == ms.MentorStatus.ACTIVE for m in mentors)
        # Mentor d asks for pauses from their own phone later on.
        mentor_d = device(server, tmp_path, "mentor-d")
        d_me = await mentor_d.login("mentor0004@demo.mentorsync.dev", PASSWORD)
        d = next(m for m in mentors if m.id == d_me.id)
        a, b, c = [m for m in mentors if m.id != d.id]
        assert isinstance(a.certification_expires_at, datetime.datetime)
        assert client.roster(ms.RosterQuery(name=a.display_name[:3].lower()))

        board = client.coordinator_dashboard()
        assert board.mentors == 4 and board.active == 4
        assert board.undeliverable_notifications >= 0 and board.open_findings >= 0
        assert board.computed_at <= now()
        mentor_board = client.mentor_dashboard(a.id)
        assert mentor_board.capacity_label == \
            f"{mentor_board.capacity_used}/{mentor_board.capacity_weekly} weekly slots"
        assert client.dashboards().coordinator.mentors == 4

        of_b = client.mentees(ms.MenteeQuery(mentor_id=b.id))
        assert len(of_b) == 2 and all(m.mentor_id == b.id for m in of_b)
        mentee = of_b[0].mentee
        cockpit = client.cockpit(mentee.id)
        assert cockpit.assignment.mentor_id == b.id
        assert all(s.status == ms.SessionStatus.SCHEDULED for s in cockpit.upcoming_sessions)

        # The bus goes into a tunnel: the day's decisions are made offline.
        server.stop()
        later = client.execute(A.PAUSE_MENTOR(mentor_id=a.id, reason="Exams",
                                              starts_at=now() + 3 * DAY, ends_at=now() + 10 * DAY))
        row = roster.wait(lambda rs: any(r.mentor.id == a.id and r.pending for r in rs))
        shown = next(r for r in row if r.mentor.id == a.id)
        assert shown.open_pause.id == later.created_id
        assert shown.open_pause.status == ms.PauseStatus.SCHEDULED
        assert shown.mentor.status == ms.MentorStatus.ACTIVE, "a pause for later does not pause now"
        client.execute(A.CANCEL_PAUSE(pause_id=later.created_id))
        client.execute(A.PAUSE_MENTOR(mentor_id=a.id, reason="Parental leave",
                                      starts_at=None, ends_at=None))
        assert client.roster(ms.RosterQuery(status=ms.MentorStatus.PAUSED))[0].mentor.id == a.id
        client.execute(A.RESUME_MENTOR(mentor_id=a.id))

        flag = client.execute(A.RAISE_FLAG(mentee_id=mentee.id, severity=ms.FlagSeverity.HIGH,
                                           reason="missed two sessions")).created_id
        open_flags = client.flags([ms.FlagStatus.OPEN], None, 0)
        assert open_flags[0].id == flag and open_flags[0].severity == ms.FlagSeverity.HIGH
        client.execute(A.ACKNOWLEDGE_FLAG(flag_id=flag))
        client.execute(A.RESOLVE_FLAG(flag_id=flag))
        assert client.flags([ms.FlagStatus.RESOLVED], mentee.id, 0)[0].id == flag

        client.execute(A.END_ASSIGNMENT(assignment_id=cockpit.assignment.id))
        client.execute(A.ASSIGN_MENTEE(mentor_id=c.id, mentee_id=mentee.id))
        assert client.cockpit(mentee.id).assignment.mentor_id == c.id
        client.execute(A.UPDATE_MENTOR(mentor_id=c.id, capacity_weekly=6, specialties=["maths"],
                                       availability={"mon": ["18:00-20:00"]}))
        client.execute(A.RENEW_CERTIFICATION(mentor_id=c.id, expires_at=now() + 365 * DAY))
        at = (now() + DAY).replace(microsecond=0)
        session = client.execute(A.SCHEDULE_SESSION(
            mentee_id=mentee.id, mentor_id=c.id, scheduled_at=at, duration_minutes=45,
            meeting_link="https://meet.example.org/abc")).created_id
        held = next(s for s in client.sessions_between(now(), now() + 2 * DAY) if s.id == session)
        assert held.meeting_link == "https://meet.example.org/abc" and held.scheduled_at == at

        waiting = client.commands().pending
        assert len(waiting) == 12 and all(p.state == ms.CommandState.PENDING for p in waiting)
        assert waiting[0].action == A.PAUSE_MENTOR(mentor_id=a.id, reason="Exams",
                                                   starts_at=waiting[0].action.starts_at,
                                                   ends_at=waiting[0].action.ends_at)
        assert waiting[-1].action.is_SCHEDULE_SESSION()
        with pytest.raises(ms.MentorsyncError.Offline):
            await client.sync(None)

        # Signal is back: every verdict arrives, nothing is refused.
        server.start()
        report = await client.sync(None)
        assert (report.pushed, report.rejected) == (12, 0), [(r.action, r.code, r.reason) for r in client.commands().rejected]
        assert client.commands().pending == []
        c_now = next(r.mentor for r in client.roster(ms.RosterQuery()) if r.mentor.id == c.id)
        assert c_now.capacity_weekly == 6 and c_now.availability == {"mon": ["18:00-20:00"]}
        assert client.cockpit(mentee.id).assignment.mentor_id == c.id

        # Live: the loop follows the server, so a mentor's pause request reaches this
        # device without a sync call, and decisions go out as soon as they are made.
        live = LiveStates()
        assert client.start_live(live) and not client.start_live(None)
        live.wait(lambda s: s.is_LIVE())
        commands = CommandValues()
        commands_handle = client.observe_commands(commands)
        await mentor_d.sync(None)
        for decision in (A.DECLINE_PAUSE, A.APPROVE_PAUSE):
            mentor_d.execute(A.REQUEST_PAUSE(mentor_id=d.id, reason="Exam period",
                                             starts_at=now() + 7 * DAY, ends_at=now() + 14 * DAY))
            await mentor_d.sync(None)
            roster.wait(lambda rs: any(r.mentor.id == d.id and r.open_pause is not None
                                       and r.open_pause.status == ms.PauseStatus.REQUESTED
                                       for r in rs))
            [request] = client.pause_requests()
            assert request.mentor_id == d.id and request.reason == "Exam period"
            client.execute(decision(pause_id=request.id))
            commands.wait(lambda cs: cs.pending == [])
            await mentor_d.sync(None)
        assert client.pause_requests() == []
        approved = next(r for r in client.roster(ms.RosterQuery()) if r.mentor.id == d.id)
        assert approved.open_pause.status == ms.PauseStatus.SCHEDULED

        queue = client.work_queue(None, 0)
        assert queue, "the seed gave the coordinator's mentors mission reviews"
        assert all(isinstance(w.kind, ms.WorkItemKind) for w in queue)
        client.execute(A.CANCEL_WORK_ITEM(item_id=queue[0].id))
        client.execute(A.DEACTIVATE_MENTOR(mentor_id=b.id))
        commands.wait(lambda cs: cs.pending == [] and cs.rejected == [])
        roster.wait(lambda rs: any(r.mentor.id == b.id and r.mentor.status == ms.MentorStatus.INACTIVE
                                   and not r.pending for r in rs))
        assert client.mentees(ms.MenteeQuery(mentor_id=b.id)) == [], "b's mentees went back to matching"

        # A command that cannot succeed is refused at once, with a code and the reason.
        with pytest.raises(ms.MentorsyncError.Rejected) as refused:
            client.execute(A.PAUSE_MENTOR(mentor_id=d.id, reason="again", starts_at=None, ends_at=None))
        assert refused.value.code == ms.RefusalCode.OPEN_PAUSE_EXISTS
        assert refused.value.reason

        # One the server refuses later arrives as a refused command with its reason.
        assert client.stop_live()
        live.wait(lambda s: s.is_STOPPED())
        assert not client.is_live()

        # Notifications reach the inbox: d's two pause requests, once dispatched. Read and
        # dismissed offline, the badge drops at once; the server learns it on the next sync.
        server.run_job("notifications")
        inbox = InboxValues()
        inbox_handle = client.observe_inbox(False, 0, inbox)
        assert len(inbox.seen) == 1, "the current value on registration"
        await client.sync(None)
        now_inbox = inbox.wait(lambda i: len([x for x in i.items if x.kind == "pause_requested"]) == 2)
        requests = [x for x in now_inbox.items if x.kind == "pause_requested"]
        assert all(x.mentor_id == d.id and x.read_at is None and x.entity == "pause" for x in requests)
        assert isinstance(requests[0].created_at, datetime.datetime)
        assert client.inbox(True, 0).unread == now_inbox.unread >= 2
        server.stop()
        client.execute(A.READ_INBOX_ITEM(item_id=requests[0].id))
        client.execute(A.DISMISS_INBOX_ITEM(item_id=requests[1].id))
        after = inbox.wait(lambda i: i.unread == now_inbox.unread - 2)
        assert requests[1].id not in [x.id for x in after.items]
        assert next(x for x in after.items if x.id == requests[0].id).read_at is not None
        server.start()
        assert (await client.sync(None)).rejected == 0
        assert client.commands().pending == []
        inbox_handle.cancel()
        server.stop()
        client.execute(A.PAUSE_MENTOR(mentor_id=a.id, reason="Exams", starts_at=None, ends_at=None))
        server.start()
        admin = device(server, tmp_path, "admin")
        await admin.login(ADMIN, PASSWORD)
        await admin.sync(None)
        admin.execute(A.DEACTIVATE_MENTOR(mentor_id=a.id))
        await admin.sync(None)
        assert (await client.sync(None)).rejected == 1
        [rejected] = client.commands().rejected
        assert rejected.action.is_PAUSE_MENTOR() and rejected.action.mentor_id == a.id
        assert rejected.code == ms.RefusalCode.VERSION_CONFLICT and rejected.reason
        assert commands.seen[-1].rejected[0].mutation_id == rejected.mutation_id
        assert client.dismiss_rejection(rejected.mutation_id)
        assert client.commands().rejected == []

        # Cancelled listeners stay quiet.
        recorder = Recorder()
        handle = client.observe(ms.Topic.ROSTER, recorder)
        assert recorder.topics == [ms.Topic.ROSTER], "told once on registration"
        for h in (handle, roster_handle, commands_handle):
            h.cancel()
        before = len(roster.seen)
        client.execute(A.PAUSE_MENTOR(mentor_id=c.id, reason="Leave", starts_at=None, ends_at=None))
        assert len(recorder.topics) == 1 and len(roster.seen) == before
        await client.sync(None)

        status = client.sync_status()
        assert status.online and status.signed_in and status.pending == 0
        assert [s.set for s in status.sets] == [ms.DataSet.ROSTER, ms.DataSet.QUEUE, ms.DataSet.REST]
        assert all(isinstance(s.last_success_at, datetime.datetime) for s in status.sets)

        # Someone else signs in while a command waits: refused, saying how many and whose.
        server.stop()
        client.execute(A.RESUME_MENTOR(mentor_id=c.id))
        server.start()
        with pytest.raises(ms.MentorsyncError.PendingCommands) as waiting:
            await client.login(ADMIN, PASSWORD)
        assert (waiting.value.count, waiting.value.owner) == (1, COORDINATOR)
        assert client.discard_pending() == 1
        assert (await client.login(ADMIN, PASSWORD)).role == ms.Role.ADMIN
        await client.logout()
        assert keychain.tokens is None and client.roster(ms.RosterQuery()) == []
        assert not client.sync_status().signed_in

        # A plain-http server off this machine is refused.
        with pytest.raises(ms.MentorsyncError.Protocol):
            ms.MentorsyncClient(str(tmp_path / "x.db"), "http://sync.example.org", Keychain(), False)

    asyncio.run(day())
