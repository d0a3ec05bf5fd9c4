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
import re
import socket
import sqlite3
import subprocess
import threading

import nbformat
import pytest
from attacks import ASSIGNMENT, ATTACKS, FIRST_TASK, FULL, HONEST, Context, cell_source
from coursehub import cli
from coursehub.accounts import student_uid
from coursehub.errors import CoursehubError
from coursehub.grading.backends import OWNER_ENV
from coursehub.settings import load_settings
from coursekit import with_cell_source
from enginekit import (
    STUDENT_IMAGE,
    gradebook_fingerprint,
    leftover_sandboxes,
    require_bwrap,
    require_docker,
    tree_hashes,
)
from file_attacks import (
    CANARY_GRADEBOOK,
    CANARY_SOURCE,
    CANARY_VICTIM,
    FILE_ATTACKS,
    Places,
    probing_notebook,
)
from nbgrader.api import Gradebook

pytestmark = pytest.mark.slow

CELL_TIMEOUT = 60
VICTIM = "honest-full"
ALL = HONEST + ATTACKS
PLACED_LINK = "placed-link"  # a link put in submitted/ directly, past collect
GRADER = "coursehub-test-grader"
# What autograding may write in the course directory (grades, outputs, nbgrader's log, and
# the quarantine of files refused before grading).
WRITABLE = (
    "gradebook.db",
    "autograded/",
    ".nbgrader.log",
    ".coursehub-autograde/",
    "quarantine/",
)


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


def run_cli(command, settings, course, **kwargs):
    """One `coursehub` subcommand against the kit's course; (exit code, stdout, stderr)."""
    args = argparse.Namespace(course=None, assignment=ASSIGNMENT, **kwargs)
    out, err = io.StringIO(), io.StringIO()
    original = cli.common.pick_course
    cli.common.pick_course = lambda settings, course_id: course
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = command(settings, args)
    except CoursehubError as exc:  # what main() prints
        code = 1
        err.write(f"coursehub: error: {exc}\n")
    finally:
        cli.common.pick_course = original
    return code, out.getvalue(), err.getvalue()


def hub_users(settings, names) -> dict[str, int]:
    """A hub database with these users (collect checks ownership against it); name -> uid."""
    settings.hub_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.hub_dir / "jupyterhub.sqlite") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO users VALUES (?, ?)", enumerate(names, start=1))
    return {name: student_uid(settings.uid_base, i) for i, name in enumerate(names, start=1)}


def plant_canaries(kit) -> Places:
    """Unique text in the gradebook and the instructor's source notebook."""
    root = kit.course.root
    with Gradebook(f"sqlite:///{kit.course.gradebook}") as gb:
        gb.update_or_create_student("canary", first_name=CANARY_GRADEBOOK)
    source = root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb = with_cell_source(nb, FIRST_TASK, cell_source(nb, FIRST_TASK) + f"\n# {CANARY_SOURCE}\n")
    nbformat.write(nb, source)
    inbound = kit.course.exchange_root / kit.course.course_id / "inbound"
    return Places(
        gradebook=kit.course.gradebook,
        source_notebook=source,
        victim_submission=root / "submitted" / VICTIM / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        victim_inbound=next(inbound.glob(f"{VICTIM}+*"), inbound / "missing"),
    )


