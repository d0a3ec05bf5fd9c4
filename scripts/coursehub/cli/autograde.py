"""Grading collected submissions: refuse what cannot be graded, run the rest in sandboxes."""

from __future__ import annotations

import json
import os
import sys

import nbformat

from ..accounts import chown_tree
from ..collect import refuse_submitted
from ..errors import CoursehubError
from ..late import policy_text
from ..location import refuse_untraversable
from ..settings import Settings
from . import common
from .common import known_assignment, late_policy, say


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
    course = common.pick_course(settings, args.course)
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
    """Grade through coursehub.grading (a sandbox per submission, several at once)."""
    from coursehub.grading.backends import SandboxUnavailable
    from coursehub.grading.parallel import GradingRun

    sandbox = args.sandbox or ("docker" if settings.mode == "docker" else "bwrap")
    if sandbox == "bwrap":
        refuse_untraversable()  # the sandbox runs as another account and mounts the venv
    image = settings.student_image
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
        return run.grade()
    except SandboxUnavailable as exc:
        raise CoursehubError(
            f"no {sandbox} sandbox to grade in: {exc}; refusing to run student code unsandboxed"
        ) from None
