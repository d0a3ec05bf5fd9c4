"""The deployment itself: run it locally, back it up and restore it, check it, fill datasets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import CoursehubError
from ..location import refuse_untraversable
from ..settings import Settings
from ..setup import course as course_for
from ..setup import prepare
from ..supervise import Supervisor
from .common import say


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


def cmd_backup(settings: Settings, args) -> int:
    from ..backup import backup, human

    m = backup(settings, args.dest, args.compress)
    where = "stdout" if args.dest == "-" else Path(args.dest).resolve()
    print(
        f"coursehub: backed up {len(m['courses'])} course(s), {len(m['students'])} student(s), "
        f"{len(m['homes'])} home(s), {human(m['sizes']['total'])} of files to {where}",
        file=sys.stderr,
    )
    return 0


def cmd_restore(settings: Settings, args) -> int:
    from ..restore import restore

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
    from ..doctor import checks
    from ..health import deployment_checks

    results = []
    if args.only in (None, "host"):
        image = args.image or settings.student_image
        results += checks(image)
    if args.only in (None, "deployment"):
        results += deployment_checks(settings, course_for)
    for check in results:
        print(check.line(), flush=True)
    failed = [c for c in results if c.status == "FAIL"]
    print(f"doctor: {len(results) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0


def cmd_datasets(settings: Settings, args) -> int:
    from ..datasets import datasets_root, fill_mnist

    dest = Path(args.dest) if args.dest else datasets_root(settings.env)
    written = fill_mnist(dest, Path(args.from_dir), force=args.force)
    say(f"MNIST ready in {dest}/MNIST/raw ({len(written)} file(s) written)")
    return 0
