"""coursehub: the one command line for admins and instructors."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import nbformat

from . import content
from .accounts import chown_tree
from .collect import REFUSED, forged_submissions, quarantine, refuse_submitted
from .errors import CoursehubError
from .paths import REPO_ROOT
from .roster import Student, check_username, read_roster
from .settings import Settings, load_settings
from .setup import course as course_for
from .setup import prepare

HUB_CONFIG = REPO_ROOT / "hub_config" / "jupyterhub_config.py"


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
    prepare(settings)
    say(
        f"starting JupyterHub on http://{settings.ip}:{settings.port} (data in {settings.data_dir})"
    )
    env = {**os.environ, "COURSEHUB_MODE": "local"}
    jupyterhub = shutil.which("jupyterhub", path=str(Path(sys.executable).parent)) or "jupyterhub"
    os.execve(jupyterhub, [jupyterhub, "-f", str(HUB_CONFIG)], env)
    return 0  # not reached


def cmd_build(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
    ids = args.assignments or content.list_assignments()
    for assignment_id in ids:
        content.source_path(assignment_id)  # validate every id before building any
    for assignment_id in ids:
        path = content.build(assignment_id, course.root)
        if course.grader_user and os.geteuid() == 0:
            chown_tree(course.root / "source", course.grader_user)
        nb = nbformat.read(path, as_version=4)
        course.nbgrader("db", "assignment", "add", assignment_id)
        say(f"built {assignment_id}: {len(nb.cells)} cells, {content.total_points(nb):g} points")
    return 0


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
    if not (course.root / "source" / assignment_id).is_dir():
        cmd_build(
            settings, argparse.Namespace(course=course.course_id, assignments=[assignment_id])
        )
    course.check_exchange()
    say(f"generating the student version of {assignment_id}")
    course.nbgrader("generate_assignment", assignment_id, "--force")
    say(f"releasing {assignment_id} to the exchange")
    course.nbgrader("release_assignment", assignment_id, "--force")
    say(f"released {assignment_id}")
    return 0


def cmd_collect(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
    assignment_id = known_assignment(course, args.assignment)
    course.check_exchange()
    forged = forged_submissions(settings, course.course_id, assignment_id)
    if forged:
        where = quarantine(settings, course.course_id, forged)
        for reason in forged.values():
            print(f"coursehub: refused: {reason} (moved to {where})", file=sys.stderr)
    proc = course.nbgrader("collect", assignment_id, "--update")
    for line in proc.stderr.splitlines():
        if f" {REFUSED} " in line:
            print(f"coursehub: refused: {line.split(f' {REFUSED} ', 1)[1]}", file=sys.stderr)
    students = sorted(p.parent.name for p in course.root.glob(f"submitted/*/{assignment_id}"))
    say(f"collected {assignment_id}: {len(students)} submission(s)")
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
    summary = sandboxed_autograde(settings, course, assignment_id, extra, args)
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


def sandboxed_autograde(settings: Settings, course, assignment_id: str, extra, args):
    """Grade through autograders.engine (a sandbox per submission, several at once)."""
    from autograders.engine.backends import SandboxUnavailable
    from autograders.engine.parallel import GradingRun

    sandbox = args.sandbox or ("docker" if settings.mode == "docker" else "bwrap")
    image = settings.get("COURSEHUB_STUDENT_IMAGE", "coursehub/student:latest")
    run = GradingRun(
        course, assignment_id, extra, jobs=args.jobs, sandbox=sandbox, image=image, force=args.force
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
    course.nbgrader("generate_feedback", assignment_id, "--force")
    bad = unreleasable_feedback(course, assignment_id)
    exclude = ["--CourseDirectory.student_id_exclude=" + ",".join(sorted(bad))] if bad else []
    course.nbgrader("release_feedback", assignment_id, *exclude)
    for student, reason in sorted(bad.items()):
        print(f"coursehub: feedback not released: {student}: {reason}", file=sys.stderr)
    say(f"feedback for {assignment_id} released; students fetch it from the Assignments tab")
    return 1 if bad else 0


def cmd_export(settings: Settings, args) -> int:
    course = pick_course(settings, args.course)
    target = Path(args.output).resolve()
    if not target.parent.is_dir():
        raise CoursehubError(f"cannot write {target}: folder {target.parent} does not exist")
    staged = course.root / "grades-export.csv"  # the grader account can write only here
    course.nbgrader("export", f"--to={staged}")
    shutil.copyfile(staged, target)
    staged.unlink()
    rows = max(0, len(target.read_text().splitlines()) - 1)
    say(f"exported {rows} grade row(s) to {target}")
    return 0


def cmd_doctor(settings: Settings, args) -> int:
    from .doctor import checks

    results = checks(
        args.image or settings.get("COURSEHUB_STUDENT_IMAGE", "coursehub/student:latest")
    )
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
    p = add("students", cmd_students, "enrol students (hub account + course group + gradebook)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    one = actions.add_parser("add", help="enrol one student")
    one.add_argument("username")
    one.add_argument("--first-name", default="")
    one.add_argument("--last-name", default="")
    one.add_argument("--email", default="")
    many = actions.add_parser("import", help="enrol every student of a CSV roster")
    many.add_argument("csv", help="CSV with header username[,first_name,last_name,email]")
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
    p = add("doctor", cmd_doctor, "check this host: Docker, compose, NVIDIA runtime, driver, disk")
    p.add_argument("--image", help="student image to probe (default: the deployment's)")
    p = add("datasets", cmd_datasets, "fill the shared read-only datasets volume (full MNIST)")
    p.add_argument("action", choices=["fill-mnist"])
    p.add_argument(
        "--from", dest="from_dir", required=True, help="folder with the 4 MNIST idx files"
    )
    p.add_argument("--dest", help="datasets root (default: $COURSEHUB_DATASETS or /srv/datasets)")
    p.add_argument("--force", action="store_true", help="replace files already there")
    p = add("export", cmd_export, "export the gradebook as CSV")
    p.add_argument("--output", default="grades.csv", help="CSV file to write (default grades.csv)")
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
