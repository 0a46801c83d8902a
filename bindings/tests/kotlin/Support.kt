// What both days share: a real mentorsync-server process on a SQLite file (which a test
// can stop and start to lose the signal), the app's secret store, and listeners that
// record the values they are given.

import uniffi.mentorsync_ffi.*
import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URL
import java.time.Instant
import java.time.temporal.ChronoUnit

const val PASSWORD = "mentorsync-demo"
const val COORDINATOR = "coordinator01@demo.mentorsync.dev"
const val ADMIN = "admin@demo.mentorsync.dev"

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

inline fun <reified E : Throwable> refused(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}

fun now(): Instant = Instant.now()
fun hours(n: Long): Instant = now().plus(n, ChronoUnit.HOURS)
fun days(n: Long): Instant = now().plus(n, ChronoUnit.DAYS)

class Server(dir: File) {
    private val bin = System.getenv("MENTORSYNC_SERVER_BIN")
    private val db = "sqlite://" + File(dir, "server.db").absolutePath
    private val port = ServerSocket(0).use { it.localPort }
    val url = "http://127.0.0.1:$port"
    private var proc: Process? = null

    init {
        run("seed", "--demo", "--mentors", "4", "--mentees-per-mentor", "2",
            "--coordinators", "1", "--cohorts", "1", "--database-url", db)
        // Dashboards once, up front; the scheduler stays off so only the test changes data.
        run("run-job", "dashboards", "--database-url", db)
    }

    /** Runs a server job now from a second process (`notifications`: deliver to inboxes). */
    fun runJob(job: String) = run("run-job", job, "--database-url", db)

    private fun run(vararg args: String) {
        val p = ProcessBuilder(bin, *args)
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        check(p.waitFor() == 0) { "mentorsync-server ${args.first()} failed" }
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

/** The app's secret store (the Keystore in an app; in memory here). */
class Keychain : TokenStore {
    @Volatile var tokens: SessionTokens? = null
    override fun load(): SessionTokens? = tokens
    override fun save(tokens: SessionTokens?) { this.tokens = tokens }
}

/** A phone: its own database and secret store. */
fun device(server: Server, dir: File, name: String, keychain: Keychain = Keychain()) =
    MentorsyncClient(File(dir, "$name.db").absolutePath, server.url, keychain, false)

/** Every value a typed listener was given, newest last (called on the core's threads). */
open class Values<T> {
    private val lock = Object()
    val seen = java.util.concurrent.CopyOnWriteArrayList<T>()

    fun put(value: T) = synchronized(lock) {
        seen.add(value)
        lock.notifyAll()
    }

    /** Blocks until the newest value satisfies `condition`. */
    fun waitFor(timeoutMs: Long = 15_000, condition: (T) -> Boolean): T = synchronized(lock) {
        val deadline = System.currentTimeMillis() + timeoutMs
        while (seen.isEmpty() || !condition(seen.last())) {
            val left = deadline - System.currentTimeMillis()
            if (left <= 0) throw AssertionError("no value satisfied the condition; last: ${seen.lastOrNull()}")
            lock.wait(left)
        }
        seen.last()
    }
}

class RosterValues : Values<List<RosterItem>>(), RosterListener {
    override fun onRoster(items: List<RosterItem>) = put(items).let { }
}

class QueueValues : Values<List<WorkItem>>(), WorkQueueListener {
    override fun onWorkQueue(items: List<WorkItem>) = put(items).let { }
}

class SessionValues : Values<List<Session>>(), SessionsListener {
    override fun onSessions(sessions: List<Session>) = put(sessions).let { }
}

class CommandValues : Values<Commands>(), CommandsListener {
    override fun onCommands(commands: Commands) = put(commands).let { }
}

class InboxValues : Values<Inbox>(), InboxListener {
    override fun onInbox(inbox: Inbox) = put(inbox).let { }
}

class LiveStates : Values<LiveState>(), LiveListener {
    override fun onLiveState(state: LiveState) = put(state).let { }
}

class Recorder : ChangeListener {
    val topics = java.util.concurrent.CopyOnWriteArrayList<Topic>()
    override fun onChange(topic: Topic) { topics.add(topic) }
}

class Progress : ProgressListener {
    @Volatile var last: SyncProgress? = null
    override fun onProgress(progress: SyncProgress) { last = progress }
}

fun main() {
    coordinatorDay()
    println("kotlin: a coordinator's day passed")
    mentorDay()
    println("kotlin: a mentor's day passed")
}
