"""The compose deployment on Postgres (the `postgres` profile): the whole grading flow.

One stack under a throwaway name with COURSEHUB_DATABASE=postgres: roster, release, two
students submit, collect, autograde while the formgrader's API is polled, export; then
the rows are looked up in Postgres itself and the hub is restarted. The password has
characters that must be quoted in a database URL. Last, the README's backup and restore:
`coursehub backup -` while the hub runs, the deployment destroyed, a fresh one of the same
name with only the db service up, `coursehub restore -`, `up -d`.
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
import threading
import time

import nbformat
import pytest
from composekit import ComposeHub, deployed, enrol_and_sign_up
from hubkit import ASSIGNMENT, COURSE, Browser, fetch_and_submit, spawn, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow]
PASSWORDS = {"alice": "alice-secret-42", "bob": "bob-secret-4242"}
DB_PASSWORD = "pg secret/with:odd@chars#42"
SUBMISSIONS_API = f"/services/{COURSE}/formgrader/api/submissions/{ASSIGNMENT}"


@pytest.fixture(scope="module")
def stack():
    hub = ComposeHub(
        env={"COURSEHUB_DATABASE": "postgres", "COURSEHUB_DB_PASSWORD": DB_PASSWORD},
        profiles=("postgres",),
    )
    with deployed(hub):
        yield hub


def psql(stack, database: str, sql: str) -> list[str]:
    """Rows (one per line, columns joined by |) of ``sql``, as Postgres's own superuser."""
    db = f"{stack.name}-db"
    return stack.run(
        "docker", "exec", "-u", "postgres", db, "psql", "-At", "-d", database, "-c", sql
    ).stdout.splitlines()


@pytest.fixture(scope="module")
def students(stack):
    return enrol_and_sign_up(stack, PASSWORDS)


@pytest.fixture(scope="module")
def admin(stack):
    browser = Browser(stack)
    assert browser.login("admin", stack.admin_password), "the admin cannot log in"
    # Through the hub's OAuth to the course's formgrader, as the instructor's browser goes.
    page = f"/services/{COURSE}/formgrader"
    wait_for(lambda: browser.get(page).status_code == 200, "the formgrader", timeout=120)
    return browser


def autograde_while_polling(stack, admin) -> dict:
    """Run `coursehub autograde` and poll the formgrader's submissions API until it ends."""
    result = {}
    grading = threading.Thread(
        target=lambda: result.update(proc=stack.cli("autograde", ASSIGNMENT, check=False))
    )
    polls, started = [], time.monotonic()
    grading.start()
    while grading.is_alive():
        asked = time.monotonic()
        response = admin.get(SUBMISSIONS_API)
        polls.append((response.status_code, time.monotonic() - asked, response.text[:300]))
        time.sleep(0.3)
    grading.join()
    seconds = time.monotonic() - started
    final = admin.get(SUBMISSIONS_API)
    slowest = max((p[1] for p in polls), default=0.0)
    print(f"autograde: {seconds:.0f} s; {len(polls)} formgrader polls, slowest {slowest:.2f} s")
    return {"proc": result["proc"], "polls": polls, "final": final}


@pytest.fixture(scope="module")
def graded(stack, students, admin):
    for name, browser in students.items():
        print(f"{name}'s container ready in {spawn(stack, browser, name):.0f} s")
    stack.cli("release", ASSIGNMENT)
    reference = nbformat.reads(
        stack.hub_exec(
            "cat", f"/srv/coursehub/courses/{COURSE}/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
        ).stdout,
        as_version=4,
    )
    fetch_and_submit(students["alice"], "alice", answer=reference)
    fetch_and_submit(students["bob"], "bob", answer=None)
    stack.cli("collect", ASSIGNMENT)
    total = sum(
        c.metadata["nbgrader"].get("points", 0)
        for c in reference.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )
    return {"total": total, **autograde_while_polling(stack, admin)}


def exported_scores(stack) -> dict[str, float]:
    stack.cli("export", "--output=/tmp/grades.csv")
    rows = csv.DictReader(io.StringIO(stack.hub_exec("cat", "/tmp/grades.csv").stdout))
    return {r["student_id"]: float(r["score"]) for r in rows if r["assignment"] == ASSIGNMENT}


