"""A coordinator's day through the generated Python bindings, against a real server
process: sign in, first sync with progress, roster filter, lose the signal, pause a
mentor offline (the listener fires), get the signal back, sync, the verdict arrives; a
command the server refuses comes back as a typed error or a rejected record."""

import asyncio
import json
import os
import socket
import subprocess
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


class Progress(ms.ProgressListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, progress):
        self.seen.append(progress)


def query(**kw):
    base = dict(status=None, certification_expiring_within_days=None, name=None,
                sort_by_expiry=False, limit=50, offset=0)
    base.update(kw)
    return ms.RosterQuery(**base)


class Keychain(ms.TokenStore):
    """The app's secret store, as an app implements it (here: in memory)."""

    def __init__(self):
        self.tokens = None

    def load(self):
        return self.tokens

    def save(self, tokens):
        self.tokens = tokens


def test_a_coordinators_day(server, tmp_path):
    async def day():
        keychain = Keychain()
        client = ms.MentorsyncClient(str(tmp_path / "phone.db"), server.url, keychain, False)
        me = await client.login(COORDINATOR, PASSWORD)
        assert me.role == "coordinator"
        assert keychain.tokens is not None and keychain.tokens.refresh_token

        progress = Progress()
        report = await client.sync(progress)
        assert report.rows > 0 and report.pages >= 3
        assert progress.seen and progress.seen[-1].pages == report.pages

        active = client.roster(query(status=ms.MentorStatus.ACTIVE))
        assert active, "coordinator01 has active mentors"
        assert all(r.status == ms.MentorStatus.ACTIVE for r in active)
        mentor = active[0]
        assert client.roster(query(name=mentor.display_name[:3].lower()))

        # The server's dashboards came with the roster: the coordinator's own figures and
        # those of every mentor they coordinate, each with its computation time.
        mine = client.dashboards("coordinator")
        assert [d.subject_id for d in mine] == [me.id]
        figures = json.loads(mine[0].figures_json)
        assert figures["mentors"] == len(client.roster(query()))
        board = client.mentor_dashboard(mentor.mentor_id)
        assert board is not None and board.computed_at > 0
        assert board.capacity_label == f"{board.capacity_used}/{board.capacity_weekly} weekly slots"
        assert {d.kind for d in client.dashboards(None)} == {"coordinator", "mentor"}

        recorder = Recorder()
        handle = client.observe(ms.Topic.ROSTER, recorder)

        # The bus goes into a tunnel.
        server.stop()
        mutation = client.pause_mentor(mentor.mentor_id, "Parental leave", None)
        assert mutation == 1
        assert ms.Topic.ROSTER in recorder.topics, "the listener fired"
        row = next(r for r in client.roster(query()) if r.mentor_id == mentor.mentor_id)
        assert row.status == ms.MentorStatus.PAUSED and row.pending
        with pytest.raises(ms.MentorsyncError.Offline):
            await client.sync(None)
        assert client.sync_status().pending == 1

        # Signal is back: the verdict arrives.
        server.start()
        report = await client.sync(None)
        assert report.pushed == 1 and report.rejected == 0
        row = next(r for r in client.roster(query()) if r.mentor_id == mentor.mentor_id)
        assert row.status == ms.MentorStatus.PAUSED and not row.pending
        assert client.pending_commands() == []

        # A command that cannot succeed is refused at once, as a typed error.
        with pytest.raises(ms.MentorsyncError.Rejected) as refused:
            client.pause_mentor(mentor.mentor_id, "again", None)
        assert refused.value.code == "invalid_transition"
        assert "that is paused" in refused.value.reason

        # One the server refuses arrives as a rejected record with its reason.
        other = next(r for r in active if r.mentor_id != mentor.mentor_id)
        client.pause_mentor(other.mentor_id, "Exams", None)
        admin = ms.MentorsyncClient(str(tmp_path / "admin.db"), server.url, Keychain(), False)
        await admin.login(ADMIN, PASSWORD)
        await admin.sync(None)
        admin.deactivate_mentor(other.mentor_id)
        await admin.sync(None)
        report = await client.sync(None)
        assert report.rejected == 1
        rejected = client.rejected_commands()
        assert [r.name for r in rejected] == ["pause_mentor"]
        assert rejected[0].code == "version_conflict"
        row = next(r for r in client.roster(query()) if r.mentor_id == other.mentor_id)
        assert row.status == ms.MentorStatus.INACTIVE, "rolled back to the server's truth"

        # Cancelled listeners stay quiet.
        handle.cancel()
        before = len(recorder.topics)
        client.resume_mentor(mentor.mentor_id)
        assert len(recorder.topics) == before
        await client.sync(None)

        status = client.sync_status()
        assert status.online and status.signed_in and status.pending == 0
        assert [s.set for s in status.sets] == ["roster", "queue", "rest"]

        # Someone else signs in while a command waits: refused, saying how many and whose.
        server.stop()
        client.pause_mentor(mentor.mentor_id, "Leave", None)
        server.start()
        with pytest.raises(ms.MentorsyncError.PendingCommands) as waiting:
            await client.login(ADMIN, PASSWORD)
        assert (waiting.value.count, waiting.value.owner) == (1, COORDINATOR)
        assert client.discard_pending() == 1
        assert (await client.login(ADMIN, PASSWORD)).role == "admin"
        await client.logout()
        assert keychain.tokens is None and client.roster(query()) == []
        assert not client.sync_status().signed_in

        # A plain-http server off this machine is refused.
        with pytest.raises(ms.MentorsyncError.Protocol):
            ms.MentorsyncClient(str(tmp_path / "x.db"), "http://sync.example.org", Keychain(), False)

    asyncio.run(day())
