"""coursehub: the one command line for admins and instructors."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from autograders.engine.progress import Progress

from . import content
from .accounts import chown_tree
from .collect import REFUSED, forged_submissions, quarantine, refuse_submitted
from .errors import CoursehubError
from .late import as_gradebook_utc, extension_for, parse_due, parse_policy, policy_text
from .location import refuse_untraversable
from .roster import Student, check_username, read_roster
from .settings import Settings, load_settings
from .setup import course as course_for
from .setup import prepare
from .supervise import Supervisor


def say(message: str) -> None:
    print(f"coursehub: {message}", flush=True)


def pick_course(settings: Settings, course_id: str | None):
    course_id = course_id or settings.courses[0]
    if course_id not in settings.courses:
        raise CoursehubError(
            f"unknown course {course_id!r} (configured: {', '.join(settings.courses)})"
        )
    return course_for(settings, course_id)


def known_assignment(course, assignment_id: str) -> str:
    """The id if the repo's sources or the course's source folder has it; else a clear error."""
    built = course.root / "source" / assignment_id
    if built.is_dir():
        return assignment_id
    content.source_path(assignment_id)  # raises "unknown assignment ... (known: ...)"
    return assignment_id


# --- subcommands ---------------------------------------------------------------------------


def cmd_local(settings: Settings, args) -> int:
    if os.geteuid() != 0:
        raise CoursehubError(
            "local mode runs each student as their own system account and needs root: "
            "sudo .venv/bin/coursehub local"
        )
    refuse_untraversable()
    prepare(settings)
    say(
        f"starting JupyterHub on http://{settings.ip}:{settings.port} (data in {settings.data_dir})"
    )
    # Not exec: this process supervises the hub and the formgraders and stops all of them.
    return Supervisor(settings, {**os.environ, "COURSEHUB_MODE": "local"}).run()


def cmd_build(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
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
            course.nbgrader("db", "assignment", "add", assignment_id, *due)
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


def _enrol(settings: Settings, course, students: list[Student]) -> None:
    from .hubapi import Hub

    hub = Hub(settings)  # fails with "hub not running" before anything changes
    names = [s.username for s in students]
    hub.ensure_users(names)
    hub.add_to_group(f"nbgrader-{course.course_id}", names)
    for s in students:
        course.nbgrader(
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
    course = pick_course(settings, args.course)
    if args.action == "list":
        from .status import student_rows

        for line in student_rows(settings, course):
            print(line, flush=True)
        return 0
    if args.action == "remove":
        from .status import remove_student

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


def cmd_release(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
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
        course.nbgrader("generate_assignment", assignment_id, "--force")
        progress.item("generate", f"student version of {assignment_id} written")
        progress.start("release")
        course.nbgrader("release_assignment", assignment_id, "--force")
        progress.item("release", f"{assignment_id} is in the exchange")
        if due:
            course.set_duedate(assignment_id, as_gradebook_utc(due))
            when = f"{as_gradebook_utc(due):%Y-%m-%d %H:%M} UTC ({due:%Y-%m-%d %H:%M %Z})"
            progress.item("due date", f"{when}; {policy.describe()}")
    say(f"released {assignment_id}")
    return 0


def late_policy(settings: Settings, course):
    """The course's late policy, validated (COURSEHUB_LATE_POLICY[_<COURSE>])."""
    return parse_policy(course.late_policy or policy_text(settings.env, course.course_id))


