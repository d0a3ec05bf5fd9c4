"""Class reports: what the gradebook and the autograded notebooks say about one assignment.

Data only; report_html.py renders it. Per graded cell: who lost points; per failure
message (ename and the first line of evalue, numbers masked): who hit it, and whether in
the visible or the hidden part of the test cell.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CoursehubError

# Fail-fast grading scores every test cell after the first failure 0 with this error:
# those cells were not run, so they say nothing about the student's answer to them.
NOT_RUN = "NotRun"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
CELL_FRAME = re.compile(r"Cell In\[\d+\], line (\d+)")


@dataclass
class Task:
    """One graded cell: its points and the students who lost some (or whose cell never ran)."""

    name: str
    max_score: float
    graded: int = 0
    failed: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    @property
    def pass_rate(self) -> float | None:
        ran = self.graded - len(self.not_run)
        return (ran - len(self.failed)) / ran if ran else None


@dataclass
class Failure:
    """One failure message in one task, and who got it."""

    task: str
    hidden: bool
    message: str
    students: list[str] = field(default_factory=list)


@dataclass
class AssignmentReport:
    assignment_id: str
    duedate: str | None
    max_score: float
    scores: dict[str, float]  # student -> score, submitted students only
    tasks: list[Task]
    failures: list[Failure]  # most frequent first
    late: dict[str, float]  # student -> seconds late
    missing: list[str]  # enrolled students without a submission


def normalise(message: str) -> str:
    """Mask numbers so that "expected 3, got 4" and "expected 5, got 6" group together."""
    return NUMBER.sub("#", message)


def error_message(output: dict) -> str:
    """ename and the first line of evalue, numbers masked."""
    ename = output.get("ename") or "Error"
    first = (output.get("evalue") or "").strip().splitlines()[:1]
    return normalise(f"{ename}: {first[0]}" if first else ename)


def failing_line(output: dict) -> int | None:
    """The line of the test cell that raised: the traceback's first frame is the cell itself."""
    for line in output.get("traceback") or []:
        match = CELL_FRAME.search(ANSI.sub("", line))
        if match:
            return int(match.group(1))
    return None


def in_hidden_part(source: str, line: int | None) -> bool:
    """Whether 1-based ``line`` of ``source`` lies between the hidden-test markers."""
    if line is None:
        return False
    hidden = False
    for number, text in enumerate(source.splitlines(), start=1):
        if HIDDEN_BEGIN in text:
            hidden = True
        elif HIDDEN_END in text:
            hidden = False
        if number == line:
            return hidden
    return False


def cell_errors(path: Path) -> dict[str, tuple[str, bool]]:
    """grade_id -> (failure message, raised in the hidden part) for one autograded notebook."""
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    out = {}
    for cell in nb.get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id and errors:
            source = "".join(cell.get("source", ""))
            out[grade_id] = (
                error_message(errors[-1]),
                in_hidden_part(source, failing_line(errors[-1])),
            )
    return out


def open_gradebook(course_root: Path, db_url: str | None = None):
    """The course's nbgrader Gradebook (``db_url``, else its gradebook.db), or a one-line error."""
    from nbgrader.api import Gradebook

    if db_url:
        return Gradebook(db_url)
    path = Path(course_root) / "gradebook.db"
    if not path.is_file():  # Gradebook() would silently create an empty one
        raise CoursehubError(f"no gradebook at {path}: build and autograde an assignment first")
    return Gradebook(f"sqlite:///{path}")


def assignment_ids(gb) -> list[str]:
    return sorted(a.name for a in gb.assignments)


def gather(course_root: Path, assignment_id: str, gb=None, db_url=None) -> AssignmentReport:
    """Everything the report shows for one assignment, from the gradebook and autograded/."""
    from nbgrader.api import MissingEntry

    if gb is None:
        with open_gradebook(course_root, db_url) as own:
            return gather(course_root, assignment_id, own)
    try:
        assignment = gb.find_assignment(assignment_id)
    except MissingEntry:
        known = ", ".join(assignment_ids(gb)) or "none"
        raise CoursehubError(
            f"unknown assignment {assignment_id!r} in the gradebook (known: {known})"
        ) from None
    tasks: dict[str, Task] = {}
    for notebook in assignment.notebooks:
        for cell in notebook.grade_cells:
            tasks[cell.name] = Task(cell.name, cell.max_score)
    groups: dict[tuple[str, bool, str], list[str]] = defaultdict(list)
    scores, late = {}, {}
    for submission in assignment.submissions:
        student = submission.student.id
        scores[student] = submission.score
        if submission.total_seconds_late > 0:
            late[student] = submission.total_seconds_late
        for notebook in submission.notebooks:
            path = Path(course_root) / "autograded" / student / assignment_id
            errors = cell_errors(path / f"{notebook.name}.ipynb")
            for grade in notebook.grades:
                task = tasks.get(grade.name)
                if task is None or grade.score is None:
                    continue  # not autograded yet (or needs manual grading)
                task.graded += 1
                message, hidden = errors.get(grade.name, ("", False))
                if message.startswith(f"{NOT_RUN}:"):
                    task.not_run.append(student)
                elif grade.score < grade.max_score:
                    task.failed.append(student)
                    groups[(grade.name, hidden, message or "lost points (no error output)")].append(
                        student
                    )
    failures = [Failure(t, h, m, sorted(s)) for (t, h, m), s in groups.items()]
    failures.sort(key=lambda f: (-len(f.students), f.task, f.message))
    enrolled = {s.id for s in gb.students}
    return AssignmentReport(
        assignment_id=assignment_id,
        duedate=str(assignment.duedate) if assignment.duedate else None,
        max_score=assignment.max_score,
        scores=dict(sorted(scores.items())),
        tasks=list(tasks.values()),
        failures=failures,
        late=dict(sorted(late.items())),
        missing=sorted(enrolled - set(scores)),
    )


def gather_course(course_root: Path, db_url: str | None = None) -> list[AssignmentReport]:
    """One report per assignment in the gradebook."""
    with open_gradebook(course_root, db_url) as gb:
        return [gather(course_root, a, gb) for a in assignment_ids(gb)]
