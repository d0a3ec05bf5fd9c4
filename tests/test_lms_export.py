"""`coursehub export --format canvas|moodle`: the sandbox-graded class as LMS import files."""

from __future__ import annotations

import subprocess
import sys

import pytest
from coursekit import CLASS_ASSIGNMENT, CourseKit, cli_data_dir, shared_graded_class
from nbgrader.api import Gradebook

# The class of coursekit.CLASS_SUBMISSIONS: ada the reference (14/14), each other student one
# planted mistake (fail-fast grading scores every later test cell 0), ivy never submitted.
SCORES = {
    "ada": "14",
    "ben": "0",
    "cai": "0",
    "dee": "2",
    "eli": "4",
    "fay": "6",
    "gus": "9",
    "hal": "11",
    "ivy": "",
    "jan": "4",
}


def coursehub(*args, data_dir):
    env = {"PATH": "/usr/bin:/bin", "COURSEHUB_ENV_FILE": "/nonexistent"}
    env["COURSEHUB_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "coursehub", *args], capture_output=True, text=True, env=env
    )


def export(data_dir, out, *args) -> str:
    proc = coursehub("export", "--output", str(out), *args, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    return out.read_text()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return shared_graded_class(tmp_path_factory)


@pytest.mark.slow
def test_canvas_layout(graded, tmp_path):
    text = export(cli_data_dir(graded, tmp_path), tmp_path / "c.csv", "--format", "canvas")
    expected = [
        f"Student,ID,SIS User ID,SIS Login ID,Section,{CLASS_ASSIGNMENT}",
        "Points Possible,,,,,14",
    ]
    for student, score in SCORES.items():
        name = student.capitalize()
        expected.append(f'"{name}son, {name}",,,{student},,{score}')
    assert text.splitlines() == expected


@pytest.mark.slow
def test_moodle_layout_by_email_and_by_username(graded, tmp_path):
    data = cli_data_dir(graded, tmp_path)
    by_email = export(data, tmp_path / "m.csv", "--format", "moodle", "--id", "email")
    expected = [f"Email address,{CLASS_ASSIGNMENT}"]
    expected += [f"{s}@uni.example,{score}" for s, score in SCORES.items()]
    assert by_email.splitlines() == expected
    by_name = export(data, tmp_path / "u.csv", "--format", "moodle")
    expected = [f"Username,{CLASS_ASSIGNMENT}"] + [f"{s},{v}" for s, v in SCORES.items()]
    assert by_name.splitlines() == expected


def gradebook_only_course(tmp_path, students: dict[str, str], assignments=("a1",)) -> CourseKit:
    """A course whose gradebook has these students (id -> email) and assignments, ungraded."""
    kit = CourseKit(tmp_path)
    kit.course.run_nbgrader("db", "student", "add", next(iter(students)))  # makes the gradebook
    with Gradebook(f"sqlite:///{kit.course.gradebook}") as gb:
        for assignment in assignments:
            gb.update_or_create_assignment(assignment)
        for student, email in students.items():
            gb.update_or_create_student(student, email=email or None)
    return kit


def one_line_error(proc) -> str:
    assert proc.returncode == 1, proc.stdout
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
    return proc.stderr


def test_export_by_email_refuses_students_without_one(tmp_path):
    kit = gradebook_only_course(tmp_path, {"amy": "amy@x.org", "bob": "", "cat": ""})
    out = tmp_path / "g.csv"
    args = ("export", "--format", "moodle", "--id", "email", "--output", str(out))
    err = one_line_error(coursehub(*args, data_dir=cli_data_dir(kit, tmp_path)))
    assert err.startswith("coursehub: error: no email in the gradebook for bob, cat:"), err
    assert not out.exists()


def test_export_of_a_gradebook_without_assignments_is_refused(tmp_path):
    kit = gradebook_only_course(tmp_path, {"amy": "amy@x.org"}, assignments=())
    args = ("export", "--format", "canvas", "--output", str(tmp_path / "g.csv"))
    err = one_line_error(coursehub(*args, data_dir=cli_data_dir(kit, tmp_path)))
    assert "the gradebook has no assignments yet" in err


def test_export_of_a_course_without_gradebook_is_refused(tmp_path):
    args = ("export", "--format", "canvas", "--output", str(tmp_path / "g.csv"))
    err = one_line_error(coursehub(*args, data_dir=tmp_path / "data"))
    assert err.startswith("coursehub: error: no gradebook at ")


def test_canvas_student_without_names_is_listed_by_username(tmp_path):
    kit = gradebook_only_course(tmp_path, {"amy": ""})
    data = cli_data_dir(kit, tmp_path)
    text = export(data, tmp_path / "c.csv", "--format", "canvas")
    assert text.splitlines()[2] == "amy,,,amy,,"
