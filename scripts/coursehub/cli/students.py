"""Who is in a course: enrol, list and remove students; give one of them more time."""

from __future__ import annotations

from pathlib import Path

from ..errors import CoursehubError
from ..late import extension_for, parse_due
from ..roster import Student, check_username, read_roster
from ..settings import Settings
from . import common
from .common import known_assignment, say


def _enrol(settings: Settings, course, students: list[Student]) -> None:
    from ..hubapi import Hub

    hub = Hub(settings)  # fails with "hub not running" before anything changes
    names = [s.username for s in students]
    hub.ensure_users(names)
    hub.add_to_group(f"nbgrader-{course.course_id}", names)
    for s in students:
        course.run_nbgrader(
            "db",
            "student",
            "add",
            s.username,
            f"--first-name={s.first_name}",
            f"--last-name={s.last_name}",
            f"--email={s.email}",
        )
    say(f"enrolled {len(students)} student(s) in {course.course_id}: {', '.join(names)}")


def cmd_students(settings: Settings, args) -> int:
    course = common.pick_course(settings, args.course)
    if args.action == "list":
        from ..status import student_rows

        for line in student_rows(settings, course):
            print(line, flush=True)
        return 0
    if args.action == "remove":
        from ..status import remove_student

        name = check_username(args.username)
        for what in remove_student(settings, course, name):
            say(f"{name}: {what}")
        home = settings.home_root / name if settings.mode == "local" else "their volume"
        say(f"{name}: their files were not deleted (still in {home})")
        return 0
    if args.action == "add":
        student = Student(
            check_username(args.username), args.first_name, args.last_name, args.email
        )
        _enrol(settings, course, [student])
    else:
        _enrol(settings, course, read_roster(Path(args.csv)))
    return 0


def cmd_extension(settings: Settings, args) -> int:
    course = common.pick_course(settings, args.course)
    assignment_id = known_assignment(course, args.assignment)
    student = check_username(args.student)
    try:
        hours = float(args.hours) if args.hours is not None else None
    except ValueError:
        raise CoursehubError(f"--hours {args.hours!r}: not a number") from None
    # Bad input is refused before the gradebook is opened.
    if hours is not None or args.until is None:
        extension_for(None, hours, args.until)  # exactly one of the two; hours > 0
    else:
        parse_due(args.until)
    if not course.has_gradebook():
        raise CoursehubError(f"unknown assignment {assignment_id!r}: not built in this course yet")
    extra = extension_for(course.duedate(assignment_id), hours, args.until)
    new_due = course.grant_extension(assignment_id, student, extra)
    hours_given = extra.total_seconds() / 3600
    say(
        f"{student} may hand in {assignment_id} until {new_due:%Y-%m-%d %H:%M} UTC "
        f"({round(hours_given, 2):g} h extension; replaces any earlier one)"
    )
    return 0
