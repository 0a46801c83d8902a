"""Prints `export NAME=value` lines naming real rows of the demo server's database, for the
identifiers scripts/schemathesis.toml supplies to the operations that take them (without
them every generated id is unknown and those operations only ever answer 404).

Usage: schemathesis_fixtures.py <sqlite file> <base url> <admin token>
"""

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
import uuid

db_path, base, token = sys.argv[1:4]
db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)


def one(sql, *args):
    row = db.execute(sql, args).fetchone()
    if row is None:
        raise SystemExit(f"the demo seed has no row for: {sql}")
    return row[0]


def post(path, body):
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)


# Its status is moved back and forth (reactivating needs a certification valid for a while).
mentor = one(
    "SELECT m.user_id FROM mentor_profiles m WHERE m.status = 'active' "
    "AND m.certification_expires_at > (strftime('%s', 'now') + 90 * 86400) * 1000 "
    "AND EXISTS (SELECT 1 FROM mentee_assignments a WHERE a.mentor_id = m.user_id AND a.status = 'active') "
    "ORDER BY m.user_id LIMIT 1"
)
assignments = db.execute(
    "SELECT id, mentee_id FROM mentee_assignments WHERE mentor_id = ? AND status = 'active' ORDER BY id",
    (mentor,),
).fetchall()
# The first assignment is ended now, so that its mentee is free to be assigned again.
post(f"/api/v1/assignments/{assignments[0][0]}/end", {})
free_mentee = assignments[0][1]
mentee = assignments[1][1]
to_end = assignments[2][0] if len(assignments) > 2 else assignments[1][0]
# A second session to edit notes on, scheduled through the API so it has a notes document.
session = post(
    "/api/v1/mentor/sessions",
    {"mentee_id": mentee, "mentor_id": mentor, "scheduled_at": 4102444800000, "duration_minutes": 60},
)["id"]
# Sessions are booked with another mentor: the operations on the first one may deactivate
# them, and an inactive mentor gets no sessions.
booking_mentor, booking_mentee = db.execute(
    "SELECT a.mentor_id, a.mentee_id FROM mentee_assignments a JOIN mentor_profiles m ON m.user_id = a.mentor_id "
    "WHERE a.status = 'active' AND m.status = 'active' AND a.mentor_id <> ? ORDER BY a.mentor_id LIMIT 1",
    (mentor,),
).fetchone()
pause = one(
    "SELECT id FROM pauses ORDER BY status IN ('requested', 'scheduled') DESC, id LIMIT 1"
)

values = {
    "ST_MENTOR_ID": mentor,
    "ST_MENTEE_ID": mentee,
    "ST_FREE_MENTEE_ID": free_mentee,
    "ST_ASSIGNMENT_ID": to_end,
    "ST_SESSION_ID": session,
    "ST_PAUSE_ID": pause,
    "ST_FLAG_ID": one("SELECT id FROM flags WHERE status = 'open' ORDER BY id LIMIT 1"),
    "ST_SUBMISSION_ID": one("SELECT id FROM mission_submissions WHERE status = 'submitted' ORDER BY id LIMIT 1"),
    "ST_WORK_ITEM_ID": one("SELECT id FROM work_items WHERE status = 'open' ORDER BY id LIMIT 1"),
    "ST_BOOKING_MENTOR_ID": booking_mentor,
    "ST_BOOKING_MENTEE_ID": booking_mentee,
    "ST_COHORT_ID": one("SELECT id FROM cohorts ORDER BY id LIMIT 1"),
    "ST_CLIENT_ID": str(uuid.uuid4()),
    # Coordination is moved between the mentor's coordinator and another one.
    "ST_COORDINATOR_ID": one(
        "SELECT coordinator_id FROM coordinator_assignments WHERE mentor_id = ? AND status = 'active'", mentor
    ),
    "ST_OTHER_COORDINATOR_ID": one(
        "SELECT id FROM users WHERE role = 'coordinator' AND id NOT IN "
        "(SELECT coordinator_id FROM coordinator_assignments WHERE mentor_id = ? AND status = 'active') "
        "ORDER BY id LIMIT 1",
        mentor,
    ),
    # Accounts of their own for the account operations (disable, role, codes), so that no
    # session the run uses ends, and a director to add to and remove from a cohort.
    "ST_SPARE_USER_ID": post(
        "/api/v1/admin/users", {"email": "spare@fuzz.example.org", "display_name": "Spare", "role": "coordinator"}
    )["id"],
    "ST_DIRECTOR_ID": post(
        "/api/v1/admin/users", {"email": "director@fuzz.example.org", "display_name": "Fuzz Director", "role": "director"}
    )["id"],
}
for k, v in values.items():
    print(f"export {k}={v}")
def sign_in(email):
    req = urllib.request.Request(
        base + "/api/v1/auth/login",
        data=json.dumps({"email": email, "password": "mentorsync-demo"}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)


# Commands only a mentee or a mentor may send run with their tokens: a mentee with a
# submission sent back for changes, and the mentor whose pause requests are generated.
resubmit, submitter, mentee_email = db.execute(
    "SELECT s.id, u.id, u.email FROM mission_submissions s JOIN users u ON u.id = s.mentee_id "
    "WHERE s.status = 'changes_requested' ORDER BY s.id LIMIT 1"
).fetchone()
mentor_email = one("SELECT email FROM users WHERE id = ?", mentor)
print(f"export ST_RESUBMIT_ID={resubmit}")
print(f"export ST_SUBMITTER_ID={submitter}")
print(f"export ST_MENTEE_TOKEN={sign_in(mentee_email)['access_token']}")
print(f"export ST_MENTOR_TOKEN={sign_in(mentor_email)['access_token']}")

# A refresh token of a login of its own: spending it (and then presenting it again, which
# revokes its family) leaves the run's own session alone.
login = json.load(
    urllib.request.urlopen(
        urllib.request.Request(
            base + "/api/v1/auth/login",
            data=json.dumps({"email": "admin@demo.mentorsync.dev", "password": "mentorsync-demo"}).encode(),
            headers={"content-type": "application/json"},
        )
    )
)
print(f"export ST_REFRESH_TOKEN={login['refresh_token']}")

# An inbox item for the inbox operations, which only its recipient may read: a flag on the
# mentor's mentee tells their coordinator, once dispatched (the demo server's scheduler is
# off, so the dispatch runs here, as `run-job notifications` on the same database).
flag = post("/api/v1/mentor/flags", {"mentee_id": mentee, "severity": "low", "reason": "for the inbox"})
subprocess.run(
    [os.environ.get("MENTORSYNC_SERVER_BIN", "target/debug/mentorsync-server"), "run-job", "notifications",
     "--database-url", f"sqlite://{db_path}"],
    check=True, capture_output=True,
)
recipient = one("SELECT recipient_id FROM inbox_items WHERE entity_id = ?", flag["id"])
print(f"export ST_INBOX_ITEM_ID={one('SELECT id FROM inbox_items WHERE entity_id = ?', flag['id'])}")
print(f"export ST_INBOX_TOKEN={sign_in(one('SELECT email FROM users WHERE id = ?', recipient))['access_token']}")
