"""coursehub: the one command line for admins and instructors."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import CoursehubError
from ..settings import load_settings
from .admin import cmd_backup, cmd_datasets, cmd_doctor, cmd_local, cmd_restore
from .assignments import (
    cmd_build,
    cmd_collect,
    cmd_export,
    cmd_feedback,
    cmd_release,
    cmd_report,
    cmd_status,
)
from .autograde import cmd_autograde
from .students import cmd_extension, cmd_students


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
