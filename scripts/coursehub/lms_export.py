"""Grade exports an LMS imports: Canvas's gradebook CSV and Moodle's grade import CSV.

Students are every student in the gradebook; a student without a submission gets an empty
cell (no grade), not 0, so that the LMS's own missing-work policy applies.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .errors import CoursehubError
from .report import assignment_ids, open_gradebook

FORMATS = ("nbgrader", "canvas", "moodle")
IDENTIFIERS = ("username", "email")
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_ID_COLUMN = {"username": "Username", "email": "Email address"}


@dataclass(frozen=True)
class Grades:
    """Everything an export needs, read from the gradebook once."""

    assignments: list[tuple[str, float]]  # (id, points possible), by id
    students: list[dict]  # id, first_name, last_name, email; by id
    scores: dict[tuple[str, str], float]  # (student, assignment) -> score, submitted only


def read_grades(course_root, db_url: str | None = None) -> Grades:
    with open_gradebook(course_root, db_url) as gb:
        ids = assignment_ids(gb)
        if not ids:
            raise CoursehubError("the gradebook has no assignments yet: nothing to export")
        assignments, scores = [], {}
        for assignment_id in ids:
            assignment = gb.find_assignment(assignment_id)
            assignments.append((assignment_id, assignment.max_score))
            for sub in assignment.submissions:
                scores[(sub.student.id, assignment_id)] = sub.score
        students = [
            {"id": s.id, "first_name": s.first_name, "last_name": s.last_name, "email": s.email}
            for s in sorted(gb.students, key=lambda s: s.id)
        ]
    return Grades(assignments, students, scores)


def points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def identifier(student: dict, by: str) -> str:
    return student["id"] if by == "username" else (student["email"] or "")


def check_identifiers(grades: Grades, by: str) -> None:
    """Refuse an export in which some student could not be matched in the LMS."""
    if by not in IDENTIFIERS:
        raise CoursehubError(f"unknown identifier {by!r} (use one of: {', '.join(IDENTIFIERS)})")
    blank = [s["id"] for s in grades.students if not identifier(s, by)]
    if blank:
        raise CoursehubError(
            f"no {by} in the gradebook for {', '.join(blank)}: enrol them with --email "
            "(coursehub students add/import) or export with --id username"
        )


def canvas_name(student: dict) -> str:
    """Canvas's own export writes "Last, First"; the username when the roster has no names."""
    last, first = student["last_name"] or "", student["first_name"] or ""
    if last and first:
        return f"{last}, {first}"
    return last or first or student["id"]


def canvas_rows(grades: Grades, by: str = "username") -> list[list[str]]:
    """Header, the "Points Possible" row, then a row per student (login in SIS Login ID)."""
    check_identifiers(grades, by)
    rows = [
        CANVAS_FIXED + [a for a, _ in grades.assignments],
        ["Points Possible", "", "", "", ""] + [points(m) for _, m in grades.assignments],
    ]
    for s in grades.students:
        scores = [points(grades.scores.get((s["id"], a))) for a, _ in grades.assignments]
        rows.append([canvas_name(s), "", "", identifier(s, by), ""] + scores)
    return rows


def moodle_rows(grades: Grades, by: str = "email") -> list[list[str]]:
    """Header (the identifier column, then one column per assignment), a row per student."""
    check_identifiers(grades, by)
    rows = [[MOODLE_ID_COLUMN[by]] + [a for a, _ in grades.assignments]]
    for s in grades.students:
        scores = [points(grades.scores.get((s["id"], a))) for a, _ in grades.assignments]
        rows.append([identifier(s, by)] + scores)
    return rows


def to_csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def export_text(course_root, fmt: str, by: str, db_url: str | None = None) -> tuple[str, int]:
    """CSV text in ``fmt`` (canvas or moodle) and the number of student rows."""
    grades = read_grades(course_root, db_url)
    rows = canvas_rows(grades, by) if fmt == "canvas" else moodle_rows(grades, by)
    return to_csv(rows), len(grades.students)
