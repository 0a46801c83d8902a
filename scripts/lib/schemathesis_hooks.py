"""Schemathesis hooks: before each call of a state-changing operation, bring a fixture row
into the state the operation needs, so that schema-valid requests reach the business
logic instead of being refused for the state an earlier call left behind.

Without them, the first `pause` pauses the fixture mentor and every later one is refused
(`invalid_transition`), and schemathesis rightly reports that valid data is mostly
rejected. With them, each call gets a fresh row (a new pause request, session,
submission, queue item, assignment) or a mentor reset to the status the action starts
from; and positive cases keep the values that only the server's clock or state can judge
(a session in the future, a pause that ends after it starts, real Automerge changes).
Negative cases are left exactly as generated.

Loaded by scripts/schemathesis.sh (SCHEMATHESIS_HOOKS), which exports the fixture ids.
"""

import json
import os
import urllib.error
import urllib.request
import uuid

import schemathesis

BASE = os.environ["ST_BASE"]
ADMIN = os.environ["ST_ADMIN_TOKEN"]
MENTOR_TOKEN = os.environ["ST_MENTOR_TOKEN"]
MENTEE_TOKEN = os.environ["ST_MENTEE_TOKEN"]
MENTOR = os.environ["ST_MENTOR_ID"]
BOOKING_MENTOR = os.environ["ST_BOOKING_MENTOR_ID"]
BOOKING_MENTEE = os.environ["ST_BOOKING_MENTEE_ID"]
FREE_MENTEE = os.environ["ST_FREE_MENTEE_ID"]
MENTEE = os.environ["ST_MENTEE_ID"]
SPARE = os.environ["ST_SPARE_USER_ID"]
COORDINATOR = os.environ["ST_COORDINATOR_ID"]
OTHER_COORDINATOR = os.environ["ST_OTHER_COORDINATOR_ID"]
COHORT = os.environ["ST_COHORT_ID"]
DIRECTOR = os.environ["ST_DIRECTOR_ID"]
# Automerge changes that write the notes "Notes from the fuzzer" (made by
# `mentorsync_protocol::notes::Notes::edit`); applying them twice changes nothing.
NOTES_CHANGE = (
    "hW9Kg48SyWUBgQEB13dsfDDWNcWY1lP2bXDkUL5O887nkiVbWOin5MwP6I8Mc2NoZW1hdGhlc2lzAQIAAAEQ"
    "AAAAAAAAAAAAAAAAAAAAAAkBAgICEQQTBTQCQgJWAlcVcAIVARUBAAEUAH4AAhMBABUVARUWTm90ZXMgZnJv"
    "bSB0aGUgZnV6emVyFQA="
)
# 2100-01-01: always in the future, always within the API's time range.
FUTURE = 4102444800000


def call(method, path, body=None, token=ADMIN):
    """The API's JSON answer, or None when it refused (set-up is best effort)."""
    req = urllib.request.Request(
        BASE + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "x-mentorsync-protocol": "1",
        },
        method=method,
    )
    try:
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    except urllib.error.HTTPError:
        return None


def mentor_entry(mentor_id):
    """The fixture mentor's roster entry (status and open pause)."""
    mentor = call("GET", f"/api/v1/mentors/{mentor_id}")
    page = call("GET", f"/api/v1/coordinator/roster?limit=100&q={mentor['display_name'].split()[0]}")
    for entry in (page or {}).get("items", []):
        if entry["mentor"]["id"] == mentor_id:
            return entry
    return {"mentor": mentor, "open_pause": None}


def mentor_active(mentor_id):
    """The mentor active, without an open pause."""
    entry = mentor_entry(mentor_id)
    if entry.get("open_pause"):
        call("POST", f"/api/v1/pauses/{entry['open_pause']['id']}/cancel", {})
    status = call("GET", f"/api/v1/mentors/{mentor_id}")["status"]
    if status == "paused":
        call("POST", f"/api/v1/mentors/{mentor_id}/resume", {})
    elif status == "inactive":
        call("POST", f"/api/v1/mentors/{mentor_id}/reactivate", {})


def mentor_in(mentor_id, status):
    mentor_active(mentor_id)
    if status == "paused":
        call("POST", f"/api/v1/mentors/{mentor_id}/pause", {"reason": "set-up"})
    elif status == "inactive":
        call("POST", f"/api/v1/mentors/{mentor_id}/deactivate", {})


