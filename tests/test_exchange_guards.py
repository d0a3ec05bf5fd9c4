"""Exchange folders a student could have made, and feedback fetched through a link, are refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from coursehub.course import Course
from coursehub.errors import CoursehubError
from nbgrader.utils import notebook_hash

COURSE = "pytorch101"
ASSIGNMENT = "01_tensors"
STAMP = "2026-11-22 09:00:00.000000 UTC"


def course_in(tmp_path) -> Course:
    return Course(course_id=COURSE, root=tmp_path / "course", exchange_root=tmp_path / "exchange")


def test_exchange_folders_of_the_grader_are_accepted(tmp_path):
    course = course_in(tmp_path)
    (course.exchange_root / COURSE / "inbound").mkdir(parents=True)
    course.check_exchange()


def test_a_course_folder_replaced_by_a_link_is_refused(tmp_path):
    course = course_in(tmp_path)
    course.exchange_root.mkdir()
    os.symlink(tmp_path / "course", course.exchange_root / COURSE)
    with pytest.raises(CoursehubError, match="is not a folder"):
        course.check_exchange()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another uid")
def test_a_feedback_folder_made_by_a_student_is_refused(tmp_path):
    course = course_in(tmp_path)
    feedback = course.exchange_root / COURSE / "feedback"
    feedback.mkdir(parents=True)
    os.chown(feedback, 20001, 20001)
    with pytest.raises(CoursehubError, match="owned by uid 20001, not the grader"):
        course.check_exchange()


def fetch_feedback(tmp_path, plant) -> subprocess.CompletedProcess:
    """A student's `nbgrader fetch_feedback` with coursehub's plugin, after ``plant(home)``."""
    exchange, home = tmp_path / "exchange", tmp_path / "home"
    cache = tmp_path / "cache" / COURSE / f"alice+{ASSIGNMENT}+{STAMP}"
    cache.mkdir(parents=True)
    (cache / f"{ASSIGNMENT}.ipynb").write_text("{}")
    (cache / "timestamp.txt").write_text(STAMP)
    (cache / "submission_secret.txt").write_text("secret")
    released = exchange / COURSE / "feedback"
    released.mkdir(parents=True)
    name = notebook_hash(secret="secret", notebook_id=ASSIGNMENT) + ".html"
    (released / name).write_text("<html>feedback</html>")
    (home / COURSE / ASSIGNMENT).mkdir(parents=True)
    plant(home, released / name)
    config = [
        f"--Exchange.root={exchange}",
        f"--Exchange.cache={tmp_path / 'cache'}",
        "--Exchange.path_includes_course=True",
        f"--CourseDirectory.root={home}",
        f"--Exchange.assignment_dir={home}",
        "--CourseDirectory.student_id=alice",
        "--ExchangeFactory.fetch_feedback=coursehub_student.exchange.PrivateExchangeFetchFeedback",
    ]
    cmd = [sys.executable, "-m", "nbgrader", "fetch_feedback", ASSIGNMENT, f"--course={COURSE}"]
    return subprocess.run([*cmd, *config], capture_output=True, text=True, cwd=home)


@pytest.mark.slow  # an nbgrader process each
def test_feedback_is_fetched_into_the_students_folder(tmp_path):
    proc = fetch_feedback(tmp_path, lambda home, released: None)
    assert proc.returncode == 0, proc.stderr
    fetched = tmp_path / "home" / COURSE / ASSIGNMENT / "feedback" / STAMP / f"{ASSIGNMENT}.html"
    assert fetched.read_text() == "<html>feedback</html>"


@pytest.mark.slow  # an nbgrader process each
def test_feedback_is_not_written_through_a_link(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()

    def plant(home, released):
        os.symlink(target, home / COURSE / ASSIGNMENT / "feedback")

    proc = fetch_feedback(tmp_path, plant)
    assert proc.returncode != 0
    assert "refusing to write feedback through the link" in proc.stderr
    assert list(target.iterdir()) == []


@pytest.mark.slow  # an nbgrader process each
def test_released_feedback_that_is_a_link_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not feedback")

    def plant(home, released):
        released.unlink()
        os.symlink(secret, released)

    proc = fetch_feedback(tmp_path, plant)
    assert proc.returncode != 0 and "not a regular file" in proc.stderr
