"""Every assignment: the reference scores full marks, the release scores 0, mutants lose points.

Planted wrong solutions are graded in *rounds*: round r is the reference with the r-th
mutant of every task planted at once, so one sandbox run (one kernel, one torch import)
judges up to one mutant per task. That is sound because tasks are independent by the
course's rule that one bug costs points once: a mutant must lose points in its own task's
test cells, and every task a round leaves unmutated must keep all of its points.
"""

from __future__ import annotations

import importlib.util
import io
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from coursehub import content
from coursehub.grading.parallel import GradingRun
from coursekit import CourseKit, cell_scores, task_groups, with_cell_sources

MUTANTS_DIR = Path(__file__).parent / "mutants"
ASSIGNMENTS = content.list_assignments()

pytestmark = pytest.mark.slow


def load_mutants(assignment_id: str) -> list[dict]:
    path = MUTANTS_DIR / f"{assignment_id}.py"
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


def mutant_rounds(mutants: list[dict], task_of: dict[str, str]) -> list[list[dict]]:
    """Round r holds the r-th mutant of every task (a task: solution cells and their tests)."""
    by_task: dict[str, list[dict]] = {}
    for mutant in mutants:
        by_task.setdefault(task_of[mutant["cell"]], []).append(mutant)
    depth = max(len(ms) for ms in by_task.values())
    return [[ms[r] for ms in by_task.values() if r < len(ms)] for r in range(depth)]


def grade_assignment(root: Path, assignment_id: str) -> dict:
    """Build one assignment; grade reference, release and mutant rounds as `coursehub autograde`.

    That is the sandboxed parallel engine: bubblewrap (no network), two sandboxes at once,
    every notebook run to its end.
    """
    started = time.monotonic()
    kit = CourseKit(root)
    solution = kit.build(assignment_id)
    groups = task_groups(solution)
    task_of = {cell: task for task, g in groups.items() for cell in g["solutions"]}
    mutants = load_mutants(assignment_id)
    unknown = sorted({m["cell"] for m in mutants} - set(task_of))
    assert not unknown, f"{assignment_id}: mutants name no solution cell: {unknown}"
    rounds = mutant_rounds(mutants, task_of)
    kit.submit("reference", assignment_id, solution)
    kit.submit("untouched", assignment_id, kit.released(assignment_id))
    for r, planted in enumerate(rounds):
        sources = {m["cell"]: m["source"] for m in planted}
        kit.submit(f"round-{r:02d}", assignment_id, with_cell_sources(solution, sources))
    log = io.StringIO()
    summary = GradingRun(kit.course, assignment_id, jobs=2, sandbox="bwrap", stream=log).grade()
    assert not summary.infra_failures and not summary.nbgrader_failed, log.getvalue()
    # a round whose kernel died or timed out did not run its later tasks: no verdict on them
    unfinished = [f"{o.student}: {o.status}" for o in summary.outcomes if o.status != "ok"]
    assert not unfinished, f"{assignment_id}: notebooks did not run to the end: {unfinished}"
    reference = next(o for o in summary.outcomes if o.student == "reference")
    return {
        "id": assignment_id,
        "scores": kit.course.scores(assignment_id),
        "cells": [
            cell_scores(kit.course, assignment_id, f"round-{r:02d}") for r in range(len(rounds))
        ],
        "groups": groups,
        "task_of": task_of,
        "rounds": rounds,
        "mutants": mutants,
        "timing": {
            "reference_s": reference.exec_seconds,
            "mutants": len(mutants),
            "notebooks": len(rounds) + 2,
            "wall_s": time.monotonic() - started,
        },
    }


@pytest.fixture(scope="session")
def grader(request, tmp_path_factory):
    """Grades assignments in the background, the next selected one while this one is tested.

    Each assignment starts and ends on one core (building, nbgrader's passes, the last
    notebook); overlapping two keeps both cores busy across those stretches.
    """
    selected = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        aid = callspec.params.get("graded") if callspec else None
        if aid and aid not in selected:
            selected.append(aid)
    pool = ThreadPoolExecutor(max_workers=2)
    futures: dict[str, Future] = {}

    def start(aid: str) -> Future:
        if aid not in futures:
            futures[aid] = pool.submit(grade_assignment, tmp_path_factory.mktemp(aid), aid)
        return futures[aid]

    def result(aid: str) -> dict:
        future = start(aid)
        if aid in selected and selected.index(aid) + 1 < len(selected):
            start(selected[selected.index(aid) + 1])
        return future.result()

    yield result
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, grader, course_timings):
    graded = grader(request.param)
    course_timings[request.param] = graded["timing"]
    return graded


def task_score(cells: dict, tests: list[str]) -> tuple[float, float]:
    return sum(cells[t][0] for t in tests), sum(cells[t][1] for t in tests)


def test_reference_solution_scores_full_marks(graded):
    score, max_score = graded["scores"]["reference"]
    assert max_score > 0
    assert score == max_score, f"{graded['id']}: reference scored {score}/{max_score}"


def test_released_version_scores_zero_without_grader_crash(graded):
    assert graded["scores"]["untouched"][0] == 0, (
        f"{graded['id']}: untouched release scored {graded['scores']['untouched']}"
    )


def test_every_planted_wrong_solution_loses_points_in_its_own_task(graded):
    mutants, groups, task_of = graded["mutants"], graded["groups"], graded["task_of"]
    per_task: dict[str, int] = {}
    for m in mutants:
        per_task[task_of[m["cell"]]] = per_task.get(task_of[m["cell"]], 0) + 1
    assert all(n >= 3 for n in per_task.values()), (
        f"{graded['id']}: need at least 3 mutants per graded task: {per_task}"
    )
    survivors = []
    for r, planted in enumerate(graded["rounds"]):
        cells = graded["cells"][r]
        for m in planted:
            score, max_score = task_score(cells, groups[task_of[m["cell"]]]["tests"])
            if score >= max_score:
                survivors.append(f"{m['name']} ({score:g}/{max_score:g})")
    kill_rate = 1 - len(survivors) / len(mutants)
    print(f"{graded['id']}: mutant kill rate {kill_rate:.0%} ({len(mutants)} mutants)")
    assert not survivors, f"{graded['id']}: mutants kept their task's full marks: {survivors}"


def test_a_wrong_solution_costs_points_only_in_its_own_task(graded):
    """Every task a round leaves unmutated keeps its points despite the bugs planted elsewhere."""
    leaks = []
    for r, planted in enumerate(graded["rounds"]):
        cells = graded["cells"][r]
        mutated = {graded["task_of"][m["cell"]] for m in planted}
        for task, group in graded["groups"].items():
            score, max_score = task_score(cells, group["tests"])
            if task not in mutated and score < max_score:
                names = ", ".join(m["name"] for m in planted)
                leaks.append(f"{task} lost {max_score - score:g} in round {r} ({names})")
    assert not leaks, f"{graded['id']}: a bug cost points in another task: {leaks}"


def test_every_graded_task_has_mutants(graded):
    mutated = {m["cell"] for m in graded["mutants"]}
    missing = sorted(set(graded["task_of"]) - mutated)
    assert not missing, f"{graded['id']}: solution cells without mutants: {missing}"
