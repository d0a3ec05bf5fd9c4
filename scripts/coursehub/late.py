"""Due dates, extensions and the late-penalty policy (an nbgrader late-submission plugin)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Unicode, default

from .errors import CoursehubError
from .settings import load_settings

POLICY_SETTING = "COURSEHUB_LATE_POLICY"
POLICY_FORMS = "none, per-hour:P, per-day:P (P = percent of the max score), zero-after:HOURS"
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)\s+(\S+)$")


@dataclass(frozen=True)
class Policy:
    """How much a late submission loses: ``kind`` is none, per-hour, per-day or zero-after."""

    kind: str = "none"
    value: float = 0.0

    def penalty(self, score: float, max_score: float, seconds_late: float) -> float:
        """Points taken off ``score`` for a notebook ``seconds_late`` past its due date."""
        if seconds_late <= 0 or self.kind == "none":
            return 0.0
        if self.kind == "zero-after":
            return score if seconds_late > self.value * 3600 else 0.0
        # Every started hour (day) costs P percent of the notebook's max score.
        unit = 3600 if self.kind == "per-hour" else 86400
        started = math.ceil(seconds_late / unit)
        return min(score, started * self.value / 100 * max_score)

    def describe(self) -> str:
        if self.kind == "none":
            return "no late penalty"
        if self.kind == "zero-after":
            return f"score 0 when more than {self.value:g} h late"
        unit = "hour" if self.kind == "per-hour" else "day"
        return f"{self.value:g}% of the max score per started {unit} late"


def parse_policy(text: str) -> Policy:
    """``none``, ``per-hour:P``, ``per-day:P`` or ``zero-after:HOURS``; else a one-line error."""
    kind, _, number = text.strip().lower().partition(":")
    if kind == "none" and not number:
        return Policy()
    bad = CoursehubError(f"late policy {text!r} is not valid: use {POLICY_FORMS}")
    if kind not in ("per-hour", "per-day", "zero-after"):
        raise bad
    try:
        value = float(number)
    except ValueError:
        raise bad from None
    if not math.isfinite(value) or value < 0 or (kind != "zero-after" and value > 100):
        raise bad
    return Policy(kind, value)


def policy_text(env: dict, course_id: str) -> str:
    """The configured policy: COURSEHUB_LATE_POLICY_<COURSE> over COURSEHUB_LATE_POLICY."""
    return env.get(f"{POLICY_SETTING}_{course_id.upper()}") or env.get(POLICY_SETTING) or "none"


def parse_due(text: str) -> datetime:
    """'2027-02-01 23:59 Europe/Berlin' (or UTC, or +01:00) as an aware datetime."""
    match = _DATE.match(text.strip())
    if not match:
        raise CoursehubError(
            f"due date {text!r} is not valid: use 'YYYY-MM-DD HH:MM TIMEZONE', "
            "e.g. '2027-02-01 23:59 Europe/Berlin'"
        )
    day, clock, zone = match.groups()
    try:
        naive = datetime.fromisoformat(f"{day} {clock}")
    except ValueError as exc:
        raise CoursehubError(f"due date {text!r} is not valid: {exc}") from None
    if re.fullmatch(r"[+-]\d{2}:?\d{2}", zone):
        offset = datetime.strptime(zone.replace(":", ""), "%z").tzinfo
        return naive.replace(tzinfo=offset)
    try:
        return naive.replace(tzinfo=ZoneInfo("UTC" if zone.upper() in ("UTC", "Z") else zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise CoursehubError(
            f"unknown timezone {zone!r} in due date {text!r} (e.g. Europe/Berlin, UTC, +01:00)"
        ) from None


def as_gradebook_utc(when: datetime) -> datetime:
    """nbgrader stores due dates and timestamps as naive UTC."""
    return when.astimezone(UTC).replace(tzinfo=None)


def extension_for(duedate: datetime | None, hours: float | None, until: str | None) -> timedelta:
    """The extension that ``--hours N`` or ``--until DATE`` asks for; a clear error otherwise."""
    if (hours is None) == (until is None):
        raise CoursehubError("give exactly one of --hours N or --until DATE")
    if hours is not None:
        if not math.isfinite(hours) or hours <= 0:
            raise CoursehubError(f"--hours {hours:g}: must be a positive number of hours")
        return timedelta(hours=hours)
    if duedate is None:
        raise CoursehubError("the assignment has no due date: release it with --due first")
    new_due = as_gradebook_utc(parse_due(until))
    if new_due <= duedate:
        raise CoursehubError(f"--until {until!r} is not after the due date ({duedate} UTC)")
    return new_due - duedate


class LatePolicyPlugin(LateSubmissionPlugin):
    """nbgrader's late-penalty hook, applying the course's coursehub late policy."""

    policy = Unicode(help="The late policy: " + POLICY_FORMS).tag(config=True)

    @default("policy")
    def _deployment_policy(self) -> str:
        # The CLI hands its resolved policy down in the environment; the formgrader reads
        # the deployment's settings (.env) as the engine does for GPUs.
        course_id = self.config.CourseDirectory.get("course_id", "") or ""
        return policy_text(load_settings().env, course_id)  # the environment over .env

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        policy = parse_policy(self.policy)
        parent = self.parent  # nbgrader's AssignLatePenalties, inside its gradebook session
        notebook = parent.gradebook.find_submission_notebook(
            parent.notebook_id, parent.assignment_id, student_id
        )
        penalty = policy.penalty(score, notebook.max_score, total_seconds_late)
        self.log.info(
            "%s: %s, %.0f s late: penalty %g",
            student_id,
            policy.describe(),
            total_seconds_late,
            penalty,
        )
        return penalty or None  # None, as nbgrader's own 'none' method records on-time work