def free_mentee():
    """FREE_MENTEE without a mentor."""
    cockpit = call("GET", f"/api/v1/mentor/mentees/{FREE_MENTEE}/cockpit") or {}
    assignment = cockpit.get("assignment")
    if assignment and assignment["status"] == "active":
        call("POST", f"/api/v1/assignments/{assignment['id']}/end", {})


def new_assignment():
    free_mentee()
    return call("POST", "/api/v1/assignments", {"mentor_id": BOOKING_MENTOR, "mentee_id": FREE_MENTEE})["id"]


def new_session():
    body = {"mentor_id": BOOKING_MENTOR, "mentee_id": BOOKING_MENTEE, "scheduled_at": FUTURE, "duration_minutes": 30}
    return call("POST", "/api/v1/mentor/sessions", body)["id"]


def new_submission():
    body = {"mission_ref": "M-1", "title": "Fuzzed", "content": "https://files.example.org/w.pdf"}
    return call("POST", "/api/v1/missions", body, token=MENTEE_TOKEN)["id"]


def sent_back_submission():
    sid = new_submission()
    call("POST", f"/api/v1/mentor/missions/{sid}/review", {"decision": "changes_requested"})
    return sid


def queue_item(action):
    """A review item in the state `action` starts from."""
    sid = new_submission()
    cockpit = call("GET", f"/api/v1/mentor/mentees/{os.environ['ST_SUBMITTER_ID']}/cockpit") or {}
    item = next(i["id"] for i in cockpit.get("open_work_items", []) if i.get("reference_id") == sid)
    if action == "complete":
        call("POST", f"/api/v1/workqueue/{item}/claim", {})
    return item


def pause_request():
    mentor_active(MENTOR)
    return call("POST", f"/api/v1/mentors/{MENTOR}/pause-requests", {"reason": "set-up"}, token=MENTOR_TOKEN)["id"]


def spare_in(status):
    """The spare account in `status` (active or disabled)."""
    if call("GET", f"/api/v1/admin/users/{SPARE}")["status"] != status:
        call("POST", f"/api/v1/admin/users/{SPARE}/{'enable' if status == 'active' else 'disable'}", {})


def spare_not(role):
    """The spare account enabled, in a staff role other than `role`."""
    spare_in("active")
    if call("GET", f"/api/v1/admin/users/{SPARE}")["role"] == role:
        call("POST", f"/api/v1/admin/users/{SPARE}/role", {"role": "director" if role != "director" else "coordinator"})


def fresh_seat(case):
    """The fixture mentee out of every cohort, and a cohort with seats to enrol them in."""
    call("PUT", f"/api/v1/admin/mentees/{MENTEE}/cohort", {"cohort_id": None})
    if isinstance(case.body, dict) and case.body.get("cohort_id") is not None:
        body = {"name": "Fuzz", "starts_at": FUTURE, "ends_at": FUTURE + 86400000, "seats": 5}
        case.body["cohort_id"] = call("POST", "/api/v1/admin/cohorts", body)["id"]


def director_linked(linked):
    path = f"/api/v1/admin/cohorts/{COHORT}/directors/{DIRECTOR}"
    call("DELETE" if not linked else "PUT", path)


def shape_cohort(case):
    """Dates the server accepts: the end after the start."""
    if isinstance(case.body, dict):
        case.body.update(starts_at=FUTURE, ends_at=FUTURE + 86400000)
        fresh(case.body, "cohort_id")
        if case.body.get("external_id") is not None:
            case.body["external_id"] = f"fuzz-{uuid.uuid4().hex[:12]}"


def shape_user(case):
    """An email nobody has yet (generated ones repeat: a conflict every time)."""
    if isinstance(case.body, dict):
        case.body["email"] = f"fuzz-{uuid.uuid4().hex[:12]}@fuzz.example.org"
        fresh(case.body, "user_id")
        if case.body.get("time_zone") is not None:
            case.body["time_zone"] = "Europe/Lisbon"


def shape_roster_file(case):
    """A roster file with one new person in it (a random string is no roster file)."""
    case.body = f"kind,email,name\ncoordinator,fuzz-{uuid.uuid4().hex[:12]}@fuzz.example.org,Fuzz Coordinator\n"


def positive(case):
    meta = getattr(case, "_meta", None)
    return meta is None or not meta.generation.mode.is_negative


def fix_window(body):
    """A pause window the server can accept at any clock: no end, or one after the start."""
    body.pop("ends_at", None)
    if isinstance(body.get("starts_at"), int) and body["starts_at"] > FUTURE:
        body["starts_at"] = FUTURE


