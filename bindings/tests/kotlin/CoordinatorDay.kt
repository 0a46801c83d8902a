// A coordinator's day through the generated Kotlin bindings, against a real server
// process: every coordinator action at least once, most of them offline; the screens as
// typed records, the listeners delivering their current value; the live loop hearing a
// mentor's pause request without a sync call; a refusal at once with its code, one from
// the server later with its reason.

import kotlinx.coroutines.runBlocking
import uniffi.mentorsync_ffi.*
import java.nio.file.Files
import java.time.temporal.ChronoUnit

fun coordinatorDay() = runBlocking {
    val dir = Files.createTempDirectory("mentorsync-coordinator").toFile()
    val server = Server(dir)
    server.start()
    try {
        val keychain = Keychain()
        val client = device(server, dir, "phone", keychain)
        val me = client.login(COORDINATOR, PASSWORD)
        check(me.role == Role.COORDINATOR && me.email == COORDINATOR) { "signed in as $me" }
        check(keychain.tokens != null) { "tokens went to the app's store" }

        val progress = Progress()
        val report = client.sync(progress)
        check(report.rows > 0uL && report.pages >= 3uL) { "first sync: $report" }
        check(progress.last?.pages == report.pages) { "progress was reported" }

        // The roster screen binds to a listener, which has the current value at once.
        val roster = RosterValues()
        val rosterHandle = client.observeRoster(RosterQuery(), roster)
        check(roster.seen.size == 1) { "the current value on registration" }
        val mentors = roster.seen.last().map { it.mentor }
        check(mentors.size == 4 && mentors.all { it.status == MentorStatus.ACTIVE }) { "$mentors" }
        val mentorD = device(server, dir, "mentor-d")
        val dId = mentorD.login("mentor0004@demo.mentorsync.dev", PASSWORD).id
        val d = mentors.first { it.id == dId }
        val (a, b, c) = mentors.filter { it.id != dId }
        check(a.certificationExpiresAt != null) { "certification as an Instant" }
        check(client.roster(RosterQuery(name = a.displayName.take(3).lowercase())).isNotEmpty()) { "name filter" }

        val board = client.coordinatorDashboard()!!
        check(board.mentors == 4L && board.active == 4L) { "$board" }
        check(board.undeliverableNotifications >= 0 && board.openFindings >= 0) { "$board" }
        val mentorBoard = client.mentorDashboard(a.id)!!
        check(mentorBoard.capacityLabel == "${mentorBoard.capacityUsed}/${mentorBoard.capacityWeekly} weekly slots") { mentorBoard.capacityLabel }
        check(client.dashboards().coordinator?.mentors == 4L) { "dashboards()" }

        val ofB = client.mentees(MenteeQuery(mentorId = b.id))
        check(ofB.size == 2 && ofB.all { it.mentorId == b.id }) { "$ofB" }
        val mentee = ofB[0].mentee
        val cockpit = client.cockpit(mentee.id)!!
        check(cockpit.assignment?.mentorId == b.id) { "${cockpit.assignment}" }

        // The bus goes into a tunnel: the day's decisions are made offline.
        server.stop()
        val later = client.execute(Action.PauseMentor(a.id, "Exams", days(3), days(10)))
        val rows = roster.waitFor { rs -> rs.any { it.mentor.id == a.id && it.pending } }
        val shown = rows.first { it.mentor.id == a.id }
        check(shown.openPause?.id == later.createdId && shown.openPause?.status == PauseStatus.SCHEDULED) { "${shown.openPause}" }
        check(shown.mentor.status == MentorStatus.ACTIVE) { "a pause for later does not pause now" }
        client.execute(Action.CancelPause(later.createdId!!))
        client.execute(Action.PauseMentor(a.id, "Parental leave", null, null))
        check(client.roster(RosterQuery(status = MentorStatus.PAUSED))[0].mentor.id == a.id) { "paused" }
        client.execute(Action.ResumeMentor(a.id))

        val flag = client.execute(Action.RaiseFlag(mentee.id, FlagSeverity.HIGH, "missed two sessions")).createdId!!
        val openFlags = client.flags(listOf(FlagStatus.OPEN), null, 0u)
        check(openFlags[0].id == flag && openFlags[0].severity == FlagSeverity.HIGH) { "$openFlags" }
        client.execute(Action.AcknowledgeFlag(flag))
        client.execute(Action.ResolveFlag(flag))
        check(client.flags(listOf(FlagStatus.RESOLVED), mentee.id, 0u)[0].id == flag) { "resolved" }

        client.execute(Action.EndAssignment(cockpit.assignment!!.id))
        client.execute(Action.AssignMentee(c.id, mentee.id))
        check(client.cockpit(mentee.id)?.assignment?.mentorId == c.id) { "reassigned" }
        client.execute(Action.UpdateMentor(c.id, 6L, listOf("maths"), mapOf("mon" to listOf("18:00-20:00"))))
        client.execute(Action.RenewCertification(c.id, days(365)))
        val at = days(1).truncatedTo(ChronoUnit.SECONDS)
        val session = client.execute(Action.ScheduleSession(mentee.id, c.id, at, 45L, "https://meet.example.org/abc")).createdId
        val held = client.sessionsBetween(now(), days(2)).first { it.id == session }
        check(held.meetingLink == "https://meet.example.org/abc" && held.scheduledAt == at) { "$held" }

        val waiting = client.commands().pending
        check(waiting.size == 12 && waiting.all { it.state == CommandState.PENDING }) { "${waiting.size} waiting" }
        check((waiting[0].action as Action.PauseMentor).reason == "Exams") { "${waiting[0].action}" }
        check(waiting.last().action is Action.ScheduleSession) { "${waiting.last().action}" }
        refused<MentorsyncException.Offline> { client.sync(null) }

        // Signal is back: every verdict arrives, nothing is refused.
        server.start()
        val after = client.sync(null)
        check(after.pushed == 12uL && after.rejected == 0uL) { "verdicts: $after ${client.commands().rejected}" }
        check(client.commands().pending.isEmpty()) { "outbox empty" }
        val cNow = client.roster(RosterQuery()).first { it.mentor.id == c.id }.mentor
        check(cNow.capacityWeekly == 6L && cNow.availability == mapOf("mon" to listOf("18:00-20:00"))) { "$cNow" }

        // Live: a mentor's pause request reaches this device without a sync call, and
        // decisions go out as soon as they are made.
        val live = LiveStates()
        check(client.startLive(live) && !client.startLive(null)) { "started once" }
        live.waitFor { it is LiveState.Live }
        val commands = CommandValues()
        val commandsHandle = client.observeCommands(commands)
        mentorD.sync(null)
        for (approve in listOf(false, true)) {
            mentorD.execute(Action.RequestPause(d.id, "Exam period", days(7), days(14)))
            mentorD.sync(null)
            roster.waitFor { rs -> rs.any { it.mentor.id == d.id && it.openPause?.status == PauseStatus.REQUESTED } }
            val request = client.pauseRequests().single()
            check(request.mentorId == d.id && request.reason == "Exam period") { "$request" }
            client.execute(if (approve) Action.ApprovePause(request.id) else Action.DeclinePause(request.id))
            commands.waitFor { it.pending.isEmpty() }
            mentorD.sync(null)
        }
        check(client.pauseRequests().isEmpty()) { "decided" }
        check(client.roster(RosterQuery()).first { it.mentor.id == d.id }.openPause?.status == PauseStatus.SCHEDULED) { "approved" }

        val queue = client.workQueue(null, 0u)
        check(queue.isNotEmpty()) { "the seed gave the coordinator's mentors mission reviews" }
        client.execute(Action.CancelWorkItem(queue[0].id))
        client.execute(Action.DeactivateMentor(b.id))
        commands.waitFor { it.pending.isEmpty() && it.rejected.isEmpty() }
        roster.waitFor { rs -> rs.any { it.mentor.id == b.id && it.mentor.status == MentorStatus.INACTIVE && !it.pending } }
        check(client.mentees(MenteeQuery(mentorId = b.id)).isEmpty()) { "b's mentees went back to matching" }

        // A command that cannot succeed is refused at once, with a code and the reason.
        val now = refused<MentorsyncException.Rejected> {
            client.execute(Action.PauseMentor(d.id, "again", null, null))
        }
        check(now.code == RefusalCode.OPEN_PAUSE_EXISTS && now.reason.isNotEmpty()) { "${now.code} ${now.reason}" }

        // One the server refuses later arrives as a refused command with its reason.
        check(client.stopLive()) { "was live" }
        live.waitFor { it is LiveState.Stopped }

        // d's two pause requests reach the inbox once dispatched; read and dismissed
        // offline, the badge drops at once.
        server.runJob("notifications")
        val inbox = InboxValues()
        val inboxHandle = client.observeInbox(false, 0u, inbox)
        client.sync(null)
        val full = inbox.waitFor { i -> i.items.count { it.kind == "pause_requested" } == 2 }
        val requests = full.items.filter { it.kind == "pause_requested" }
        check(requests.all { it.mentorId == d.id && it.readAt == null }) { "$requests" }
        server.stop()
        client.execute(Action.ReadInboxItem(requests[0].id))
        client.execute(Action.DismissInboxItem(requests[1].id))
        val read = inbox.waitFor { it.unread == full.unread - 2 }
        check(read.items.none { it.id == requests[1].id }) { "dismissed" }
        server.start()
        check(client.sync(null).rejected == 0uL) { "read and dismissed on the server" }
        inboxHandle.cancel()
        server.stop()
        client.execute(Action.PauseMentor(a.id, "Exams", null, null))
        server.start()
        val admin = device(server, dir, "admin")
        admin.login(ADMIN, PASSWORD)
        admin.sync(null)
        admin.execute(Action.DeactivateMentor(a.id))
        admin.sync(null)
        check(client.sync(null).rejected == 1uL) { "one rejection" }
        val rejected = client.commands().rejected.single()
        check((rejected.action as Action.PauseMentor).mentorId == a.id) { "${rejected.action}" }
        check(rejected.code == RefusalCode.VERSION_CONFLICT && rejected.reason.isNotEmpty()) { "${rejected.code}" }
        check(client.dismissRejection(rejected.mutationId) && client.commands().rejected.isEmpty()) { "dismissed" }

        // Cancelled listeners stay quiet.
        val recorder = Recorder()
        val handle = client.observe(Topic.ROSTER, recorder)
        check(recorder.topics == listOf(Topic.ROSTER)) { "told once on registration" }
        listOf(handle, rosterHandle, commandsHandle).forEach { it.cancel() }
        val before = roster.seen.size
        client.execute(Action.PauseMentor(c.id, "Leave", null, null))
        check(recorder.topics.size == 1 && roster.seen.size == before) { "a cancelled listener fired" }
        client.sync(null)
        val status = client.syncStatus()
        check(status.online && status.signedIn && status.pending == 0L) { "$status" }
        check(status.sets.map { it.set } == listOf(DataSet.ROSTER, DataSet.QUEUE, DataSet.REST)) { "${status.sets}" }

        // Someone else signs in while a command waits: refused, saying how many and whose.
        server.stop()
        client.execute(Action.ResumeMentor(c.id))
        server.start()
        val pending = refused<MentorsyncException.PendingCommands> { client.login(ADMIN, PASSWORD) }
        check(pending.count == 1uL && pending.owner == COORDINATOR) { "${pending.count} ${pending.owner}" }
        check(client.discardPending() == 1uL) { "one discarded" }
        check(client.login(ADMIN, PASSWORD).role == Role.ADMIN) { "switched" }
        client.logout()
        check(keychain.tokens == null && client.roster(RosterQuery()).isEmpty()) { "signed out and cleared" }
        listOf(admin, mentorD, client).forEach { it.close() }
    } finally {
        server.stop()
    }
}
