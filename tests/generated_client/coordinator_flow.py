"""A coordinator's day through a client generated from docs/openapi.json alone.

`scripts/generated_client.sh` generates the `ms_client` package with openapi-python-client
and runs this against a demo server. Nothing here knows the server's code: if the document
declares a parameter in the wrong place, a type the server does not send, or a status it
never answers, the generated client builds a wrong request or fails to parse the answer,
and this fails.
"""

import sys

from ms_client import AuthenticatedClient, Client
from ms_client.api.auth import login
from ms_client.api.coordinator import get_roster
from ms_client.api.mentors import get_mentor, get_mentor_history, mentor_transition, pause_mentor
from ms_client.api.workqueue import get_work_queue
from ms_client.models import (
    Applied,
    ErrorBody,
    LoginRequest,
    MentorStatus,
    MentorTransition,
    PauseBody,
    RosterPage,
    VersionBody,
    WorkQueue,
    AuditPage,
)

base = sys.argv[1]


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


# Sign in.
anon = Client(base_url=base, raise_on_unexpected_status=True)
r = login.sync_detailed(
    client=anon,
    body=LoginRequest(email="coordinator01@demo.mentorsync.dev", password="mentorsync-demo"),
)
check(r.status_code == 200 and r.parsed is not None, "sign in")
me = r.parsed.user
api = AuthenticatedClient(
    base_url=base,
    token=r.parsed.access_token,
    raise_on_unexpected_status=True,
    headers={"x-mentorsync-protocol": "1"},
)
wrong = login.sync_detailed(
    client=anon, body=LoginRequest(email=me.email, password="not the password")
)
check(wrong.status_code == 401 and isinstance(wrong.parsed, ErrorBody), "a wrong password is a 401 {code, message}")

# The roster, filtered and paged.
seen = []
cursor = None
for _ in range(100):
    page = get_roster.sync(client=api, status=MentorStatus.ACTIVE, limit=3, cursor=cursor or None)
    check(isinstance(page, RosterPage) and len(page.items) <= 3, f"roster page of {len(page.items)}")
    assert all(e.mentor.status == MentorStatus.ACTIVE for e in page.items)
    seen += [e.mentor.id for e in page.items]
    if not page.next_cursor:
        break
    cursor = page.next_cursor
check(len(seen) > 3 and len(seen) == len(set(seen)), f"paged through {len(seen)} active mentors, none twice")
names = [e.mentor.display_name for e in get_roster.sync(client=api, limit=200).items]
check(names == sorted(names), "sorted by name")
needle = names[0][:4]
found = get_roster.sync(client=api, q=needle.lower(), limit=200)
check(
    found.items and all(needle.lower() in e.mentor.display_name.lower() for e in found.items),
    f"name filter {needle!r} finds {len(found.items)}",
)

# Pause a mentor with the version this coordinator saw.
mentor = get_mentor.sync(id=seen[0], client=api)
r = pause_mentor.sync_detailed(
    id=mentor.id,
    client=api,
    body=PauseBody(reason="Exams", expected_version=mentor.version),
)
check(r.status_code == 200 and isinstance(r.parsed, Applied), "pause with the expected version")
check(r.parsed.version == mentor.version + 1, "the mentor's version moved on")

# Acting again on the version seen before is a 409 carrying the current version.
stale = mentor_transition.sync_detailed(
    id=mentor.id,
    action=MentorTransition.RESUME,
    client=api,
    body=VersionBody(expected_version=mentor.version),
)
check(
    stale.status_code == 409
    and isinstance(stale.parsed, ErrorBody)
    and stale.parsed.code == "version_conflict",
    "a stale version is a 409 version_conflict",
)

# Who did it, in the mentor's history.
history = get_mentor_history.sync(id=mentor.id, client=api, limit=5)
check(
    isinstance(history, AuditPage)
    and history.items[0].action == "pause"
    and history.items[0].actor_id == me.id,
    "the pause is the newest entry of the mentor's history, by this coordinator",
)

# The work queue of the roster.
queue = get_work_queue.sync(client=api, limit=20)
check(isinstance(queue, WorkQueue) and len(queue.items) <= 20, f"work queue of {len(queue.items)}")
print("generated-client flow: all checks passed")
