"""Render class reports (report.py's data) as self-contained HTML pages with embedded PNGs."""

from __future__ import annotations

import base64
import io
import statistics
from html import escape
from pathlib import Path

from .report import AssignmentReport

STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; }
code { background: #f6f6f6; }
img { max-width: 100%; }
"""


def png(fig) -> str:
    """An <img> with the figure as a base64 PNG (one file to download or open anywhere)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def figure(width: float = 7, height: float = 3.2):
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def score_histogram(scores: list[float], max_score: float, title: str) -> str:
    fig, ax = figure()
    bins = max(1, min(20, int(max_score) or 1))
    ax.hist(scores, bins=bins, range=(0, max_score or 1), color="#4c72b0", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)  # no half students
    ax.set_title(title)
    return png(fig)


def pass_rate_chart(report: AssignmentReport) -> str:
    tasks = [t for t in report.tasks if t.pass_rate is not None]
    fig, ax = figure(height=0.4 * len(tasks) + 1.2)
    ax.barh([t.name for t in tasks], [100 * t.pass_rate for t in tasks], color="#55a868")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% full marks, of the submissions that ran this cell")
    ax.set_title("pass rate per graded cell")
    return png(fig)


def table(header: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{escape(str(v))}</td>'
            if i in numeric
            else f"<td>{escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def summary_line(report: AssignmentReport) -> str:
    scores = list(report.scores.values())
    if not scores:
        return "No graded submissions yet."
    return (
        f"{len(scores)} submission(s), {len(report.missing)} missing, {len(report.late)} late; "
        f"mean {statistics.mean(scores):.2f} / median {statistics.median(scores):g} "
        f"of {report.max_score:g} points."
    )


def assignment_page(report: AssignmentReport) -> str:
    """The HTML report of one assignment."""
    parts = [f"<p>{escape(summary_line(report))}"]
    if report.duedate:
        parts.append(f" Due {escape(report.duedate)}.")
    parts.append("</p>")
    if report.scores:
        parts.append("<h2>Score distribution</h2>")
        parts.append(
            score_histogram(list(report.scores.values()), report.max_score, report.assignment_id)
        )
    parts.append("<h2>Graded cells, most failed first</h2>")
    ranked = sorted(report.tasks, key=lambda t: (-len(t.failed), t.name))
    rows = [
        [
            t.name,
            f"{t.max_score:g}",
            t.graded,
            len(t.failed),
            len(t.not_run),
            "-" if t.pass_rate is None else f"{100 * t.pass_rate:.0f}%",
            ", ".join(t.failed),
        ]
        for t in ranked
    ]
    header = ["cell", "points", "graded", "failed", "not run", "pass rate", "failed by"]
    parts.append(table(header, rows, numeric={1, 2, 3, 4, 5}))
    parts.append(
        "<p>Not run: fail-fast grading stopped at an earlier failed test; those cells scored "
        "0 but are not counted as failed.</p>"
    )
    if any(t.pass_rate is not None for t in report.tasks):
        parts.append(pass_rate_chart(report))
    parts.append("<h2>Most common failure messages</h2>")
    if report.failures:
        rows = [
            [f.task, "hidden" if f.hidden else "visible", f.message, len(f.students)]
            + [", ".join(f.students)]
            for f in report.failures
        ]
        header = ["cell", "check", "message (numbers as #)", "students", "who"]
        parts.append(table(header, rows, numeric={3}))
    else:
        parts.append("<p>No failures.</p>")
    parts.append("<h2>Late submissions</h2>")
    late = [[s, hours(sec)] for s, sec in report.late.items()]
    parts.append(table(["student", "late by"], late, {1}) if late else "<p>None.</p>")
    parts.append("<h2>Not submitted</h2>")
    parts.append(f"<p>{escape(', '.join(report.missing)) or 'Everyone submitted.'}</p>")
    return page(f"{report.assignment_id}: class report", "".join(parts))


def course_page(course_id: str, reports: list[AssignmentReport]) -> str:
    """The course overview: totals per student and a line per assignment."""
    students = sorted({s for r in reports for s in (*r.scores, *r.missing)})
    totals = [sum(r.scores.get(s, 0.0) for r in reports) for s in students]
    max_total = sum(r.max_score for r in reports)
    parts = [
        f"<p>{len(students)} student(s), {len(reports)} assignment(s) in the gradebook; "
        "in the totals a missing submission counts 0.</p>"
    ]
    if students and max_total:
        parts.append("<h2>Course total distribution</h2>")
        parts.append(score_histogram(totals, max_total, f"{course_id}: total score"))
    rows = []
    for r in reports:
        scores = list(r.scores.values())
        worst = min(r.tasks, key=lambda t: (-len(t.failed), t.name), default=None)
        rows.append(
            [
                f'<a href="{escape(r.assignment_id)}.html">{escape(r.assignment_id)}</a>',
                len(scores),
                len(r.missing),
                len(r.late),
                f"{statistics.mean(scores):.2f} / {r.max_score:g}" if scores else "-",
                f"{worst.name} ({len(worst.failed)})" if worst and worst.failed else "-",
            ]
        )
    head = ["assignment", "submitted", "missing", "late", "mean", "most failed cell"]
    parts.append("<h2>Assignments</h2><table><tr>")
    parts.append("".join(f"<th>{h}</th>" for h in head) + "</tr>")
    for row in rows:  # the first column is a link built from escaped parts above
        cells = [row[0], *(escape(str(v)) for v in row[1:])]
        parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    return page(f"{course_id}: course report", "".join(parts))


def write_reports(
    course_id: str, reports: list[AssignmentReport], out: Path, course: bool = True
) -> list[Path]:
    """Write <assignment>.html for each report (and index.html for the course) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for report in reports:
        path = out / f"{report.assignment_id}.html"
        path.write_text(assignment_page(report))
        written.append(path)
    if course:
        path = out / "index.html"
        path.write_text(course_page(course_id, reports))
        written.append(path)
    return written
