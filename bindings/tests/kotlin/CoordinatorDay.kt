// A coordinator's day through the generated Kotlin bindings, against a real server
// process: sign in, first sync with progress, roster filter, lose the signal, pause a
// mentor offline (the listener fires), get the signal back, sync, the verdict arrives; a
// command that cannot succeed is a typed exception, one the server refuses a record.

import kotlinx.coroutines.runBlocking
import uniffi.mentorsync_ffi.*
import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URL
import java.nio.file.Files

const val PASSWORD = "mentorsync-demo"

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

class Server(dir: File) {
    private val bin = System.getenv("MENTORSYNC_SERVER_BIN")
    private val db = "sqlite://" + File(dir, "server.db").absolutePath
    private val port = ServerSocket(0).use { it.localPort }
    val url = "http://127.0.0.1:$port"
    private var proc: Process? = null

    init {
        val seed = ProcessBuilder(bin, "seed", "--demo", "--mentors", "4", "--mentees-per-mentor", "2",
            "--coordinators", "1", "--cohorts", "1", "--database-url", db)
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        check(seed.waitFor() == 0) { "seeding failed" }
        // Dashboards once, up front; the scheduler stays off so only the test changes data.
        val job = ProcessBuilder(bin, "run-job", "dashboards", "--database-url", db)
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        check(job.waitFor() == 0) { "dashboard job failed" }
    }

    fun start() {
        proc = ProcessBuilder(bin, "serve", "--bind", "127.0.0.1:$port", "--database-url", db,
            "--scheduler-tick-seconds", "0")
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        val deadline = System.nanoTime() + 30_000_000_000L
        while (System.nanoTime() < deadline) {
            try {
                val c = URL("$url/healthz").openConnection() as HttpURLConnection
                c.connectTimeout = 500
                if (c.responseCode == 200) return
            } catch (e: java.io.IOException) {
                Thread.sleep(50)
            }
        }
        throw IllegalStateException("server did not start")
    }

    fun stop() {
        proc?.destroy()
        proc?.waitFor()
        proc = null
    }
}

class Recorder : ChangeListener {
    val topics = java.util.concurrent.CopyOnWriteArrayList<Topic>()
    override fun onChange(topic: Topic) { topics.add(topic) }
}

class Progress : ProgressListener {
    @Volatile var last: SyncProgress? = null
    override fun onProgress(progress: SyncProgress) { last = progress }
}

/** The app's secret store (the Keystore in an app; in memory here). */
class Keychain : TokenStore {
    @Volatile var tokens: SessionTokens? = null
    override fun load(): SessionTokens? = tokens
    override fun save(tokens: SessionTokens?) { this.tokens = tokens }
}

fun query(status: MentorStatus? = null, name: String? = null) =
    RosterQuery(status, null, name, false, 50u, 0u)

fun main() = runBlocking {
    val dir = Files.createTempDirectory("mentorsync-kotlin").toFile()
    val server = Server(dir)
    server.start()
    try {
        val keychain = Keychain()
        val client = MentorsyncClient(File(dir, "phone.db").absolutePath, server.url, keychain, false)
        val me = client.login("coordinator01@demo.mentorsync.dev", PASSWORD)
        check(me.role == "coordinator") { "signed in as ${me.role}" }
        check(keychain.tokens != null) { "tokens went to the app's store" }

        val progress = Progress()
        val report = client.sync(progress)
        check(report.rows > 0uL && report.pages >= 3uL) { "first sync: $report" }
        check(progress.last?.pages == report.pages) { "progress was reported" }

        val active = client.roster(query(status = MentorStatus.ACTIVE))
        check(active.isNotEmpty() && active.all { it.status == MentorStatus.ACTIVE }) { "active filter" }
        val mentor = active[0]
        check(client.roster(query(name = mentor.displayName.take(3).lowercase())).isNotEmpty()) { "name filter" }

        val board = client.mentorDashboard(mentor.mentorId)
        check(board != null && board.computedAt > 0) { "the mentor's dashboard synced" }
        check(board!!.capacityLabel == "${board.capacityUsed}/${board.capacityWeekly} weekly slots") { board.capacityLabel }
        check(client.dashboards("coordinator").map { it.subjectId } == listOf(me.id)) { "own coordinator figures" }

        val recorder = Recorder()
        val handle = client.observe(Topic.ROSTER, recorder)

        server.stop()
        client.pauseMentor(mentor.mentorId, "Parental leave", null)
        check(recorder.topics.contains(Topic.ROSTER)) { "the listener fired" }
        var row = client.roster(query()).first { it.mentorId == mentor.mentorId }
        check(row.status == MentorStatus.PAUSED && row.pending) { "paused and pending: $row" }
        try {
            client.sync(null)
            throw AssertionError("sync worked without a server")
        } catch (e: MentorsyncException.Offline) {
            // expected
        }

        server.start()
        val after = client.sync(null)
        check(after.pushed == 1uL && after.rejected == 0uL) { "verdict: $after" }
        row = client.roster(query()).first { it.mentorId == mentor.mentorId }
        check(row.status == MentorStatus.PAUSED && !row.pending) { "applied: $row" }
        check(client.pendingCommands().isEmpty()) { "outbox empty" }

        try {
            client.pauseMentor(mentor.mentorId, "again", null)
            throw AssertionError("a paused mentor was paused again")
        } catch (e: MentorsyncException.Rejected) {
            check(e.code == "invalid_transition") { e.code }
            check(e.reason.contains("that is paused")) { e.reason }
        }

        val other = active.first { it.mentorId != mentor.mentorId }
        client.pauseMentor(other.mentorId, "Exams", null)
        val admin = MentorsyncClient(File(dir, "admin.db").absolutePath, server.url, Keychain(), false)
        admin.login("admin@demo.mentorsync.dev", PASSWORD)
        admin.sync(null)
        admin.deactivateMentor(other.mentorId)
        admin.sync(null)
        check(client.sync(null).rejected == 1uL) { "one rejection" }
        val rejected = client.rejectedCommands()
        check(rejected.map { it.name } == listOf("pause_mentor")) { "$rejected" }
        check(rejected[0].code == "version_conflict") { rejected[0].code }
        check(client.roster(query()).first { it.mentorId == other.mentorId }.status == MentorStatus.INACTIVE) { "rolled back" }

        handle.cancel()
        val before = recorder.topics.size
        client.resumeMentor(mentor.mentorId)
        check(recorder.topics.size == before) { "a cancelled listener fired" }
        client.sync(null)
        val status = client.syncStatus()
        check(status.online && status.signedIn && status.pending == 0L) { "$status" }

        // Someone else signs in while a command waits: refused, saying how many and whose.
        server.stop()
        client.pauseMentor(mentor.mentorId, "Leave", null)
        server.start()
        try {
            client.login("admin@demo.mentorsync.dev", PASSWORD)
            throw AssertionError("an account switch dropped a queued command")
        } catch (e: MentorsyncException.PendingCommands) {
            check(e.count == 1uL && e.owner == "coordinator01@demo.mentorsync.dev") { "${e.count} ${e.owner}" }
        }
        check(client.discardPending() == 1uL) { "one discarded" }
        check(client.login("admin@demo.mentorsync.dev", PASSWORD).role == "admin") { "switched" }
        client.logout()
        check(keychain.tokens == null && client.roster(query()).isEmpty()) { "signed out and cleared" }
        admin.close()
        client.close()
        println("kotlin: a coordinator's day passed")
    } finally {
        server.stop()
    }
}
