"""The whole slice through a real hub: sign-up, spawn, fetch, submit, collect, grade, privacy."""

from __future__ import annotations

import csv
import json
import subprocess

import nbformat
import pytest
from browserkit import chromium
from coursehub import content
from hubkit import ASSIGNMENT, COURSE, Browser, fetch_and_submit, spawn

pytestmark = pytest.mark.slow

PASSWORDS = {"alice": "alice-secret-42", "bob": "bob-secret-4242"}


@pytest.fixture(scope="module")
def admin(hub):
    browser = Browser(hub)
    assert browser.login("admin", hub.admin_password), "seeded admin cannot log in"
    return browser


@pytest.fixture(scope="module")
def alice(hub, admin):
    """A student who signs up unannounced and waits for an admin's approval."""
    browser = Browser(hub)
    browser.signup("alice", PASSWORDS["alice"])
    assert not Browser(hub).login("alice", PASSWORDS["alice"]), "unapproved sign-up could log in"
    admin.get("/hub/authorize/alice")
    assert browser.login("alice", PASSWORDS["alice"])
    return browser


@pytest.fixture(scope="module")
def released(hub, alice, tmp_path_factory):
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    roster.write_text(
        "username,first_name,last_name,email\nalice,Alice,A,a@x.org\nbob,Bob,B,b@x.org\n"
    )
    hub.cli("students", "import", str(roster))
    hub.cli("release", ASSIGNMENT)
    return ASSIGNMENT


def test_student_signs_up_is_approved_and_logs_in(alice):
    assert alice.get("/hub/api/user").json()["name"] == "alice"


def test_roster_student_is_approved_on_sign_up(hub, released):
    bob = Browser(hub)
    bob.signup("bob", PASSWORDS["bob"])
    assert bob.login("bob", PASSWORDS["bob"]), (
        "a student on the roster should not wait for approval"
    )


def test_student_server_spawns_jupyterlab_with_assignment_list(hub, alice):
    seconds = spawn(hub, alice, "alice")
    print(f"spawn time (POST server -> ready): {seconds:.2f} s")
    lab = alice.get("/user/alice/lab")
    assert "JupyterLab" in lab.text
    config = json.loads(
        lab.text.split('id="jupyter-config-data"', 1)[1].split(">", 1)[1].split("</script>")[0]
    )
    names = {ext["name"] for ext in config["federated_extensions"]}
    assert "@jupyter/nbgrader" in names
    disabled = config.get("disabledExtensions", [])
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    assert "@jupyter/nbgrader:formgrader" in disabled, "students must not see the formgrader UI"
    whoami = subprocess.run(
        ["ps", "-o", "user=", "-u", hub.system_user("alice")], capture_output=True, text=True
    )
    assert (
        "jupyterhub-singleuser"
        in subprocess.run(
            ["pgrep", "-a", "-u", hub.system_user("alice")], capture_output=True, text=True
        ).stdout
    ), whoami


@pytest.fixture(scope="module")
def graded(hub, alice, released, tmp_path_factory):
    reference = nbformat.read(
        hub.data_dir / "courses" / COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4
    )
    fetch_and_submit(alice, "alice", answer=reference)
    bob = Browser(hub)
    assert bob.login("bob", PASSWORDS["bob"])
    spawn(hub, bob, "bob")
    fetch_and_submit(bob, "bob", answer=None)
    forge_submission(hub, "bob", "alice")
    collect = hub.cli("collect", ASSIGNMENT)
    out = hub.cli("autograde", ASSIGNMENT).stdout
    export = tmp_path_factory.mktemp("export") / "grades.csv"
    hub.cli("export", f"--output={export}")
    return {
        "collect": collect,
        "bob": bob,
        "autograde": out,
        "export": export,
        "total": content.total_points(reference),
    }


def test_reference_solution_scores_100_percent_and_untouched_scores_0(graded):
    out, total = graded["autograde"], graded["total"]
    assert f"alice: {total:g}/{total:g}" in out, out
    assert f"bob: 0/{total:g}" in out, out


def test_export_writes_a_row_per_student(graded):
    rows = {r["student_id"]: r for r in csv.DictReader(graded["export"].open())}
    assert float(rows["alice"]["score"]) == float(rows["alice"]["max_score"]) == graded["total"]
    assert float(rows["bob"]["score"]) == 0


def test_student_gets_403_on_formgrader(hub, alice):
    response = alice.get(f"/services/{COURSE}/formgrader")
    assert response.status_code == 403, response.status_code


def test_instructor_reaches_formgrader(hub, admin):
    response = admin.get(f"/services/{COURSE}/formgrader")
    assert response.status_code == 200 and "formgrader" in response.text.lower()