def test_grading_flow_scores_on_postgres(stack, graded):
    total, out = graded["total"], graded["proc"].stdout
    assert graded["proc"].returncode == 0, out + graded["proc"].stderr
    assert f"alice: {total:g}/{total:g}" in out, out
    assert f"bob: 0/{total:g}" in out, out
    assert exported_scores(stack) == {"alice": total, "bob": 0.0}


def test_formgrader_reads_while_autograde_writes(graded):
    polls = graded["polls"]
    assert len(polls) >= 5, f"autograde ended before the formgrader was polled: {polls}"
    failed = [p for p in polls if p[0] != 200]
    assert not failed, f"{len(failed)} of {len(polls)} formgrader reads failed: {failed[:3]}"
    assert graded["final"].status_code == 200
    scores = {s["student"]: (s["autograded"], s["score"]) for s in graded["final"].json()}
    assert scores == {"alice": (True, graded["total"]), "bob": (True, 0.0)}, scores


def test_users_and_grades_are_postgres_rows(stack, graded):
    users = set(psql(stack, "jupyterhub", "SELECT name FROM users"))
    assert {"admin", "alice", "bob"} <= users, users
    per_student = psql(
        stack,
        f"gradebook_{COURSE}",
        "SELECT sa.student_id, sum(g.auto_score) FROM submitted_assignment sa "
        "JOIN assignment a ON a.id = sa.assignment_id "
        "JOIN submitted_notebook sn ON sn.assignment_id = sa.id "
        "JOIN grade g ON g.notebook_id = sn.id "
        f"WHERE a.name = '{ASSIGNMENT}' GROUP BY sa.student_id ORDER BY 1",
    )
    assert per_student == [f"alice|{graded['total']:g}", "bob|0"], per_student
    # Nothing fell back to SQLite, and the config that carries the password is private.
    stray = stack.hub_exec(
        "find", "/srv", "(", "-name", "jupyterhub.sqlite", "-o", "-name", "gradebook.db", ")"
    ).stdout
    assert stray == "", stray
    config = f"/srv/coursehub/courses/{COURSE}/nbgrader_config.py"
    assert stack.hub_exec("stat", "-c", "%a %U", config).stdout.split() == [
        "600",
        f"grader-{COURSE}",
    ]
    assert f"gradebook_{COURSE}" in stack.hub_exec("cat", config).stdout


def test_students_cannot_reach_the_database(stack, graded):
    probe = stack.exec_as(
        "alice",
        "python",
        "-c",
        f"import socket; socket.create_connection(('{stack.name}-db', 5432), timeout=5)",
    )
    assert probe.returncode != 0, "a student container reached the database"
    assert "gaierror" in probe.stderr or "timed out" in probe.stderr, probe.stderr


def test_bad_database_settings_stop_the_hub_with_one_line(stack):
    base = ["docker", "exec", "-e", "COURSEHUB_DB_WAIT=3"]
    for env, expected in (
        ("COURSEHUB_DB_PASSWORD=wrong-password", "refused the password of 'coursehub'"),
        ("COURSEHUB_DB_HOST=nowhere", "no database at nowhere:5432 after 3 s"),
    ):
        start = [*base, "-e", env, stack.hub_container, "python", "-m", "coursehub.supervise"]
        proc = stack.run(*start, check=False)
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        assert proc.returncode == 1, lines
        assert expected in lines[-1] and "Traceback" not in proc.stderr, lines
        assert len(lines) <= 2, lines  # the waiting line, then the reason


def test_backup_and_hub_restart_keep_users_and_grades(stack, graded):
    dump = stack.run("docker", "exec", "-u", "postgres", f"{stack.name}-db", "pg_dumpall").stdout
    assert f"CREATE DATABASE gradebook_{COURSE}" in dump
    started = time.monotonic()
    stack.run(*stack.compose, "restart", "hub")
    stack.wait_ready()
    print(f"hub restart: {time.monotonic() - started:.0f} s")
    names = {u["name"] for u in stack.api("GET", "/users").json()}
    assert {"admin", "alice", "bob"} <= names, names
    assert Browser(stack).login("alice", PASSWORDS["alice"]), "alice's sign-up was lost"
    assert exported_scores(stack) == {"alice": graded["total"], "bob": 0.0}