@pytest.fixture(scope="module", params=["bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def graded(request):
    """Deliver every case, collect, then grade them all in one CLI run, as a grader account.

    Honest submissions and file attacks come through the exchange and `coursehub collect`;
    the code attacks are placed in submitted/ directly, and one more puts a link there.
    """
    from coursekit import CourseKit, shared_temp_dir

    backend = request.param
    require_docker() if backend == "docker" else require_bwrap()
    base = shared_temp_dir(f"coursehub-malicious-{backend}-")
    kit = CourseKit(base, cell_timeout=CELL_TIMEOUT, grader_user=GRADER)
    root = kit.course.root
    solution = kit.build(ASSIGNMENT)
    released = kit.released(ASSIGNMENT)
    kit.release(ASSIGNMENT)
    settings = load_settings(
        {
            "COURSEHUB_MODE": "local",
            "COURSEHUB_STUDENT_IMAGE": STUDENT_IMAGE,
            "COURSEHUB_DATA_DIR": str(base),
        },
        dotenv=base / "no-such.env",
    )
    listener = Listener()
    ctx = Context(str(root), VICTIM, listener.port, host_ips())
    cases = [c for c in ALL if backend in c.backends]
    delivered = [c for c in cases if c in HONEST]
    uids = hub_users(settings, [c.name for c in delivered] + [a.name for a in FILE_ATTACKS])
    victim_nb = with_cell_source(
        solution, FIRST_TASK, cell_source(solution, FIRST_TASK) + f"\n# {CANARY_VICTIM}\n"
    )
    for case in delivered:
        nb = victim_nb if case.name == VICTIM else case.build(solution, released, ctx)
        kit.deliver(case.name, uids[case.name], ASSIGNMENT, nb)
    places = plant_canaries(kit)
    probe = probing_notebook(solution)
    for attack in FILE_ATTACKS:
        kit.deliver(
            attack.name,
            uids[attack.name],
            ASSIGNMENT,
            probe,
            lambda f, a=attack: a.plant(f, places),
        )
    collected = run_cli(cli.cmd_collect, settings, kit.course)
    for case in cases:
        if case not in delivered:
            kit.submit(case.name, ASSIGNMENT, case.build(solution, released, ctx))
    placed = kit.submit(PLACED_LINK, ASSIGNMENT, probe)
    os.symlink(kit.course.gradebook, placed.parent / "grades.db")
    before = {
        "files": tree_hashes(root, WRITABLE),
        "gradebook": gradebook_fingerprint(root / "gradebook.db"),
    }
    owner = f"malicious-suite-{os.getpid()}-{backend}"
    os.environ[OWNER_ENV] = owner
    try:
        code, out, err = run_cli(
            cli.cmd_autograde,
            settings,
            kit.course,
            student=None,
            jobs=2,
            sandbox=backend,
            force=True,
        )
    finally:
        listener.close()
        del os.environ[OWNER_ENV]
    after = {
        "files": tree_hashes(root, WRITABLE),
        "gradebook": gradebook_fingerprint(root / "gradebook.db"),
    }
    released_feedback = run_cli(cli.cmd_feedback, settings, kit.course)
    names = [c.name for c in cases] + [a.name for a in FILE_ATTACKS] + [PLACED_LINK]
    feedback = {}
    for name in names:
        path = root / "autograded" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        feedback[name] = path.read_text().lower() if path.exists() else None
    return {
        "backend": backend,
        "kit": kit,
        "scores": kit.course.scores(ASSIGNMENT),
        "code": code,
        "stdout": out,
        "stderr": err,
        "collect": collected,
        "feedback_release": released_feedback,
        "before": before,
        "after": after,
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
    assert "1 not gradable (refused submission)" in out, out
    assert "coursehub: not graded: corrupted-notebook: " in graded["stderr"]
    n = len([c for c in graded["cases"].values() if c.graded]) + len(FILE_ATTACKS) + 1
    assert f"coursehub: [{n}/{n}]" in out or f"/{n}]" in out, out
    assert "failed (infrastructure)" in out and "0 failed (infrastructure)" in out, out
    assert "timed out" in out and "kernel died" in out, out
    assert f"coursehub:   {VICTIM}: {FULL:g}/{FULL:g}" in out


def test_autograded_notebooks_stay_small(graded):
    for name, text in graded["feedback"].items():
        if text is not None:
            assert len(text) < 12 * 2**20, f"{name}: {len(text)} bytes of feedback"
            json.loads(text)  # still a valid notebook


# -- attacks with files, through collect ----------------------------------------------------

SECRETS = (CANARY_GRADEBOOK, CANARY_SOURCE, CANARY_VICTIM)
SHADOW_LINE = re.compile(rb"root:[^:\n]*:\d+:")


def test_collect_admits_the_rest_and_names_every_refusal(graded):
    code, out, err = graded["collect"]
    assert code == 0, err
    assert f"collected {ASSIGNMENT}" in out
    for attack in FILE_ATTACKS:
        lines = [ln.lower() for ln in err.splitlines() if f"refused: {attack.name}:" in ln]
        assert lines, f"{attack.name}: no refusal line in:\n{err}"
        for reason in attack.reasons:
            assert any(reason.lower() in ln for ln in lines), f"{attack.name}: {reason!r}"


@pytest.mark.parametrize("attack", FILE_ATTACKS, ids=lambda a: a.name)
def test_file_attacker_is_graded_in_full_and_told_why(graded, attack):
    assert score(graded, attack.name) == FULL, (graded["stdout"], graded["stderr"])
    text = graded["feedback"][attack.name]
    assert "were not admitted" in text
    for reason in attack.reasons:
        assert reason.lower() in text, f"{attack.name}: {reason!r} not in the feedback"


def test_link_placed_in_submitted_is_refused_before_grading(graded):
    assert "refused: placed-link: grades.db: a symbolic link to" in graded["stderr"]
    assert score(graded, PLACED_LINK) == FULL
    assert "symbolic link to" in graded["feedback"][PLACED_LINK]


def test_nothing_of_the_course_or_other_students_reaches_any_attacker(graded):
    """No canary in what the attackers' sandboxes got back, their folders, or feedback."""
    root = graded["kit"].course.root
    victims = {VICTIM}
    for sub in ("submitted", "autograded", "feedback"):
        for student_dir in (root / sub).iterdir():
            if student_dir.name in victims:
                continue
            for path in student_dir.rglob("*"):
                assert not path.is_symlink(), f"{path} is a link"
                if path.is_file():
                    data = path.read_bytes()
                    leaked = [c for c in SECRETS if c.encode() in data]
                    assert not leaked, f"{path} holds {leaked}"
                    assert not SHADOW_LINE.search(data), f"{path} holds /etc/shadow"


def test_refused_files_are_in_quarantine_with_a_reason_each(graded):
    kit = graded["kit"]
    quarantine = kit.course.exchange_root / kit.course.course_id / "quarantine"
    for attack in FILE_ATTACKS:
        (folder,) = quarantine.glob(f"{attack.name}+*")
        lines = (folder / "REFUSED.txt").read_text().splitlines()
        assert lines and all("\t" in ln for ln in lines)
        moved = [ln.split("\t")[0] for ln in lines]
        assert all(os.path.lexists(folder / "files" / m) for m in moved), lines


def test_feedback_is_released_to_everyone_who_submitted_through_the_exchange(graded):
    """Code attacks were placed in submitted/ without nbgrader's submission secret: their
    feedback cannot be named, which is said once per student and stops nobody else's."""
    code, out, err = graded["feedback_release"]
    placed = {c.name for c in graded["cases"].values() if c not in HONEST and c.graded}
    lines = [ln for ln in err.splitlines() if "feedback not released" in ln]
    assert {ln.split(": ")[2] for ln in lines} == placed | {PLACED_LINK}, err
    assert all("no submission_secret.txt" in ln for ln in lines)
    assert code == 1 and "released" in out
    kit = graded["kit"]
    released = kit.course.exchange_root / kit.course.course_id / "feedback"
    html = list(released.glob("*.html"))
    assert len(html) >= len(FILE_ATTACKS)
    for path in html:
        assert not path.is_symlink()
        data = path.read_bytes()
        assert CANARY_GRADEBOOK.encode() not in data and CANARY_SOURCE.encode() not in data
