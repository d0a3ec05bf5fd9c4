"""`coursehub report` on a class graded in sandboxes, checked against who made which mistake."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

import pytest
from coursehub.report import error_message, gather, in_hidden_part, normalise
from coursekit import (
    CLASS_ABSENT,
    CLASS_ASSIGNMENT,
    CLASS_SUBMISSIONS,
    class_mutants,
    cli_data_dir,
    shared_graded_class,
)

# The graded cells of 00_math_foundations in notebook order (fail-fast stops at the first).
TASKS = [
    "test_matmul",
    "test_sym_matrix_power",
    "test_low_rank",
    "test_derivatives",
    "test_gradient_descent",
    "test_probability",
]


def coursehub(*args, data_dir):
    env = {"PATH": "/usr/bin:/bin", "COURSEHUB_ENV_FILE": "/nonexistent"}
    env["COURSEHUB_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "coursehub", *args], capture_output=True, text=True, env=env
    )


def expected_failures() -> dict[str, list[str]]:
    """Task -> students whose planted mistake is in it."""
    cells = {m["name"]: m["cell"] for m in class_mutants()}
    out = {task: [] for task in TASKS}
    for student, (mutant, _) in sorted(CLASS_SUBMISSIONS.items()):
        if mutant:
            out[f"test_{cells[mutant]}"].append(student)
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return shared_graded_class(tmp_path_factory)


@pytest.mark.slow
def test_failure_counts_per_task_match_the_planted_mistakes(graded):
    report = gather(graded.course.root, CLASS_ASSIGNMENT)
    assert [t.name for t in report.tasks] == TASKS
    expected = expected_failures()
    assert {t.name: t.failed for t in report.tasks} == expected
    # Fail-fast: each mutant's later cells were not run, and are not counted as failed.
    for index, task in enumerate(report.tasks):
        earlier = sorted(s for t in TASKS[:index] for s in expected[t])
        assert task.not_run == earlier, task.name
        assert task.graded == len(CLASS_SUBMISSIONS)
    assert report.scores["ada"] == report.max_score == 14
    assert report.late == {"cai": 22.5 * 3600}
    assert report.missing == [CLASS_ABSENT]


@pytest.mark.slow
def test_failure_messages_group_across_numbers_and_know_hidden_checks(graded):
    report = gather(graded.course.root, CLASS_ASSIGNMENT)
    top = report.failures[0]  # eli and jan: the same check, different numbers
    assert (top.task, top.students, top.hidden) == ("test_low_rank", ["eli", "jan"], False)
    assert top.message.startswith("AssertionError: low_rank(A, #): values differ"), top.message
    raw = set()
    for student in top.students:
        path = graded.course.root / "autograded" / student / CLASS_ASSIGNMENT
        nb = json.loads((path / f"{CLASS_ASSIGNMENT}.ipynb").read_text())
        cell = next(c for c in nb["cells"] if c["metadata"]["nbgrader"].get("grade_id") == TASKS[2])
        raw.add(next(o["evalue"] for o in cell["outputs"] if o["output_type"] == "error"))
    assert len(raw) == 2, "the two raw messages should differ only in their numbers"
    by_student = {s: f for f in report.failures for s in f.students}
    # power_wrong_order passes the visible (symmetric-eigenvector) case, fails a hidden one.
    assert by_student["dee"].hidden and by_student["dee"].task == "test_sym_matrix_power"
    assert "forbidden: torch.matmul" in by_student["ben"].message
    assert "it should raise ValueError" in by_student["cai"].message
    assert not by_student["cai"].hidden


@pytest.mark.slow
def test_cli_writes_html_reports_with_figures_into_the_course(graded, tmp_path):
    data = cli_data_dir(graded, tmp_path)
    proc = coursehub("report", data_dir=data)
    assert proc.returncode == 0, proc.stderr
    out = graded.course.root / "reports"
    page = (out / f"{CLASS_ASSIGNMENT}.html").read_text()
    index = (out / "index.html").read_text()
    for html, figures in ((page, 2), (index, 1)):
        images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
        assert len(images) == figures
        assert all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in images)
    # Most failed first: the two 2-student cells, then the rest.
    cells = page.split("<h2>Graded cells, most failed first</h2>")[1].split("<h2>")[0]
    rows = re.findall(r"<tr><td>(test_\w+)</td>", cells)
    assert rows[:2] == ["test_low_rank", "test_matmul"] and sorted(rows) == sorted(TASKS)
    assert "low_rank(A, #): values differ" in page and "forbidden: torch.matmul" in page
    assert '<td>cai</td><td class="num">22.5 h</td>' in page
    assert f"<h2>Not submitted</h2><p>{CLASS_ABSENT}</p>" in page
    assert f'href="{CLASS_ASSIGNMENT}.html"' in index and "test_low_rank (2)" in index
    one = coursehub("report", CLASS_ASSIGNMENT, "--output", str(tmp_path / "one"), data_dir=data)
    assert one.returncode == 0, one.stderr
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [f"{CLASS_ASSIGNMENT}.html"]


@pytest.mark.slow
def test_cli_unknown_assignment_is_one_line(graded, tmp_path):
    proc = coursehub("report", "99_nope", data_dir=cli_data_dir(graded, tmp_path))
    assert proc.returncode == 1
    assert proc.stderr == (
        "coursehub: error: unknown assignment '99_nope' in the gradebook "
        f"(known: {CLASS_ASSIGNMENT})\n"
    )


def test_cli_course_without_gradebook_is_one_line(tmp_path):
    proc = coursehub("report", data_dir=tmp_path / "data")
    assert proc.returncode == 1
    assert proc.stderr.startswith("coursehub: error: no gradebook at ")
    assert len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "data").exists(), "a refused report created folders"


def test_messages_are_grouped_without_their_numbers():
    a = {"ename": "AssertionError", "evalue": "x[3]: expected 1.5e-3, got -2\nmore detail"}
    b = {"ename": "AssertionError", "evalue": "x[12]: expected 0.25, got 7\nother"}
    assert error_message(a) == error_message(b) == "AssertionError: x[#]: expected #, got #"
    assert error_message({"ename": "KeyError", "evalue": ""}) == "KeyError"
    assert normalise("shape (3, 4)") == "shape (#, #)"


def test_hidden_part_is_between_the_markers():
    source = "a = 1\n### BEGIN HIDDEN TESTS\nb = 2\n### END HIDDEN TESTS\nc = 3\n"
    assert [in_hidden_part(source, n) for n in range(1, 6)] == [False, True, True, False, False]
    assert not in_hidden_part(source, None)
