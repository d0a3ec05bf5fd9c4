"""The docker compose deployment against a real Docker engine: the whole course flow.

Built and started with the project's own compose file under a throwaway name
(COURSEHUB_NAME), so containers, volumes and the network never touch a real deployment.
Skipped only when no engine is reachable and COURSEHUB_REQUIRE_DOCKER is unset.
"""

from __future__ import annotations

import csv
import io
import re

import nbformat
import pytest
import requests
from browserkit import (
    assert_feedback_reached_student,
    chromium,
    instructor_walk,
    screenshot_folder,
    student_walk,
)
from composekit import ComposeHub, deployed, enrol_and_sign_up
from coursehub import content
from hubkit import ASSIGNMENT, COURSE, Browser, fetch_and_submit, spawn, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow]
PASSWORDS = {"alice": "alice-secret-42", "bob": "bob-secret-4242"}
# Graded by the instructor in the browser before the others are graded by the CLI.
CAROL, CAROL_PASSWORD = "carol", "carol-secret-42"


@pytest.fixture(scope="module")
def stack():
    with deployed(ComposeHub()) as hub:
        yield hub


@pytest.fixture(scope="module")
def students(stack):
    return enrol_and_sign_up(stack, PASSWORDS)


@pytest.fixture(scope="module")
def spawned(stack, students):
    seconds = {name: spawn(stack, browser, name) for name, browser in students.items()}
    print(f"container spawn time (POST server -> ready): {seconds}")
    return seconds


