"""What both days share: a real mentorsync-server process on a SQLite file (which a test
can stop and start to lose the signal), the app's secret store, and listeners that
record what they are told."""

import datetime
import os
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

import mentorsync_ffi as ms

PASSWORD = "mentorsync-demo"
COORDINATOR = "coordinator01@demo.mentorsync.dev"
ADMIN = "admin@demo.mentorsync.dev"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real mentorsync-server process on a SQLite file, which the test can stop and start."""

    def __init__(self, tmp_path):
        self.bin = os.environ["MENTORSYNC_SERVER_BIN"]
        self.db = f"sqlite://{tmp_path / 'server.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        subprocess.run(
            [self.bin, "seed", "--demo", "--mentors", "4", "--mentees-per-mentor", "2",
             "--coordinators", "1", "--cohorts", "1", "--database-url", self.db],
            check=True, capture_output=True,
        )
        # Dashboards are computed once, up front; the scheduler stays off so that nothing
        # but the test changes the data while it runs.
        subprocess.run([self.bin, "run-job", "dashboards", "--database-url", self.db],
                       check=True, capture_output=True)

    def run_job(self, job):
        """Runs one of the server's jobs now, from a second process on the same database
        (`notifications` delivers the due ones: inboxes)."""
        subprocess.run([self.bin, "run-job", job, "--database-url", self.db],
                       check=True, capture_output=True)

    def start(self):
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--bind", f"127.0.0.1:{self.port}", "--database-url", self.db,
             "--scheduler-tick-seconds", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    s.stop()


class Recorder(ms.ChangeListener):
    def __init__(self):
        self.topics = []

    def on_change(self, topic):
        self.topics.append(topic)


class Values:
    """Every value a typed listener was given, newest last; `wait` blocks until one
    satisfies a condition (listeners are called on the core's threads)."""

    def __init__(self):
        self.seen = []
        self.changed = threading.Condition()

    def put(self, value):
        with self.changed:
            self.seen.append(value)
            self.changed.notify_all()

    def wait(self, condition, timeout=15):
        deadline = time.monotonic() + timeout
        with self.changed:
            while not (self.seen and condition(self.seen[-1])):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no value satisfied the condition; last: {self.seen[-1:]}")
                self.changed.wait(left)
            return self.seen[-1]


class RosterValues(Values, ms.RosterListener):
    def on_roster(self, items):
        self.put(items)


class QueueValues(Values, ms.WorkQueueListener):
    def on_work_queue(self, items):
        self.put(items)


class SessionValues(Values, ms.SessionsListener):
    def on_sessions(self, sessions):
        self.put(sessions)


class FlagValues(Values, ms.FlagsListener):
    def on_flags(self, flags):
        self.put(flags)


class InboxValues(Values, ms.InboxListener):
    def on_inbox(self, inbox):
        self.put(inbox)


class CommandValues(Values, ms.CommandsListener):
    def on_commands(self, commands):
        self.put(commands)


class LiveStates(Values, ms.LiveListener):
    def on_live_state(self, state):
        self.put(state)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def device(server, tmp_path, name):
    """A phone: its own database and secret store."""
    return ms.MentorsyncClient(str(tmp_path / f"{name}.db"), server.url, Keychain(), False)


class Progress(ms.ProgressListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, progress):
        self.seen.append(progress)


class Keychain(ms.TokenStore):
    """The app's secret store, as an app implements it (here: in memory)."""

    def __init__(self):
        self.tokens = None

    def load(self):
        return self.tokens

    def save(self, tokens):
        self.tokens = tokens