def fresh(body, id_field, mentor_id=None):
    """A new row's id no earlier call used, and the version the caller would have seen
    (generated ids and versions repeat across cases: a conflict every time)."""
    if body.get(id_field) is not None:
        body[id_field] = str(uuid.uuid4())
    if mentor_id and body.get("expected_version") is not None:
        body["expected_version"] = call("GET", f"/api/v1/mentors/{mentor_id}")["version"]


def shape_pause(case):
    if isinstance(case.body, dict):
        fix_window(case.body)
        fresh(case.body, "pause_id", MENTOR)


def shape_assignment(case):
    if isinstance(case.body, dict):
        case.body.update(mentor_id=BOOKING_MENTOR, mentee_id=FREE_MENTEE)
        fresh(case.body, "assignment_id", BOOKING_MENTOR)


def shape_session(case):
    if isinstance(case.body, dict):
        case.body.update(scheduled_at=FUTURE, mentor_id=BOOKING_MENTOR, mentee_id=BOOKING_MENTEE)
        fresh(case.body, "session_id")


PREPARE = {
    "POST /api/v1/assignments": lambda case: free_mentee(),
    "POST /api/v1/assignments/{id}/end": lambda case: case.path_parameters.update(id=new_assignment()),
    "POST /api/v1/mentor/missions/{submission_id}/review": lambda case: case.path_parameters.update(
        submission_id=new_submission()
    ),
    "POST /api/v1/missions/{id}/resubmit": lambda case: case.path_parameters.update(id=sent_back_submission()),
    "POST /api/v1/mentors/{id}/pause": lambda case: mentor_active(MENTOR),
    "POST /api/v1/mentors/{id}/pause-requests": lambda case: mentor_active(MENTOR),
    "POST /api/v1/mentors/{id}/{action}": lambda case: mentor_in(
        MENTOR,
        {"resume": "paused", "reactivate": "inactive"}.get(case.path_parameters.get("action"), "active"),
    ),
    "POST /api/v1/pauses/{id}/{action}": lambda case: case.path_parameters.update(id=pause_request()),
    "POST /api/v1/sessions/{id}/{action}": lambda case: case.path_parameters.update(id=new_session()),
    "POST /api/v1/workqueue/{id}/{action}": lambda case: case.path_parameters.update(
        id=queue_item(case.path_parameters.get("action"))
    ),
    "POST /api/v1/admin/users/{id}/{action}": lambda case: spare_in(
        "disabled" if case.path_parameters.get("action") == "enable" else "active"
    ),
    "POST /api/v1/admin/users/{id}/sign-in-code": lambda case: spare_in("active"),
    "POST /api/v1/admin/users/{id}/role": lambda case: spare_not(
        case.body.get("role") if isinstance(case.body, dict) else None
    ),
    "PUT /api/v1/admin/mentors/{id}/coordinator": lambda case: call(
        "PUT", f"/api/v1/admin/mentors/{MENTOR}/coordinator", {"coordinator_id": COORDINATOR}
    ),
    "PUT /api/v1/admin/mentees/{id}/cohort": fresh_seat,
    "PUT /api/v1/admin/cohorts/{id}/directors/{director_id}": lambda case: director_linked(False),
    "DELETE /api/v1/admin/cohorts/{id}/directors/{director_id}": lambda case: director_linked(True),
}

# What only the server's clock or state can judge, kept valid in positive cases (the
# coverage phase does not apply scripts/schemathesis.toml's parameter values).
SHAPE = {
    "POST /api/v1/assignments": shape_assignment,
    "POST /api/v1/mentors/{id}/pause": shape_pause,
    "POST /api/v1/mentors/{id}/pause-requests": shape_pause,
    "POST /api/v1/mentor/sessions": shape_session,
    "POST /api/v1/sessions/{id}/notes": lambda case: isinstance(case.body, dict)
    and case.body.update(changes=NOTES_CHANGE),
    "POST /api/v1/admin/mentors/{id}/certification": lambda case: isinstance(case.body, dict)
    and case.body.update(expires_at=FUTURE, expected_version=None),
    "PUT /api/v1/admin/mentors/{id}/coordinator": lambda case: isinstance(case.body, dict)
    and case.body.update(coordinator_id=OTHER_COORDINATOR, expected_version=None),
    "POST /api/v1/admin/cohorts": shape_cohort,
    "POST /api/v1/admin/users": shape_user,
    "POST /api/v1/admin/import": shape_roster_file,
}


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    label = f"{case.operation.method.upper()} {case.operation.path}"
    if label in PREPARE and positive(case):
        PREPARE[label](case)
    if label in SHAPE and positive(case):
        SHAPE[label](case)