def cmd_extension(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
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


def cmd_status(settings: Settings, args) -> int:
    from .status import status_lines

    for line in status_lines(settings):
        print(line, flush=True)
    return 0


class PerStudent:
    """Turns nbgrader's log lines into one progress item per student, as each one is done."""

    # nbgrader logs when it starts on a student (``begin``, group ``student``). Without an
    # ``end`` marker a student is done once nbgrader starts the next one or exits cleanly
    # (``finish``); with one, only at that marker, so a failed student is never reported.
    def __init__(self, progress: Progress, begin: str, describe, end: str | None = None):
        self.progress = progress
        self.begin = re.compile(begin)
        self.describe = describe  # the started line's match -> the item's text
        self.end = end
        self.current: re.Match | None = None
        self.reported: set[str] = set()

    def __call__(self, line: str) -> None:
        found = self.begin.search(line)
        if found and (not self.current or found["student"] != self.current["student"]):
            if self.end is None:
                self.finish()
            self.current = found
        elif self.end is not None and self.end in line:
            self.finish()

    def finish(self) -> None:
        if self.current and self.current["student"] not in self.reported:
            student = self.current["student"]
            self.reported.add(student)
            self.progress.item(student, self.describe(self.current))
        self.current = None


def cmd_collect(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
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

        course.nbgrader("collect", assignment_id, "--update", on_line=on_line)
        students.finish()
    total = len(list(course.root.glob(f"submitted/*/{assignment_id}")))
    say(f"collected {assignment_id}: {total} submission(s)")
    return 0


def invalid_submissions(course, assignment_id: str, student: str | None) -> dict[str, str]:
    """Student -> why their submitted notebook cannot be graded (e.g. invalid JSON)."""
    bad = {}
    pattern = f"submitted/{student or '*'}/{assignment_id}/*.ipynb"
    for path in sorted(course.root.glob(pattern)):
        where = path.relative_to(course.root)
        owner = path.parent.parent.name
        try:
            nbformat.validate(nbformat.reads(path.read_text(), as_version=4))
        except UnicodeDecodeError:
            bad[owner] = f"{where} is not a valid notebook: not UTF-8 text"
        except nbformat.ValidationError as exc:
            bad[owner] = f"{where} is not a valid notebook: {str(exc).strip().splitlines()[0]}"
        except ValueError as exc:  # nbformat's NotJSONError wraps json's JSONDecodeError
            cause = exc.__cause__ if isinstance(exc.__cause__, json.JSONDecodeError) else None
            at = f" (line {cause.lineno}, column {cause.colno})" if cause else ""
            bad[owner] = f"{where} is not a valid notebook: invalid JSON{at}"
    return bad


def cmd_autograde(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
    assignment_id = known_assignment(course, args.assignment)
    policy = late_policy(settings, course)  # a bad policy stops here, before any grading
    # nbgrader runs as the grader account, which may not read .env: hand the policy down.
    late_env = {
        f"COURSEHUB_LATE_POLICY_{course.course_id.upper()}": course.late_policy
        or policy_text(settings.env, course.course_id)
    }
    if policy.kind != "none":
        say(f"late policy: {policy.describe()}")
    # Admission again: files placed in submitted/ other than by collect are moved out
    # before nbgrader copies them (it follows links).
    for line in refuse_submitted(course.root, assignment_id, args.student):
        print(f"coursehub: refused: {line}", file=sys.stderr)
    if course.grader_user and os.geteuid() == 0 and (course.root / "quarantine").is_dir():
        chown_tree(course.root / "quarantine", course.grader_user)  # the feedback quotes it
    bad = invalid_submissions(course, assignment_id, args.student)
    if args.student and args.student in bad:
        raise CoursehubError(bad[args.student] + " (nothing was graded)")
    extra = [f"--student={args.student}"] if args.student else []
    if bad:
        extra.append("--CourseDirectory.student_id_exclude=" + ",".join(sorted(bad)))
    say(f"autograding {assignment_id}")
    summary = sandboxed_autograde(settings, course, assignment_id, extra, args, late_env)
    summary.not_gradable = bad
    say(summary.line())
    for student, (score, max_score) in sorted(course.scores(assignment_id).items()):
        if not args.student or student == args.student:
            say(f"  {student}: {score:g}/{max_score:g}")
    ungraded = summary.ungraded()
    for student, reason in sorted(ungraded.items()):
        print(f"coursehub: not graded: {student}: {reason}", file=sys.stderr)
    if summary.nbgrader_failed and not ungraded:
        raise CoursehubError(f"nbgrader autograde failed: {summary.nbgrader_failed}")
    return 1 if ungraded else 0


def sandboxed_autograde(
    settings: Settings, course, assignment_id: str, extra, args, env: dict | None = None
):
    """Grade through autograders.engine (a sandbox per submission, several at once)."""
    from autograders.engine.backends import SandboxUnavailable
    from autograders.engine.parallel import GradingRun

    sandbox = args.sandbox or ("docker" if settings.mode == "docker" else "bwrap")
    if sandbox == "bwrap":
        refuse_untraversable()  # the sandbox runs as another account and mounts the venv
    image = settings.get("COURSEHUB_STUDENT_IMAGE", "coursehub/student:latest")
    run = GradingRun(
        course,
        assignment_id,
        extra,
        jobs=args.jobs,
        sandbox=sandbox,
        image=image,
        force=args.force,
        env=env,
    )
    try:
        return run.run()
    except SandboxUnavailable as exc:
        raise CoursehubError(
            f"no {sandbox} sandbox to grade in: {exc}; refusing to run student code unsandboxed"
        ) from None


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
    course = pick_course(settings, args.course)
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
        course.nbgrader("generate_feedback", assignment_id, "--force", on_line=generated)
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
        course.nbgrader("release_feedback", assignment_id, *exclude, on_line=released)
        released.finish()
    for student, reason in sorted(bad.items()):
        print(f"coursehub: feedback not released: {student}: {reason}", file=sys.stderr)
    say(f"feedback for {assignment_id} released; students fetch it from the Assignments tab")
    return 1 if bad else 0


def cmd_export(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
    target = Path(args.output).resolve()
    if not target.parent.is_dir():
        raise CoursehubError(f"cannot write {target}: folder {target.parent} does not exist")
    if args.format != "nbgrader":
        from .lms_export import export_text

        text, rows = export_text(course.root, args.format, args.id, course.db_url)
        target.write_text(text)
        say(f"exported {rows} student row(s) in {args.format} layout to {target}")
        return 0
    staged = course.root / "grades-export.csv"  # the grader account can write only here
    course.nbgrader("export", f"--to={staged}")
    shutil.copyfile(staged, target)
    staged.unlink()
    rows = max(0, len(target.read_text().splitlines()) - 1)
    say(f"exported {rows} grade row(s) to {target}")
    return 0


def cmd_report(settings: Settings, args) -> int:
    from .report import gather, gather_course
    from .report_html import write_reports

    course = pick_course(settings, args.course)
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


def cmd_backup(settings: Settings, args) -> int:
    from .backup import backup, human

    m = backup(settings, args.dest, args.compress)
    where = "stdout" if args.dest == "-" else Path(args.dest).resolve()
    print(
        f"coursehub: backed up {len(m['courses'])} course(s), {len(m['students'])} student(s), "
        f"{len(m['homes'])} home(s), {human(m['sizes']['total'])} of files to {where}",
        file=sys.stderr,
    )
    return 0


def cmd_restore(settings: Settings, args) -> int:
    from .restore import restore

    m = restore(settings, args.src, force=args.force)
    restart = (
        "docker compose up -d" if settings.mode == "docker" else "sudo .venv/bin/coursehub local"
    )
    print(
        f"coursehub: restored the {m['mode']} backup of {m['created']} ({', '.join(m['courses'])}; "
        f"{len(m['students'])} student(s), {len(m['homes'])} home(s)) into {settings.data_dir}; "
        f"start the hub now: {restart} (students' servers start at their next login)",
        file=sys.stderr,
    )
    return 0


def cmd_doctor(settings: Settings, args) -> int:
    from .doctor import checks
    from .health import deployment_checks

    results = []
    if args.only in (None, "host"):
        image = args.image or settings.get("COURSEHUB_STUDENT_IMAGE", "coursehub/student:latest")
        results += checks(image)
    if args.only in (None, "deployment"):
        results += deployment_checks(settings, course_for)
    for check in results:
        print(check.line(), flush=True)
    failed = [c for c in results if c.status == "FAIL"]
    print(f"doctor: {len(results) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0


def cmd_datasets(settings: Settings, args) -> int:
    from .datasets import datasets_root, fill_mnist

    dest = Path(args.dest) if args.dest else datasets_root(settings.env)
    written = fill_mnist(dest, Path(args.from_dir), force=args.force)
    say(f"MNIST ready in {dest}/MNIST/raw ({len(written)} file(s) written)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursehub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--course", help="course id (default: the first configured course)")
        return p

    add("local", cmd_local, "run the whole hub on this machine (no Docker), as root")
    p = add("build", cmd_build, "build notebooks from course/source into the course directory")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="ids (default: all)")
    p = add("students", cmd_students, "enrol, list or remove students (hub, group, gradebook)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    one = actions.add_parser("add", help="enrol one student")
    one.add_argument("username")
    one.add_argument("--first-name", default="")
    one.add_argument("--last-name", default="")
    one.add_argument("--email", default="")
    many = actions.add_parser("import", help="enrol every student of a CSV roster")
    many.add_argument("csv", help="CSV with header username[,first_name,last_name,email]")
    actions.add_parser("list", help="enrolled students: hub account, login approval, gradebook")
    gone = actions.add_parser(
        "remove", help="take a student out of the course group, gradebook and hub (files kept)"
    )
    gone.add_argument("username")
    for name, func, text in (
        ("release", cmd_release, "generate the student version and release it"),
        ("collect", cmd_collect, "collect submissions from the exchange"),
        ("autograde", cmd_autograde, "execute and grade collected submissions"),
        ("feedback", cmd_feedback, "generate and release feedback"),
    ):
        p = add(name, func, text)
        p.add_argument("assignment", metavar="ASSIGNMENT")
        if name == "autograde":
            p.add_argument("--student", help="grade only this student")
            p.add_argument("--jobs", type=int, help="sandboxes at once (default: CPU cores)")
            p.add_argument(
                "--sandbox",
                choices=("docker", "bwrap"),
                help="where student code runs (default: docker in docker mode, else bwrap)",
            )
            p.add_argument("--force", action="store_true", help="grade again what was graded")
        if name == "release":
            p.add_argument(
                "--due",
                help="due date with its timezone, e.g. '2027-02-01 23:59 Europe/Berlin'; late "
                "submissions lose points by COURSEHUB_LATE_POLICY at autograde",
            )
    p = add("extension", cmd_extension, "give one student more time for an assignment")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("--hours", metavar="N", help="hours after the assignment's due date")
    p.add_argument("--until", metavar="DATE", help="new due date, e.g. '2027-02-03 12:00 UTC'")
    add("status", cmd_status, "hub up?, running servers, last activity, GPU and disk per student")
    p = add(
        "doctor",
        cmd_doctor,
        "check the host (Docker, compose, NVIDIA runtime, driver) and the running deployment "
        "(hub, proxy, formgraders, metrics, databases, disk, TLS certificate)",
    )
    p.add_argument("--image", help="student image to probe (default: the deployment's)")
    p.add_argument("--only", choices=["host", "deployment"], help="run one half (default: both)")
    p = add("datasets", cmd_datasets, "fill the shared read-only datasets volume (full MNIST)")
    p.add_argument("action", choices=["fill-mnist"])
    p.add_argument(
        "--from", dest="from_dir", required=True, help="folder with the 4 MNIST idx files"
    )
    p.add_argument("--dest", help="datasets root (default: $COURSEHUB_DATASETS or /srv/datasets)")
    p.add_argument("--force", action="store_true", help="replace files already there")
    p = add("export", cmd_export, "export the gradebook as CSV")
    p.add_argument("--output", default="grades.csv", help="CSV file to write (default grades.csv)")
    p.add_argument(
        "--format",
        choices=("nbgrader", "canvas", "moodle"),
        default="nbgrader",
        help="nbgrader's own CSV (default), or a Canvas / Moodle grade import CSV",
    )
    p.add_argument(
        "--id",
        choices=("username", "email"),
        default="username",
        help="how the LMS finds each student: hub username (default) or roster email",
    )
    p = add("report", cmd_report, "write HTML class reports (scores, failing tasks, late, missing)")
    p.add_argument(
        "assignment", nargs="?", metavar="ASSIGNMENT", help="one assignment (default: all)"
    )
    p.add_argument("--output", help="folder to write into (default: <course root>/reports)")
    text = "back up hub state, courses and gradebooks, exchange and homes into one tar"
    p = sub.add_parser("backup", help=text, description=text)
    p.set_defaults(func=cmd_backup)
    p.add_argument(
        "dest", metavar="DEST", help="archive file (.tar, .tar.gz, .tar.xz) or - (stdout)"
    )
    p.add_argument(
        "--compress",
        choices=("none", "gz", "xz"),
        help="compression (default: from DEST's suffix; none for -)",
    )
    text = "restore a coursehub backup into this deployment (the hub stopped)"
    p = sub.add_parser("restore", help=text, description=text)
    p.set_defaults(func=cmd_restore)
    p.add_argument("src", metavar="SRC", help="archive made by coursehub backup, or - (stdin)")
    p.add_argument("--force", action="store_true", help="replace the state already there")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return args.func(settings, args)
    except CoursehubError as exc:
        print(f"coursehub: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so in one line; the traceback is there on request
        if os.environ.get("COURSEHUB_DEBUG"):
            raise
        print(
            f"coursehub: error: unexpected {type(exc).__name__}: {exc} "
            "(set COURSEHUB_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 2
