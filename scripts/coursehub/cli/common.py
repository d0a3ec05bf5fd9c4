"""What every subcommand shares: the one-line output, the course and assignment lookups."""

from __future__ import annotations

import re

from coursehub.progress import Progress

from .. import content
from ..errors import CoursehubError
from ..late import parse_policy, policy_text
from ..settings import Settings
from ..setup import course as course_for


def say(message: str) -> None:
    print(f"coursehub: {message}", flush=True)


# Commands call this as ``common.pick_course`` so a test can swap in its own course here, once.
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


def late_policy(settings: Settings, course):
    """The course's late policy, validated (COURSEHUB_LATE_POLICY[_<COURSE>])."""
    return parse_policy(course.late_policy or policy_text(settings.env, course.course_id))


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
