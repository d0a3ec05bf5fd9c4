"""The parallel driver: retries infrastructure failures once, re-runs are idempotent,
and a sandbox that runs past the wall clock is killed with nothing left behind."""

from __future__ import annotations

import io

import pytest
from coursehub.grading import backends, parallel
from coursehub.grading import sandbox_execute as sx
from coursehub.grading.backends import Limits, RunResult, make_backend
from enginekit import leftover_sandboxes
from nbfactory import code_cell, notebook, test_cell

pytestmark = pytest.mark.slow

ASSIGNMENT = "01_tensors"


class FakeBackend:
    """Pretends to execute: every code cell finishes with no output (all tests pass)."""

    calls: dict[str, int] = {}
    broken: set[str] = set()  # students whose sandbox always fails
    flaky: set[str] = set()  # students whose sandbox fails the first time

    def __init__(self, student):
        self.student = student

    def check(self):
        pass

    def execute_notebook(self, nb, files_dir):
        n = self.calls[self.student] = self.calls.get(self.student, 0) + 1
        if self.student in self.broken or (self.student in self.flaky and n == 1):
            return RunResult(infra_error="docker: Error response from daemon: boom", backend="x")
        events = [{"ev": "ready"}]
        for i, c in enumerate(nb["cells"]):
            if c["cell_type"] == "code":
                events += [{"ev": "start", "cell": i}, {"ev": "done", "cell": i, "outputs": []}]
        events.append({"ev": "end", "exec_seconds": 0.1})
        return RunResult(events=events, returncode=0, backend="x", wall_seconds=0.2)


@pytest.fixture
def fake_sandboxes(monkeypatch):
    FakeBackend.calls = {}
    FakeBackend.broken = set()
    FakeBackend.flaky = set()

    def execute(nb, files_dir, settings, gpu_slot="", on_retry=None):
        student = files_dir.rstrip("/").split("/")[-2]
        backend = FakeBackend(student)
        result = backend.execute_notebook(nb, files_dir)
        attempts = 1
        if result.infra_error:
            on_retry and on_retry(result.infra_error)
            result, attempts = backend.execute_notebook(nb, files_dir), 2
        return {"result": result.to_json(), "attempts": attempts}

    monkeypatch.setattr(sx, "execute", execute)
    monkeypatch.setattr(backends.BwrapBackend, "check", lambda self: None)
    return FakeBackend


def grade(kit, out) -> parallel.Summary:
    return parallel.GradingRun(kit.course, ASSIGNMENT, jobs=2, sandbox="bwrap", stream=out).grade()


def test_infra_failures_are_retried_once_and_reruns_grade_only_what_is_missing(
    make_course, fake_sandboxes
):
    from coursekit import with_cell_source

    kit = make_course()
    solution = kit.build(ASSIGNMENT)
    grid = next(c.source for c in solution.cells if "def make_grid" in c.source)
    for student in ("ann", "ben", "cat"):  # three different notebooks
        nb = with_cell_source(solution, "make_grid", grid + f"\n# {student}\n")
        kit.submit(student, ASSIGNMENT, nb)
        if student == "ann":
            kit.submit("dan", ASSIGNMENT, nb)  # a copy of ann's: executed once for both
    fake_sandboxes.flaky = {"ben"}
    fake_sandboxes.broken = {"cat"}
    out = io.StringIO()
    summary = grade(kit, out)
    by = {o.student: o for o in summary.outcomes}
    assert by["ann"].status == "ok" and by["ann"].attempts == 1
    assert by["ben"].status == "ok" and by["ben"].attempts == 2, "one retry after a daemon error"
    assert by["cat"].status == "infra" and by["cat"].attempts == 2
    assert by["dan"].status == "ok" and "dan" not in fake_sandboxes.calls
    assert "retrying once" in out.getvalue()
    assert "1 failed (infrastructure)" in summary.line()
    scores = kit.course.scores(ASSIGNMENT)
    assert scores["ann"] == scores["ben"] == scores["dan"] == (17.0, 17.0)
    assert scores.get("cat", (0, 0))[0] == 0, "an infrastructure failure must not be graded"
    assert not (kit.course.root / "autograded" / "cat" / ASSIGNMENT).exists()

    # the daemon is back: running again grades cat only and touches nobody else
    fake_sandboxes.broken = set()
    calls_before = dict(fake_sandboxes.calls)
    summary = grade(kit, out)
    assert [o.student for o in summary.outcomes] == ["cat"]
    assert fake_sandboxes.calls["ann"] == calls_before["ann"]
    assert kit.course.scores(ASSIGNMENT)["cat"] == (17.0, 17.0)

    # and once more: nothing left to do, nothing executed
    summary = grade(kit, out)
    assert summary.outcomes == []
    assert not list((kit.course.root / ".coursehub-autograde").glob("*"))


@pytest.mark.parametrize("backend", ["bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def test_wall_clock_kills_the_sandbox_and_leaves_nothing(backend, monkeypatch):
    from coursehub.grading.backends import OWNER_ENV
    from enginekit import STUDENT_IMAGE, require_bwrap, require_docker

    owner = f"wall-clock-{backend}-{id(monkeypatch)}"
    monkeypatch.setenv(OWNER_ENV, owner)
    require_docker() if backend == "docker" else require_bwrap()
    nb = notebook(
        code_cell("import time\ntime.sleep(3600)"),
        test_cell("pass", "t", points=1),
    )
    limits = Limits(cell_timeout=0, wall_timeout=20, probe=False)
    sandbox = make_backend(backend, limits, image=STUDENT_IMAGE)
    result = sandbox.execute_notebook(nb, None)
    if backend == "docker":
        sandbox.close()
    assert not result.infra_error, result.infra_error + result.stderr_tail
    assert result.timed_out
    executed, summary = sx.assemble(nb, result, {"limits": limits.__dict__})
    assert summary["status"] == "timeout"
    assert "time limit of 20 s exceeded" in executed["cells"][0]["outputs"][-1]["evalue"]
    assert executed["cells"][1]["outputs"][-1]["ename"] == "NotRun"
    import time

    time.sleep(2)
    assert leftover_sandboxes(owner) == []


@pytest.mark.parametrize("fail_fast", [False, True], ids=["full", "fail-fast"])
def test_fail_fast_stops_at_the_first_failed_test_and_scores_the_rest_zero(fail_fast):
    from enginekit import require_bwrap

    require_bwrap()
    nb = notebook(
        test_cell("assert 1 + 1 == 3", "t1"),
        code_cell("print('later work ran')"),
        test_cell("assert True", "t2"),
    )
    limits = Limits(cell_timeout=60, wall_timeout=120, probe=False, fail_fast=fail_fast)
    result = make_backend("bwrap", limits).execute_notebook(nb, None)
    assert not result.infra_error, result.infra_error + result.stderr_tail
    executed, summary = sx.assemble(nb, result, {"limits": limits.__dict__})
    cells = executed["cells"]
    assert cells[0]["outputs"][-1]["ename"] == "AssertionError"
    if fail_fast:
        assert summary["status"] == "failfast"
        assert cells[1]["outputs"] == []
        assert cells[2]["outputs"][-1]["ename"] == "NotRun"
        assert "fail-fast grading" in cells[2]["outputs"][-1]["evalue"]
    else:
        assert summary["status"] == "ok"
        assert "later work ran" in cells[1]["outputs"][0]["text"]
        assert cells[2]["outputs"] == []
