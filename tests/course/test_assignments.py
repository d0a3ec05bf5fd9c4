"""Every assignment: the reference scores full marks, the release scores 0, mutants lose points."""

from __future__ import annotations

import importlib.util
import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from coursehub import content
from coursekit import CourseKit, with_cell_source

from autograders.engine.parallel import GradingRun

MUTANTS_DIR = Path(__file__).parent / "mutants"
ASSIGNMENTS = content.list_assignments()

pytestmark = pytest.mark.slow


def load_mutants(assignment_id: str) -> list[dict]:
    path = MUTANTS_DIR / f"{assignment_id}.py"
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


def grade_full(root: Path, assignment_id: str, progress) -> tuple[dict, float]:
    """The reference and the untouched release, every cell run: their scores, and the
    seconds the reference's cells took."""
    kit = CourseKit(root)
    solution = kit.build(assignment_id)
    kit.submit("reference", assignment_id, solution)
    kit.submit("untouched", assignment_id, kit.released(assignment_id))
    summary = GradingRun(kit.course, assignment_id, jobs=2, sandbox="bwrap", stream=progress).run()
    assert not summary.infra_failures and not summary.nbgrader_failed, progress.getvalue()
    reference = next(o for o in summary.outcomes if o.student == "reference")
    return kit.course.scores(assignment_id), reference.exec_seconds


def grade_mutants(root: Path, assignment_id: str, mutants: list[dict], progress) -> dict:
    """Every planted wrong solution, each run only until its first failed test."""
    kit = CourseKit(root)
    solution = kit.build(assignment_id)
    for mutant in mutants:
        kit.submit(
            f"mutant-{mutant['name']}",
            assignment_id,
            with_cell_source(solution, mutant["cell"], mutant["source"]),
        )
    summary = GradingRun(
        kit.course, assignment_id, jobs=2, sandbox="bwrap", stream=progress, fail_fast=True
    ).run()
    assert not summary.infra_failures and not summary.nbgrader_failed, progress.getvalue()
    return kit.course.scores(assignment_id)


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory, course_timings):
    """Build one assignment; grade its reference, release and every mutant as `coursehub autograde`.

    That is the sandboxed parallel engine: bubblewrap (no network), two sandboxes at once.
    The reference and the release run in full; each mutant runs only until its first failed
    test (fail-fast: losing a point is all the test needs to see, and the heavy training
    cells after a broken early task need not run). The full run and the mutants grade at
    the same time, in two courses: the full run is mostly one long reference notebook,
    which alone would leave a core idle.
    """
    assignment_id = request.param
    root = tmp_path_factory.mktemp(assignment_id)
    mutants = load_mutants(assignment_id)
    logs = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        full = pool.submit(grade_full, root / "full", assignment_id, logs[0])
        wrong = pool.submit(grade_mutants, root / "mutants", assignment_id, mutants, logs[1])
        (scores, reference_s), mutant_scores = full.result(), wrong.result()
    course_timings[assignment_id] = {
        "reference_s": reference_s,
        "mutants": len(mutants),
        "wall_s": time.monotonic() - started,
    }
    return assignment_id, {**scores, **mutant_scores}, mutants


def test_reference_solution_scores_full_marks(graded):
    assignment_id, scores, _ = graded
    score, max_score = scores["reference"]
    assert max_score > 0
    assert score == max_score, f"{assignment_id}: reference scored {score}/{max_score}"


def test_released_version_scores_zero_without_grader_crash(graded):
    assignment_id, scores, _ = graded
    assert scores["untouched"][0] == 0, (
        f"{assignment_id}: untouched release scored {scores['untouched']}"
    )


def test_every_planted_wrong_solution_loses_points(graded):
    assignment_id, scores, mutants = graded
    tasks = {m["cell"] for m in mutants}
    assert mutants and all(sum(m["cell"] == t for m in mutants) >= 3 for t in tasks), (
        f"{assignment_id}: need at least 3 mutants per graded task"
    )
    survivors = [
        m["name"] for m in mutants if scores[f"mutant-{m['name']}"][0] >= scores["reference"][1]
    ]
    kill_rate = 1 - len(survivors) / len(mutants)
    print(f"{assignment_id}: mutant kill rate {kill_rate:.0%} ({len(mutants)} mutants)")
    assert not survivors, f"{assignment_id}: mutants kept full marks: {survivors}"


def test_every_graded_task_has_mutants(graded):
    assignment_id, _, mutants = graded
    nb = content.read_source(content.source_path(assignment_id))
    solution_cells = {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    }
    missing = solution_cells - {m["cell"] for m in mutants}
    assert not missing, f"{assignment_id}: solution cells without mutants: {sorted(missing)}"
