"""Due dates, extensions and late penalties through `coursehub release/extension/autograde`."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil

import nbformat
import pytest
from coursehub import cli
from coursehub.errors import CoursehubError
from coursehub.settings import load_settings
from coursekit import CourseKit, shared_temp_dir

pytestmark = pytest.mark.slow

ASSIGNMENT = "00_math_foundations"  # the cheapest to grade
DUE = "2026-11-22 10:00 Europe/Berlin"  # 09:00 UTC
POLICY = "per-hour:10"  # 10% of the max score per started hour late
# student -> (timestamp.txt as nbgrader submit writes it, extension CLI flags or None)
SUBMISSIONS = {
    "early": ("2026-11-22 08:30:00.000000 UTC", None),
    "late": ("2026-11-22 11:30:00.000000 UTC", None),  # 2.5 h late: 3 started hours
    "extended": ("2026-11-22 11:30:00.000000 UTC", {"hours": "3"}),  # due 12:00 UTC
    # until 11:00 UTC, handed in 30 min after it: 1 started hour
    "extended_until": ("2026-11-22 11:30:00.000000 UTC", {"until": "2026-11-22 12:00 CET"}),
}
EXPECTED_PENALTY_PERCENT = {"early": 0, "late": 30, "extended": 0, "extended_until": 10}


def run(monkeypatch, settings, kit, command, **kwargs):
    """One `coursehub` subcommand against the kit's course; (exit code, stdout, stderr)."""
    args = argparse.Namespace(course=None, **kwargs)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(cli.common, "pick_course", lambda settings, course_id: kit.course)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = command(settings, args)
    except CoursehubError as exc:  # what main() prints
        err.write(f"coursehub: error: {exc}\n")
        code = 1
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def graded():
    """Release with a due date, submit on time / late / late with extensions, autograde."""
    monkeypatch = pytest.MonkeyPatch()
    env_key = "COURSEHUB_LATE_POLICY_PYTORCH101"  # cmd_autograde hands the policy down here
    base = shared_temp_dir("coursehub-late-")
    settings = load_settings(
        {"COURSEHUB_LATE_POLICY": POLICY, "COURSEHUB_DATA_DIR": str(base / "data")},
        dotenv=base / "no.env",
    )
    kit = CourseKit(base)
    kit.build(ASSIGNMENT)
    outputs = {}
    try:
        outputs["release"] = run(
            monkeypatch, settings, kit, cli.cmd_release, assignment=ASSIGNMENT, due=DUE
        )
        # Rebuilding must not clear the due date (`nbgrader db assignment add` would).
        outputs["build"] = run(monkeypatch, settings, kit, cli.cmd_build, assignments=[ASSIGNMENT])
        solution = nbformat.read(kit.course.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
        for student, (stamp, extension) in SUBMISSIONS.items():
            path = kit.submit(student, ASSIGNMENT, solution)
            (path.parent / "timestamp.txt").write_text(stamp)
            if extension:
                outputs[student] = run(
                    monkeypatch,
                    settings,
                    kit,
                    cli.cmd_extension,
                    assignment=ASSIGNMENT,
                    student=student,
                    **{"hours": None, "until": None, **extension},
                )
        outputs["unknown"] = run(
            monkeypatch,
            settings,
            kit,
            cli.cmd_extension,
            assignment=ASSIGNMENT,
            student="nobody",
            hours="2",
            until=None,
        )
        outputs["autograde"] = run(
            monkeypatch,
            settings,
            kit,
            cli.cmd_autograde,
            assignment=ASSIGNMENT,
            student=None,
            jobs=2,
            sandbox="bwrap",
            force=False,
        )
        yield kit, outputs
    finally:
        monkeypatch.undo()
        os.environ.pop(env_key, None)
        shutil.rmtree(base, ignore_errors=True)


def test_release_stores_the_due_date_in_utc_and_build_keeps_it(graded):
    kit, outputs = graded
    code, out, err = outputs["release"]
    assert code == 0, err
    assert "2026-11-22 09:00 UTC (2026-11-22 10:00 CET)" in out
    assert "10% of the max score per started hour late" in out
    assert outputs["build"][0] == 0, outputs["build"][2]
    assert str(kit.course.duedate(ASSIGNMENT)) == "2026-11-22 09:00:00"


def test_extensions_are_recorded_per_student(graded):
    kit, outputs = graded
    assert "until 2026-11-22 12:00 UTC (3 h extension" in outputs["extended"][1]
    assert "until 2026-11-22 11:00 UTC (2 h extension" in outputs["extended_until"][1]
    code, _, err = outputs["unknown"]
    assert code == 1 and "unknown student 'nobody'" in err, err


def test_late_penalties_follow_the_policy_and_the_extensions(graded):
    kit, outputs = graded
    code, out, err = outputs["autograde"]
    assert code == 0, out + err
    assert "late policy: 10% of the max score per started hour late" in out
    with kit.course.open_gradebook() as gb:
        recorded = {}
        for student in SUBMISSIONS:
            submission = gb.find_submission(ASSIGNMENT, student)
            recorded[student] = (
                submission.score,
                submission.max_score,
                submission.late_submission_penalty,
            )
    for student, (score, max_score, penalty) in recorded.items():
        assert max_score > 0 and score == max_score, (student, recorded)  # the reference
        expected = EXPECTED_PENALTY_PERCENT[student] / 100 * max_score
        assert penalty == pytest.approx(expected), (student, recorded)
