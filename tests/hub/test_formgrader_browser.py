"""The formgrader in a real browser: an instructor grades and returns feedback, a student can't.

Local mode here; tests/docker/test_compose.py walks the same steps on the docker deployment.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from browserkit import (
    assert_feedback_reached_student,
    chromium,
    instructor_walk,
    screenshot_folder,
    student_walk,
)
from coursehub import content
from hubkit import ASSIGNMENT, Browser, IsolatedHub, fetch_and_submit, spawn

pytestmark = pytest.mark.slow

# A course of its own: other hub tests on this machine use pytorch101 and its grader account.
COURSE = "fgbrowser"
STUDENT, PASSWORD = "alice", "alice-secret-42"


@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0:
        pytest.skip("local mode runs students as their own system accounts: needs root")
    local = IsolatedHub(COURSE)
    try:
        yield local.start()
    finally:
        print(f"--- hub log tail ({local.log_path}) ---\n{local.log_tail()}")
        local.stop()


@pytest.fixture(scope="module")
def student(hub, tmp_path_factory):
    """One student on the roster who has fetched and submitted the released assignment."""
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    roster.write_text(f"username,first_name,last_name,email\n{STUDENT},Alice,Liddell,a@x.org\n")
    hub.cli("students", "import", str(roster))
    hub.cli("release", ASSIGNMENT)
    browser = Browser(hub)
    browser.signup(STUDENT, PASSWORD)
    assert browser.login(STUDENT, PASSWORD), "a roster student could not log in"
    spawn(hub, browser, STUDENT)
    # The released notebook as is: its first test fails, so grading stops early (cheap).
    fetch_and_submit(browser, STUDENT, course=COURSE)
    hub.cli("collect", ASSIGNMENT)
    return browser


@pytest.fixture(scope="module")
def total(hub):
    source = hub.data_dir / "courses" / COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return content.total_points(nbformat.read(source, 4))


@pytest.fixture(scope="module")
def shots():
    return screenshot_folder("formgrader-browser")


@pytest.fixture(scope="module")
def driver():
    browser = chromium()
    try:
        yield browser
    finally:
        browser.quit()


def test_instructor_grades_and_releases_feedback_in_the_browser(hub, student, total, driver, shots):
    points = instructor_walk(driver, hub, shots, COURSE, STUDENT, total)
    assert_feedback_reached_student(student, STUDENT, COURSE, points, total)


def test_student_gets_no_link_and_403_in_the_browser(hub, student, driver, shots):
    student_walk(driver, hub, shots, COURSE, STUDENT, PASSWORD)