# --- coursehub backup / restore on Postgres (the same stack, after the tests above) ------


def error_lines(proc) -> list[str]:
    """coursehub's own lines (compose may print its network and volume lines around them)."""
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("coursehub: error:")]


@pytest.fixture(scope="module")
def pg_restored(stack, graded, tmp_path_factory):
    """Backup while the hub runs, destroy it all, restore into a fresh deployment, start it."""
    users = "SELECT name, admin FROM users ORDER BY name"
    before = {"grades": stack.export_grades(), "users": psql(stack, "jupyterhub", users)}
    archive = tmp_path_factory.mktemp("pgbackup") / "class.tar"
    started = time.monotonic()
    made = stack.backup(archive)
    size = archive.stat().st_size
    print(f"backup while the hub runs: {time.monotonic() - started:.1f} s, {size} bytes")
    assert made.returncode == 0, made.stderr
    stack.destroy()
    assert stack.volumes() == []
    no_db = stack.restore(archive)
    # As the README says, at once: restore waits for the new cluster's first start itself.
    stack.run(*stack.compose, "up", "-d", "db")
    started = time.monotonic()
    back = stack.restore(archive)
    print(
        f"restore into the fresh deployment (db just started): {time.monotonic() - started:.1f} s"
    )
    assert back.returncode == 0, back.stdout + back.stderr
    again = stack.restore(archive)
    stack.up(build=False)
    return {
        "archive": archive,
        "before": before,
        "no_db": no_db,
        "log": back.stderr,
        "again": again,
    }


def test_backup_holds_each_database_dump_and_a_manifest(pg_restored, graded):
    with tarfile.open(pg_restored["archive"]) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        dump = tar.extractfile(f"databases/gradebook_{COURSE}.pgdump").read()
    assert names[0] == "coursehub-backup" and names[-1] == "manifest.json"
    assert "databases/jupyterhub.pgdump" in names
    assert not any(n.endswith(("jupyterhub.sqlite", "gradebook.db")) for n in names), names
    assert dump.startswith(b"PGDMP")  # pg_dump's custom format
    assert manifest["database"] == "postgres" and manifest["students"] == ["alice", "bob"]
    assert manifest["databases"] == ["jupyterhub", f"gradebook_{COURSE}"]
    assert manifest["sizes"]["databases"] > 0
    print(f"manifest sizes: {manifest['sizes']}")


def test_restore_refuses_in_one_line_without_the_db_service_and_over_data(pg_restored):
    no_db, again = pg_restored["no_db"], pg_restored["again"]
    assert no_db.returncode == 1 and len(error_lines(no_db)) == 1, no_db.stderr
    assert error_lines(no_db)[0].endswith("start it: docker compose --profile postgres up -d db")
    # Once restored, the databases hold tables: a second restore needs --force.
    assert again.returncode == 1 and len(error_lines(again)) == 1, again.stderr
    line = error_lines(again)[0]
    assert f"Postgres database(s) with tables: jupyterhub, gradebook_{COURSE}" in line, line
    assert line.endswith("restore --force replaces it"), line


def test_restored_users_log_in_and_grades_export_identically(stack, pg_restored):
    assert "start the hub now: docker compose up -d" in pg_restored["log"]
    for name, password in PASSWORDS.items():
        assert Browser(stack).login(name, password), f"{name} cannot log in after restore"
    assert not Browser(stack).login("alice", "wrong-password-1")
    assert stack.export_grades() == pg_restored["before"]["grades"]


def test_restored_users_are_rows_of_the_new_postgres(stack, pg_restored):
    users = psql(stack, "jupyterhub", "SELECT name, admin FROM users ORDER BY name")
    assert users == pg_restored["before"]["users"] and "alice|f" in users, users
    owners = psql(
        stack, f"gradebook_{COURSE}", "SELECT DISTINCT tableowner FROM pg_tables "
        "WHERE schemaname = 'public'"
    )  # fmt: skip
    assert owners == ["coursehub"], owners  # the hub's role, not the superuser that restored
