"""Malicious submissions graded together with honest ones, in one `coursehub autograde` run.

Per backend (bwrap always, docker when an engine is up): every attack is contained, the
attacker earns at most the honest part of their notebook and their feedback says what
happened, every honest submission keeps exactly its score, and the gradebook and the
course files are unchanged except for the recorded grades.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import subprocess
import threading

import pytest
from attacks import ASSIGNMENT, ATTACKS, HONEST, Context
from coursehub import cli
from coursehub.settings import load_settings
from enginekit import (
    STUDENT_IMAGE,
    gradebook_fingerprint,
    leftover_sandboxes,
    require_bwrap,
    require_docker,
    tree_hashes,
)

from autograders.engine.backends import OWNER_ENV

pytestmark = pytest.mark.slow

CELL_TIMEOUT = 60
VICTIM = "honest-full"
ALL = HONEST + ATTACKS
# What autograding may write in the course directory (grades, outputs, nbgrader's log).
WRITABLE = ("gradebook.db", "autograded/", ".nbgrader.log", ".coursehub-autograde/")


class Listener:
    """A TCP port on the host that records every connection made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, addr = self.sock.accept()
            except OSError:
                return
            self.connections.append(addr)
            conn.close()

    def close(self):
        self.sock.close()


def host_ips() -> list[str]:
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout
    return [ip for ip in out.split() if ":" not in ip]


@pytest.fixture(scope="module", params=["bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def graded(request, tmp_path_factory):
    """Submit every case, then grade them all in one CLI run; record before/after state."""
    from coursekit import CourseKit

    backend = request.param
    require_docker() if backend == "docker" else require_bwrap()
    kit = CourseKit(tmp_path_factory.mktemp(f"malicious-{backend}"), cell_timeout=CELL_TIMEOUT)
    solution = kit.build(ASSIGNMENT)
    released = kit.released(ASSIGNMENT)
    listener = Listener()
    ctx = Context(str(kit.course.root), VICTIM, listener.port, host_ips())
    cases = [c for c in ALL if backend in c.backends]
    for case in cases:
        kit.submit(case.name, ASSIGNMENT, case.build(solution, released, ctx))
    root = kit.course.root
    before = {
        "files": tree_hashes(root, WRITABLE),
        "gradebook": gradebook_fingerprint(root / "gradebook.db"),
    }
    settings = load_settings(
        {"COURSEHUB_MODE": "local", "COURSEHUB_STUDENT_IMAGE": STUDENT_IMAGE},
        dotenv=root / "no-such.env",
    )
    args = argparse.Namespace(
        course=None, assignment=ASSIGNMENT, student=None, jobs=2, sandbox=backend, force=True
    )
    out, err = io.StringIO(), io.StringIO()
    owner = f"malicious-suite-{os.getpid()}-{backend}"
    os.environ[OWNER_ENV] = owner
    original = cli.pick_course
    cli.pick_course = lambda settings, course_id: kit.course
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.cmd_autograde(settings, args)
    finally:
        cli.pick_course = original
        listener.close()
        del os.environ[OWNER_ENV]
    feedback = {}
    for case in cases:
        path = root / "autograded" / case.name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        feedback[case.name] = path.read_text().lower() if path.exists() else None
    return {
        "backend": backend,
        "kit": kit,
        "scores": kit.course.scores(ASSIGNMENT),
        "code": code,
        "stdout": out.getvalue(),
        "stderr": err.getvalue(),
        "before": before,
        "after": {
            "files": tree_hashes(root, WRITABLE),
            "gradebook": gradebook_fingerprint(root / "gradebook.db"),
        },
        "feedback": feedback,
        "connections": list(listener.connections),
        "leftovers": leftover_sandboxes(owner),
        "cases": {c.name: c for c in cases},
    }


def score(graded, name):
    return graded["scores"].get(name, (None, None))[0]


@pytest.mark.parametrize("case", HONEST, ids=lambda c: c.name)
def test_honest_submission_keeps_its_exact_score(graded, case):
    assert score(graded, case.name) == case.exact, (graded["stdout"], graded["stderr"])
    assert "graderTampering".lower() not in graded["feedback"][case.name]


@pytest.mark.parametrize("case", ATTACKS, ids=lambda c: c.name)
def test_attack_is_contained_and_earns_at_most_the_honest_part(graded, case):
    if case.name not in graded["cases"]:
        pytest.skip(f"not run on {graded['backend']}")
    if not case.graded:
        assert case.name not in graded["scores"] or score(graded, case.name) == 0
        return
    got = score(graded, case.name)
    assert got is not None, f"{case.name} was not graded:\n{graded['stdout']}{graded['stderr']}"
    assert got <= case.max_score, f"{case.name} scored {got} > {case.max_score}"


# a corrupted notebook is refused before grading: test_corrupted_notebook_is_skipped_...
@pytest.mark.parametrize("case", [c for c in ATTACKS if c.graded], ids=lambda c: c.name)
def test_attackers_feedback_says_what_happened(graded, case):
    if case.name not in graded["cases"]:
        pytest.skip(f"not run on {graded['backend']}")
    text = graded["feedback"][case.name]
    assert text is not None
    for words in case.feedback:
        assert words.lower() in text, f"{case.name}: {words!r} not in the feedback"


def test_gradebook_and_course_files_unchanged_except_grades(graded):
    assert graded["after"]["gradebook"] == graded["before"]["gradebook"]
    assert graded["after"]["files"] == graded["before"]["files"]


def test_corrupted_notebook_is_skipped_with_a_one_line_reason(graded):
    assert graded["code"] == 1  # as before the engine: a skipped submission fails the run
    lines = [ln for ln in graded["stderr"].splitlines() if "corrupted-notebook" in ln]
    assert len(lines) == 1 and "not a valid notebook" in lines[0], graded["stderr"]


def test_no_connection_reached_the_host(graded):
    assert graded["connections"] == []


def test_no_sandbox_is_left_behind(graded):
    assert graded["leftovers"] == []
    assert not list((graded["kit"].course.root / ".coursehub-autograde").glob("*"))


def test_summary_and_progress_lines(graded):
    out = graded["stdout"]
    n = len([c for c in graded["cases"].values() if c.graded])
    assert f"coursehub: [{n}/{n}]" in out or f"/{n}]" in out, out
    assert "failed (infrastructure)" in out and "0 failed (infrastructure)" in out, out
    assert "timed out" in out and "kernel died" in out, out
    assert f"coursehub:   {VICTIM}: 12/12" in out


def test_autograded_notebooks_stay_small(graded):
    for name, text in graded["feedback"].items():
        if text is not None:
            assert len(text) < 12 * 2**20, f"{name}: {len(text)} bytes of feedback"
            json.loads(text)  # still a valid notebook