def forge_submission(hub, attacker, victim):
    """``attacker`` drops a later-dated submission named after ``victim`` into inbound."""
    inbound = hub.data_dir / "exchange" / COURSE / "inbound"
    forged = inbound / f"{victim}+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+forged"
    script = (
        f"mkdir '{forged}' && printf '2099-01-01 00:00:00.000000 UTC' > '{forged}/timestamp.txt'"
        f" && printf '{{}}' > '{forged}/{ASSIGNMENT}.ipynb'"
    )
    done = run_as(hub, attacker, "sh", "-c", script)
    assert done.returncode == 0, done.stderr


def run_as(hub, name, *cmd):
    user = hub.system_user(name)
    return subprocess.run(
        ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *cmd],
        capture_output=True,
        text=True,
    )


def test_student_cannot_read_other_submission(hub, graded):
    inbound = hub.data_dir / "exchange" / COURSE / "inbound"
    alice_sub = next(inbound.glob("alice+*"))
    assert run_as(hub, "bob", "ls", str(inbound)).returncode != 0, "bob can list the inbound folder"
    read = run_as(hub, "bob", "cat", str(alice_sub / f"{ASSIGNMENT}.ipynb"))
    assert read.returncode != 0 and "Permission denied" in read.stderr
    listed = (
        graded["bob"]
        .server_call("GET", "/user/bob/assignments", params={"course_id": COURSE})
        .json()
    )
    for item in listed["value"]:
        for submission in item.get("submissions", []):
            assert submission.get("student") in (None, "bob")


def test_student_cannot_read_course_directory_or_other_home(hub, graded):
    gradebook = hub.data_dir / "courses" / COURSE / "gradebook.db"
    assert gradebook.exists()
    assert run_as(hub, "bob", "cat", str(gradebook)).returncode != 0
    assert (
        run_as(hub, "bob", "ls", str(hub.data_dir / "courses" / COURSE / "source")).returncode != 0
    )
    assert run_as(hub, "bob", "ls", str(hub.data_dir / "home" / "alice")).returncode != 0


def test_student_cannot_submit_as_someone_else(hub, graded):
    refused = graded["collect"].stderr
    assert "refused:" in refused and "claims to be from alice" in refused, refused
    out, total = graded["autograde"], graded["total"]
    assert f"alice: {total:g}/{total:g}" in out, "the forged later submission replaced alice's"


def sha256(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_invalid_json_submission_gives_one_line_error_and_changes_nothing(hub, graded):
    course = hub.data_dir / "courses" / COURSE
    folder = course / "submitted" / "carol" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [}')
    before = sha256(course / "gradebook.db")
    proc = hub.cli("autograde", ASSIGNMENT, "--student", "carol", check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "carol" in lines[0] and "not a valid notebook" in lines[0], lines[0]
    assert sha256(course / "gradebook.db") == before


def test_malformed_roster_changes_nothing_on_a_running_hub(hub, graded, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("username,email\ndave,d@x.org\nEve Smith,e@x.org\n")
    proc = hub.cli("students", "import", str(roster), check=False)
    assert proc.returncode == 1 and ":3: username 'Eve Smith' is not valid" in proc.stderr
    assert hub.api("GET", "/users/dave").status_code == 404, "a refused roster created dave"


LAB_MENU = "//div[contains(@class,'lm-MenuBar-itemLabel') and text()='{}']"
LAB_MENU_ITEM = "//div[contains(@class,'lm-Menu-itemLabel') and text()='{}']"


def test_student_sees_released_assignment_in_jupyterlab_in_a_real_browser(hub, released, alice):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    if not hub.api("GET", "/users/alice").json()["servers"].get("", {}).get("ready"):
        spawn(hub, alice, "alice")
    browser = chromium()
    try:
        wait = WebDriverWait(browser, 120)
        browser.get(hub.url + "/hub/login")
        browser.find_element(By.ID, "username_input").send_keys("alice")
        browser.find_element(By.ID, "password_input").send_keys(PASSWORDS["alice"])
        browser.find_element(By.ID, "login_submit").click()
        wait.until(lambda d: "/hub/login" not in d.current_url)  # the session cookie is set
        shot = hub.data_dir.parent / "assignment-list.png"
        try:
            browser.get(hub.url + "/user/alice/lab")
            menu = wait.until(
                ready.element_to_be_clickable((By.XPATH, LAB_MENU.format("Nbgrader")))
            )
            menu.click()
            item = (By.XPATH, LAB_MENU_ITEM.format("Assignment List"))
            wait.until(ready.element_to_be_clickable(item)).click()
            # Only the Assignments panel names the assignment (the file browser shows the course).
            listed = f"//*[contains(text(), '{ASSIGNMENT}')]"
            wait.until(ready.presence_of_element_located((By.XPATH, listed)))
        finally:
            browser.save_screenshot(str(shot))
            print(f"screenshot: {shot} (at {browser.current_url})")
        assert "Formgrader" not in browser.page_source, "students must not see the formgrader"
    finally:
        browser.quit()
