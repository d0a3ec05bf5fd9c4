"""`coursehub collect` and `feedback` print each student's line while nbgrader still runs."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from coursehub import cli
from coursehub.accounts import student_uid
from coursehub.course import last_error_line
from coursehub.errors import CoursehubError
from coursehub.progress import Progress
from coursehub.settings import Settings
from coursekit import CourseKit, cli_data_dir, shared_temp_dir

pytestmark = [
    pytest.mark.slow,  # a real class: build, release, collect, sandboxed autograde, feedback
    pytest.mark.skipif(
        os.geteuid() != 0, reason="needs root: each submission is owned by its student's uid"
    ),
]

ASSIGNMENT = "00_math_foundations"
STUDENTS = ("ada", "ben", "cai")
NO_SECRET = "cai"  # handed in without submission_secret.txt: feedback cannot be released
STAMP = "2026-11-22 09:00:00.000000 UTC"  # what CourseKit.deliver writes
ITEM = re.compile(r"coursehub: \[(\d+)/(\d+)\] (\S+): (.+)")


def running_nbgrader() -> str | None:
    """The subcommand of this process's nbgrader child while it runs (not yet exited)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue  # exited while we looked
        # An exited child stays a zombie ("Z") until reaped: that is not running.
        if int(ppid) == os.getpid() and state != "Z" and b"nbgrader" in argv:
            return argv[argv.index(b"nbgrader") + 1].decode()
    return None


def run_cli(*args) -> tuple[int, str, str, list]:
    """``coursehub ARGS`` through cli.main; (exit code, stdout, stderr, items as printed)."""
    seen = []  # (student, text, the nbgrader subcommand running when it was printed)
    real_item = Progress.item

    def item(self, name, text):
        seen.append((name, text, running_nbgrader()))
        real_item(self, name, text)

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Progress, "item", item)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue(), seen


def items(stdout: str) -> list[tuple[int, int, str, str]]:
    found = [ITEM.fullmatch(line) for line in stdout.splitlines()]
    return [(int(m[1]), int(m[2]), m[3], m[4]) for m in found if m]


@pytest.fixture(scope="module")
def runs():
    """Three students hand in through the exchange; collect, autograde, feedback via the CLI."""
    base = shared_temp_dir("coursehub-progress-")  # the bwrap sandbox runs as another account
    kit = CourseKit(base / "data")  # its exchange is the CLI's: <data dir>/exchange
    solution = kit.build(ASSIGNMENT)
    kit.release(ASSIGNMENT)
    hub = base / "data" / "hub"
    hub.mkdir()
    with sqlite3.connect(hub / "jupyterhub.sqlite") as conn:  # collect checks owners by it
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO users VALUES (?, ?)", enumerate(STUDENTS, start=1))
    for hub_id, student in enumerate(STUDENTS, start=1):
        drop = (lambda f: (f / "submission_secret.txt").unlink()) if student == NO_SECRET else None
        kit.deliver(student, student_uid(20000, hub_id), ASSIGNMENT, solution, drop)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSEHUB_ENV_FILE", "/nonexistent")
        mp.setenv("COURSEHUB_DATA_DIR", str(cli_data_dir(kit, base)))
        mp.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")
        for key in ("COURSEHUB_MODE", "COURSEHUB_LATE_POLICY", "COURSEHUB_COURSES"):
            mp.delenv(key, raising=False)
        # nbgrader runs as root here: making the grader account would touch the host's users.
        mp.setattr(Settings, "grader_user", lambda self, course_id: None)
        collect = run_cli("collect", ASSIGNMENT)
        graded = run_cli("autograde", ASSIGNMENT, "--jobs", "2")
        feedback = run_cli("feedback", ASSIGNMENT)
    yield {"kit": kit, "collect": collect, "autograde": graded, "feedback": feedback}
    shutil.rmtree(base)


def test_collect_prints_each_student_as_nbgrader_collects_them(runs):
    code, out, err, seen = runs["collect"]
    assert code == 0, (out, err)
    lines = items(out)
    assert [(i, n) for i, n, _, _ in lines] == [(1, 3), (2, 3), (3, 3)], out
    assert sorted(name for _, _, name, _ in lines) == list(STUDENTS), out
    assert {text for _, _, _, text in lines} == {f"submitted {STAMP}"}, out
    assert out.rstrip().endswith(f"coursehub: collected {ASSIGNMENT}: 3 submission(s)")
    # Live: the first student's line was printed while `nbgrader collect` was still running.
    assert seen[0][2] == "collect", seen


def test_feedback_prints_generated_then_released_per_student(runs):
    assert runs["autograde"][0] == 0, runs["autograde"][1:3]
    code, out, err, seen = runs["feedback"]
    assert code == 1, (out, err)  # one student's feedback could not be released
    lines = items(out)
    generated = [line for line in lines if line[3] == "feedback generated"]
    released = [line for line in lines if line[3] == "feedback released"]
    assert lines == generated + released, out
    assert [(i, n) for i, n, _, _ in generated] == [(1, 3), (2, 3), (3, 3)], out
    assert sorted(name for _, _, name, _ in generated) == list(STUDENTS), out
    assert [(i, n) for i, n, _, _ in released] == [(1, 2), (2, 2)], out
    assert sorted(name for _, _, name, _ in released) == ["ada", "ben"], out
    assert f"coursehub: feedback not released: {NO_SECRET}: the submission has no " in err
    # Live: each step's first line was printed while that nbgrader step was still running.
    firsts = {}
    for _, text, running in seen:
        firsts.setdefault(text, running)
    assert firsts == {
        "feedback generated": "generate_feedback",
        "feedback released": "release_feedback",
    }, seen


def test_streamed_nbgrader_run_returns_and_fails_as_a_plain_run_does(runs):
    course = runs["kit"].course
    args = ("generate_feedback", "99_nope")  # fails: nothing autograded under that name
    heard = []
    streamed = course.run_nbgrader(*args, check=False, on_line=heard.append)
    plain = course.run_nbgrader(*args, check=False)
    assert streamed.returncode == plain.returncode != 0
    assert (streamed.stdout, streamed.stderr) == (plain.stdout, plain.stderr)
    assert heard == streamed.stderr.splitlines() and heard, streamed.stderr
    with pytest.raises(CoursehubError) as raised:
        course.run_nbgrader(*args, on_line=heard.append)
    assert (
        str(raised.value) == f"nbgrader generate_feedback failed: {last_error_line(plain.stderr)}"
    )
