// A mentor's day through the generated Kotlin bindings, against a real server process:
// every mentor action at least once, most of them offline, with a mentee's phone
// submitting the work to review; the live loop bringing the mentee's resubmission
// without a sync call; a refusal at once with its code, one from the server later with
// its reason.

import kotlinx.coroutines.runBlocking
import uniffi.mentorsync_ffi.*
import java.nio.file.Files

fun mentorDay() = runBlocking {
    val dir = Files.createTempDirectory("mentorsync-mentor").toFile()
    val server = Server(dir)
    server.start()
    try {
        val phone = device(server, dir, "mentor")
        val me = phone.login("mentor0001@demo.mentorsync.dev", PASSWORD)
        check(me.role == Role.MENTOR) { "signed in as $me" }
        phone.sync(null)

        val board = phone.dashboards().mine!!
        check(board.mentorId == me.id && board.dayStart < board.dayEnd) { "$board" }
        val mine = phone.mentees(MenteeQuery())
        check(mine.size == 2 && mine.all { it.mentorId == me.id }) { "$mine" }

        val queue = QueueValues()
        val queueHandle = phone.observeWorkQueue(null, 0u, queue)
        val sessions = SessionValues()
        val sessionsHandle = phone.observeSessions(days(-1), days(30), sessions)
        check(queue.seen.size == 1 && sessions.seen.size == 1) { "current values on registration" }

        // Their mentee hands in two missions from the mentee's own phone.
        val menteePhone = device(server, dir, "mentee")
        val mentee = menteePhone.login("mentee00001@demo.mentorsync.dev", PASSWORD)
        check(mentee.role == Role.MENTEE) { "signed in as $mentee" }
        menteePhone.sync(null)
        val first = mine.first { it.mentee.id == mentee.id }.mentee
        val second = mine.first { it.mentee.id != mentee.id }.mentee
        val goals = menteePhone.execute(Action.SubmitMission("M1", "Goals", "my goals")).createdId!!
        val cv = menteePhone.execute(Action.SubmitMission("M2", "CV", "https://cv.example.org/me")).createdId!!
        check(menteePhone.sync(null).rejected == 0uL) { "submitted" }

        phone.sync(null)
        check(phone.submissionsToReview(me.id).map { it.id }.containsAll(listOf(goals, cv))) { "to review" }
        val items = queue.waitFor { q -> q.map { it.referenceId }.containsAll(listOf(goals, cv)) }
        val reviewGoals = items.first { it.referenceId == goals }
        check(reviewGoals.kind == WorkItemKind.MISSION_REVIEW && reviewGoals.status == WorkItemStatus.OPEN) { "$reviewGoals" }

        // No signal on the way to the first session: everything is done offline.
        server.stop()
        val pause = phone.execute(Action.RequestPause(me.id, "Exams", days(7), days(14))).createdId!!
        phone.execute(Action.CancelPause(pause))
        phone.execute(Action.ClaimWorkItem(reviewGoals.id))
        queue.waitFor { q -> q.any { it.id == reviewGoals.id && it.status == WorkItemStatus.IN_PROGRESS } }
        phone.execute(Action.CompleteWorkItem(reviewGoals.id))
        phone.execute(Action.ReviewMission(cv, ReviewDecision.CHANGES_REQUESTED, "add your last job"))
        check(phone.submissionsToReview(null).none { it.id == cv }) { "reviewed" }

        fun schedule(menteeId: String, h: Long) = phone.execute(
            Action.ScheduleSession(menteeId, null, hours(h), 30L, "https://meet.example.org/$h")).createdId!!
        val held = schedule(first.id, 2)
        val calledOff = schedule(second.id, 3)
        val missed = schedule(first.id, 4)
        val shown = sessions.waitFor { ss -> ss.map { it.id }.containsAll(listOf(held, calledOff, missed)) }
        check(shown.first { it.id == held }.meetingLink == "https://meet.example.org/2") { "meeting link" }
        phone.execute(Action.EditSessionNotes(held, "Agenda: goals"))
        phone.execute(Action.CompleteSession(held))
        phone.execute(Action.CancelSession(calledOff))
        phone.execute(Action.MarkNoShow(missed))
        phone.execute(Action.RaiseFlag(second.id, FlagSeverity.MEDIUM, "seems withdrawn"))
        val statuses = sessions.seen.last().associate { it.id to it.status }
        check(statuses[held] == SessionStatus.COMPLETED && statuses[calledOff] == SessionStatus.CANCELLED &&
            statuses[missed] == SessionStatus.NO_SHOW) { "$statuses" }
        check(phone.commands().pending.size == 13) { "${phone.commands().pending.size} waiting" }
        refused<MentorsyncException.Offline> { phone.sync(null) }

        // Signal again: all thirteen apply.
        server.start()
        val report = phone.sync(null)
        check(report.pushed == 13uL && report.rejected == 0uL) { "$report ${phone.commands().rejected}" }
        val cockpit = phone.cockpit(first.id)!!
        val done = (cockpit.recentSessions + cockpit.upcomingSessions).first { it.id == held }
        check(done.status == SessionStatus.COMPLETED && done.notes == "Agenda: goals") { "$done" }
        check(phone.cockpit(second.id)!!.openFlags.map { it.reason } == listOf("seems withdrawn")) { "flag" }

        // Live: the mentee's resubmission reaches the mentor's queue without a sync call,
        // and the mentor's decision goes out at once.
        val live = LiveStates()
        check(phone.startLive(live)) { "started" }
        live.waitFor { it is LiveState.Live }
        menteePhone.sync(null)
        check(phone.cockpit(first.id)!!.submissions.first { it.id == cv }.status == SubmissionStatus.CHANGES_REQUESTED) { "sent back" }
        menteePhone.execute(Action.ResubmitMission(cv, "now with my last job"))
        menteePhone.sync(null)
        val again = queue.waitFor { q -> q.any { it.referenceId == cv } }
        val commands = CommandValues()
        val commandsHandle = phone.observeCommands(commands)
        phone.execute(Action.CancelWorkItem(again.first { it.referenceId == cv }.id))
        commands.waitFor { it.pending.isEmpty() }
        queue.waitFor { q -> q.none { it.referenceId == cv } }

        // Refused at once: a session cannot be completed twice.
        val twice = refused<MentorsyncException.Rejected> { phone.execute(Action.CompleteSession(held)) }
        check(twice.code == RefusalCode.INVALID_TRANSITION && twice.reason.isNotEmpty()) { "${twice.code}" }

        // Refused by the server later: the coordinator ends the assignment while the
        // mentor, offline, schedules with that mentee.
        check(phone.stopLive()) { "was live" }
        live.waitFor { it is LiveState.Stopped }
        server.stop()
        phone.execute(Action.ScheduleSession(first.id, null, days(1), 30L, null))
        server.start()
        val coordinator = device(server, dir, "coordinator")
        coordinator.login(COORDINATOR, PASSWORD)
        coordinator.sync(null)
        coordinator.execute(Action.EndAssignment(coordinator.cockpit(first.id)!!.assignment!!.id))
        coordinator.sync(null)
        check(phone.sync(null).rejected == 1uL) { "one rejection" }
        val rejected = phone.commands().rejected.single()
        check((rejected.action as Action.ScheduleSession).menteeId == first.id) { "${rejected.action}" }
        check(rejected.code == RefusalCode.NOT_ASSIGNED && rejected.reason == "the mentee is not assigned to this mentor") { "${rejected.code} ${rejected.reason}" }
        check(phone.mentees(MenteeQuery()).map { it.mentee.id } == listOf(second.id)) { "the mentee left this device" }

        listOf(queueHandle, sessionsHandle, commandsHandle).forEach { it.cancel() }
        phone.logout()
        check(phone.me() == null) { "signed out" }
        listOf(coordinator, menteePhone, phone).forEach { it.close() }
    } finally {
        server.stop()
    }
}