def test_student_container_has_torch_and_falls_back_to_cpu(stack, spawned):
    probe = stack.exec_as(
        "alice",
        "python",
        "-c",
        "import torch, torchvision; print(torch.__version__, torch.cuda.is_available())",
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().endswith("False")
    hub_log = stack.run("docker", "logs", stack.hub_container).stderr
    assert hub_log.count("no NVIDIA runtime on the Docker engine; students get CPU only") == 1


def test_each_student_runs_as_their_own_uid(stack, spawned):
    alice, bob = stack.uid_of("alice"), stack.uid_of("bob")
    assert alice != bob and min(alice, bob) > 20000


def source_notebook(stack):
    """The instructor's version of the assignment, with solutions, as the hub built it."""
    path = f"/srv/coursehub/courses/{COURSE}/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    return nbformat.reads(stack.hub_exec("cat", path).stdout, as_version=4)


@pytest.fixture(scope="module")
def carol(stack):
    """A roster student who submitted the released notebook untouched (grading stops early)."""
    stack.cli("students", "add", CAROL, "--first-name", "Carol")
    stack.cli("release", ASSIGNMENT)
    browser = Browser(stack)
    browser.signup(CAROL, CAROL_PASSWORD)
    assert browser.login(CAROL, CAROL_PASSWORD), "a roster student could not log in"
    spawn(stack, browser, CAROL)
    fetch_and_submit(browser, CAROL)
    stack.cli("collect", ASSIGNMENT)
    return browser


def test_instructor_grades_in_the_browser_and_student_gets_403(stack, carol):
    total = content.total_points(source_notebook(stack))
    driver = chromium()
    try:
        shots = screenshot_folder("formgrader-browser-docker")
        points = instructor_walk(driver, stack, shots, COURSE, CAROL, total)
        assert_feedback_reached_student(carol, CAROL, COURSE, points, total)
        student_walk(driver, stack, shots, COURSE, CAROL, CAROL_PASSWORD)
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def graded(stack, students, spawned, tmp_path_factory):
    stack.cli("release", ASSIGNMENT)
    reference = source_notebook(stack)
    fetch_and_submit(students["alice"], "alice", answer=reference)
    fetch_and_submit(students["bob"], "bob", answer=None)
    # bob forges a later-dated submission in alice's name from his own container
    inbound = f"/srv/nbgrader/exchange/{COURSE}/inbound"
    forged = f"{inbound}/alice+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+x"
    made = stack.exec_as(
        "bob", "sh", "-c", f"mkdir '{forged}' && echo '{{}}' > '{forged}/{ASSIGNMENT}.ipynb'"
    )
    assert made.returncode == 0, made.stderr
    collect = stack.cli("collect", ASSIGNMENT)
    autograde = stack.cli("autograde", ASSIGNMENT)
    total = sum(
        c.metadata["nbgrader"].get("points", 0)
        for c in reference.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )
    return {"collect": collect, "autograde": autograde.stdout, "total": total}


def test_reference_scores_100_percent_across_containers(graded):
    total = graded["total"]
    assert f"alice: {total:g}/{total:g}" in graded["autograde"], graded["autograde"]
    assert f"bob: 0/{total:g}" in graded["autograde"], graded["autograde"]


def test_student_cannot_submit_as_someone_else(graded):
    assert "claims to be from alice" in graded["collect"].stderr


def test_student_cannot_list_or_read_other_submission(stack, graded):
    inbound = f"/srv/nbgrader/exchange/{COURSE}/inbound"
    assert stack.exec_as("alice", "ls", inbound).returncode != 0
    bob_dir = stack.hub_exec(
        "sh", "-c", f"ls -d /srv/coursehub/exchange/{COURSE}/inbound/bob+*"
    ).stdout.split("\n")[0]
    bob_file = (
        bob_dir.replace("/srv/coursehub/exchange", "/srv/nbgrader/exchange")
        + f"/{ASSIGNMENT}.ipynb"
    )
    read = stack.exec_as("alice", "cat", bob_file)
    assert read.returncode != 0 and "Permission denied" in read.stderr


def test_student_has_no_course_directory_gradebook_or_docker_socket(stack, graded):
    check = stack.exec_as(
        "alice",
        "sh",
        "-c",
        "ls /srv/coursehub 2>/dev/null; test -e /var/run/docker.sock && echo socket; "
        "find / -name gradebook.db -not -path '/proc/*' -not -path '/opt/venv/*' 2>/dev/null",
    )
    assert check.stdout.strip() == "", check.stdout


# Lists (and with the argument `kill`, SIGKILLs) the formgrader processes in the hub container.
FORMGRADER_PIDS = """
import os, signal, sys
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        continue
    if b"jupyterhub-singleuser" in cmd and int(pid) != os.getpid():  # not this script
        print(pid)
        if sys.argv[1:] == ["kill"]:
            os.kill(int(pid), signal.SIGKILL)
"""


def formgrader_pids(stack, *kill: str) -> set[str]:
    return set(stack.hub_exec("python", "-c", FORMGRADER_PIDS, *kill).stdout.split())


def test_killed_formgrader_comes_back_and_the_hub_stays_up(stack, graded):
    service = f"{stack.url}/services/{COURSE}/"

    def formgrader_answers():
        # Up, it redirects to the hub's OAuth; down, the proxy answers 503.
        return requests.get(service, allow_redirects=False, timeout=5).status_code == 302

    assert formgrader_answers()
    killed = formgrader_pids(stack, "kill")
    assert killed, "no formgrader process in the hub container"
    restarted = f"formgrader {COURSE} exited with status -9; restarting"
    wait_for(
        lambda: restarted in stack.run("docker", "logs", stack.hub_container).stdout,
        "the supervisor to see the formgrader die",
        timeout=30,
    )
    assert stack.api_ready(), "the hub went down with its formgrader"
    wait_for(formgrader_answers, "the supervisor to restart the formgrader", timeout=120)
    alive = formgrader_pids(stack)
    assert alive and not alive & killed, f"formgrader pids before {killed}, after {alive}"


def test_doctor_checks_the_running_deployment(stack, graded):
    doctor = stack.cli("doctor", "--only", "deployment").stdout
    parts = ("hub", "proxy", f"formgrader {COURSE}", "metrics", "hub database")
    for part in (*parts, f"gradebook {COURSE}", "disk hub", "disk courses", "disk homes"):
        assert re.search(rf"^(PASS|WARN)  {part}: ", doctor, re.M), doctor
    assert re.search(rf"^PASS  gradebook {COURSE}: .*: 3 submissions$", doctor, re.M), doctor
    assert "SKIP  TLS certificate" in doctor and doctor.splitlines()[-1].endswith(" 0 failed")


def test_metrics_need_an_admin_scoped_token(stack, graded):
    metrics = stack.url + "/hub/metrics"
    assert requests.get(metrics, timeout=30).status_code in (401, 403)
    student = stack.api("POST", "/users/alice/tokens", json={"note": "metrics probe"})
    assert student.status_code == 201, student.text
    token = {"Authorization": f"token {student.json()['token']}"}
    assert requests.get(metrics, headers=token, timeout=30).status_code == 403
    admin = {"Authorization": f"token {stack.cli_token()}"}
    answer = requests.get(metrics, headers=admin, timeout=30)
    assert answer.status_code == 200 and "jupyterhub_" in answer.text


def test_hub_restart_keeps_student_files_and_gradebook(stack, graded, students):
    stack.run(*stack.compose, "restart", "hub")
    stack.wait_ready()
    export = stack.cli("export", "--output=/tmp/grades.csv")
    assert export.returncode == 0
    rows = {
        r["student_id"]: r
        for r in csv.DictReader(io.StringIO(stack.hub_exec("cat", "/tmp/grades.csv").stdout))
    }
    assert float(rows["alice"]["score"]) == graded["total"]
    # The hub stopped every student container with it; a new one mounts the same volume.
    spawn(stack, students["alice"], "alice")
    kept = stack.exec_as("alice", "ls", f"/home/jovyan/{COURSE}/{ASSIGNMENT}")
    assert kept.returncode == 0 and f"{ASSIGNMENT}.ipynb" in kept.stdout, kept.stderr


def test_compose_down_keeps_named_volumes(stack, graded):
    stack.run(*stack.compose, "down")
    volumes = stack.volumes()
    for suffix in ("hub", "courses", "exchange", "home-alice", "home-bob"):
        assert f"{stack.name}-{suffix}" in volumes, volumes
