"""An assignment's life: build, release, collect, feedback, then grades out (export, report)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from coursehub.progress import Progress

from .. import content
from ..accounts import chown_tree
from ..collect import REFUSED, forged_submissions, quarantine
from ..errors import CoursehubError
from ..late import as_gradebook_utc, parse_due
from ..settings import Settings
from . import common
from .common import PerStudent, known_assignment, late_policy, say


def cmd_build(settings: Settings, args) -> int:
    course = common.pick_course(settings, args.course)
    ids = args.assignments or content.list_assignments()
    for assignment_id in ids:
        content.source_path(assignment_id)  # validate every id before building any
    with Progress(expected=len(ids)) as progress:
        for assignment_id in ids:
            progress.start(assignment_id)
            path = content.build(assignment_id, course.root)
            if course.grader_user and os.geteuid() == 0:
                chown_tree(course.root / "source", course.grader_user)
            nb = nbformat.read(path, as_version=4)
            due = kept_duedate(course, assignment_id)
            course.run_nbgrader("db", "assignment", "add", assignment_id, *due)
            points = content.total_points(nb)
            progress.item(assignment_id, f"built: {len(nb.cells)} cells, {points:g} points")
    return 0


def kept_duedate(course, assignment_id: str) -> list[str]:
    """``nbgrader db assignment add`` clears the due date unless it is given again."""
    if not course.has_gradebook():
        return []
    try:
        due = course.duedate(assignment_id)
    except CoursehubError:  # not in the gradebook yet
        return []
    return [f"--duedate={due.isoformat(sep=' ')} UTC"] if due else []


def cmd_release(settings: Settings, args) -> int:
    course = common.pick_course(settings, args.course)
    assignment_id = known_assignment(course, args.assignment)
    due = parse_due(args.due) if args.due else None  # bad dates refused before any change
    policy = late_policy(settings, course) if due else None
    if not (course.root / "source" / assignment_id).is_dir():
        cmd_build(
            settings, argparse.Namespace(course=course.course_id, assignments=[assignment_id])
        )
    course.check_exchange()
    with Progress(expected=3 if due else 2) as progress:
        progress.start("generate")
        course.run_nbgrader("generate_assignment", assignment_id, "--force")
        progress.item("generate", f"student version of {assignment_id} written")
        progress.start("release")
        course.run_nbgrader("release_assignment", assignment_id, "--force")
        progress.item("release", f"{assignment_id} is in the exchange")
        if due:
            course.set_duedate(assignment_id, as_gradebook_utc(due))
            when = f"{as_gradebook_utc(due):%Y-%m-%d %H:%M} UTC ({due:%Y-%m-%d %H:%M %Z})"
            progress.item("due date", f"{when}; {policy.describe()}")
    say(f"released {assignment_id}")
    return 0


def cmd_status(settings: Settings, args) -> int:
    from ..status import status_lines

    for line in status_lines(settings):
        print(line, flush=True)
    return 0


def cmd_collect(settings: Settings, args) -> int:
    course = common.pick_course(settings, args.course)
    assignment_id = known_assignment(course, args.assignment)
    course.check_exchange()
    forged = forged_submissions(settings, course.course_id, assignment_id)
    if forged:
        where = quarantine(settings, course.course_id, forged)
        for reason in forged.values():
            print(f"coursehub: refused: {reason} (moved to {where})", file=sys.stderr)
    inbound = settings.exchange_root / course.course_id / "inbound"
    # nbgrader collects the newest submission of each student: one item per student.
    expected = {p.name.split("+", 1)[0] for p in inbound.glob(f"*+{assignment_id}+*")}

    def collected(found: re.Match) -> str:
        stamp = course.root / "submitted" / found["student"] / assignment_id / "timestamp.txt"
        when = stamp.read_text().strip() if stamp.is_file() else "no timestamp"
        return f"submitted {when}" + (" (already collected)" if found["kind"] == "No" else "")

    with Progress(expected=len(expected)) as progress:
        students = PerStudent(
            progress,
            r"\] (?P<kind>Collecting|Updating|No) (?:newer )?submission(?: to collect)?: "
            rf"(?P<student>\S+) {re.escape(assignment_id)}$",
            collected,
        )

        def on_line(line: str) -> None:
            if f" {REFUSED} " in line:
                print(f"coursehub: refused: {line.split(f' {REFUSED} ', 1)[1]}", file=sys.stderr)
            elif counted := re.search(r"\] Processing (\d+) submissions of ", line):
                progress.expected = int(counted[1])  # nbgrader's own count wins
            students(line)

        course.run_nbgrader("collect", assignment_id, "--update", on_line=on_line)
        students.finish()
    total = len(list(course.root.glob(f"submitted/*/{assignment_id}")))
    say(f"collected {assignment_id}: {total} submission(s)")
    return 0


def unreleasable_feedback(course, assignment_id: str) -> dict[str, str]:
    """Student -> why their feedback cannot be released (nbgrader would fail for everyone).

    nbgrader names the released file after ``submission_secret.txt``, which ``nbgrader
    submit`` writes into the submission: one without it stops ``release_feedback``.
    """
    bad = {}
    for folder in sorted(course.root.glob(f"feedback/*/{assignment_id}")):
        for name in ("timestamp.txt", "submission_secret.txt"):
            path = folder / name
            if not path.is_file() or path.is_symlink():
                bad[folder.parent.name] = (
                    f"the submission has no {name} (not made by nbgrader submit)"
                )
    return bad


def cmd_feedback(settings: Settings, args) -> int:
    course = common.pick_course(settings, args.course)
    assignment_id = known_assignment(course, args.assignment)
    course.check_exchange()
    graded = list(course.root.glob(f"autograded/*/{assignment_id}"))
    with Progress(expected=len(graded)) as progress:
        # nbgrader converts a student's notebooks, then sets the files' permissions: done.
        generated = PerStudent(
            progress,
            rf"\] Converting notebook .*/autograded/(?P<student>[^/]+)/{re.escape(assignment_id)}/",
            lambda found: "feedback generated",
            end="] Setting destination file permissions",
        )
        course.run_nbgrader("generate_feedback", assignment_id, "--force", on_line=generated)
    bad = unreleasable_feedback(course, assignment_id)
    exclude = ["--CourseDirectory.student_id_exclude=" + ",".join(sorted(bad))] if bad else []
    releasable = [
        p for p in course.root.glob(f"feedback/*/{assignment_id}") if p.parent.name not in bad
    ]
    with Progress(expected=len(releasable)) as progress:
        released = PerStudent(
            progress,
            r"\] Releasing feedback for student '(?P<student>[^']+)' on assignment ",
            lambda found: "feedback released",
        )
        course.run_nbgrader("release_feedback", assignment_id, *exclude, on_line=released)
        released.finish()
    for student, reason in sorted(bad.items()):
        print(f"coursehub: feedback not released: {student}: {reason}", file=sys.stderr)
    say(f"feedback for {assignment_id} released; students fetch it from the Assignments tab")
    return 1 if bad else 0


def cmd_export(settings: Settings, args) -> int:
    course = common.pick_course(settings, args.course)
    target = Path(args.output).resolve()
    if not target.parent.is_dir():
        raise CoursehubError(f"cannot write {target}: folder {target.parent} does not exist")
    if args.format != "nbgrader":
        from ..lms_export import export_text

        text, rows = export_text(course.root, args.format, args.id, course.db_url)
        target.write_text(text)
        say(f"exported {rows} student row(s) in {args.format} layout to {target}")
        return 0
    staged = course.root / "grades-export.csv"  # the grader account can write only here
    course.run_nbgrader("export", f"--to={staged}")
    shutil.copyfile(staged, target)
    staged.unlink()
    rows = max(0, len(target.read_text().splitlines()) - 1)
    say(f"exported {rows} grade row(s) to {target}")
    return 0


def cmd_report(settings: Settings, args) -> int:
    from ..report import gather, gather_course
    from ..report_html import write_reports

    course = common.pick_course(settings, args.course)
    if args.assignment:
        reports = [gather(course.root, args.assignment, db_url=course.db_url)]
    else:
        reports = gather_course(course.root, course.db_url)
    out = Path(args.output).resolve() if args.output else course.root / "reports"
    if not out.parent.is_dir() or (out.exists() and not out.is_dir()):
        raise CoursehubError(f"cannot write reports into {out}: not a folder or no parent folder")
    written = write_reports(course.course_id, reports, out, course=not args.assignment)
    if os.geteuid() == 0 and out.is_relative_to(course.root):
        # The formgrader's file view runs as the course's owner (the grader account).
        owner = course.root.stat()
        for path in (out, *written):
            os.chown(path, owner.st_uid, owner.st_gid)
    say(f"wrote {len(written)} report(s) to {out}: {', '.join(p.name for p in written)}")
    return 0
