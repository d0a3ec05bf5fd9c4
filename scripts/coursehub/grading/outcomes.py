"""What grading a submission came to: its outcome, the run's summary, and their wording."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..progress import Progress as _Progress
from . import sandbox_execute as sx
from .backends import RunResult

STATUS_TEXT = {
    "ok": "graded",
    "timeout": "graded (time limit exceeded)",
    "unresponsive": "graded (time limit exceeded)",
    "oom": "graded (memory limit exceeded)",
    "died": "graded (the kernel died)",
    "sandbox": "graded (the sandbox died)",
    "refused": "graded (not runnable)",
    "tampering": "graded (tampering detected)",
    "failfast": "graded (stopped at the first failed test)",
    "infra": "FAILED (infrastructure; not graded)",
}


@dataclass
class Outcome:
    student: str
    notebook: str
    status: str
    detail: str = ""
    wall_seconds: float = 0.0
    exec_seconds: float = 0.0
    attempts: int = 1
    prelude_seconds: float = 0.0


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    total_seconds: float = 0.0
    nbgrader_failed: str = ""
    # student -> why nbgrader did not grade them (other than a sandbox failure)
    nbgrader_errors: dict[str, str] = field(default_factory=dict)
    # student -> why their submission was refused before grading (set by the caller)
    not_gradable: dict[str, str] = field(default_factory=dict)
    jobs: int = 1
    sandbox: str = ""

    def count(self, *statuses: str) -> int:
        return sum(o.status in statuses for o in self.outcomes)

    @property
    def infra_failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "infra"]

    def ungraded(self) -> dict[str, str]:
        """Every student left without a grade, with the reason (infrastructure included)."""
        out = {**self.not_gradable, **self.nbgrader_errors}
        for o in self.infra_failures:
            out[o.student] = f"{o.detail} (infrastructure; run again)"
        return out

    def line(self) -> str:
        infra = {o.student for o in self.infra_failures}
        errors = [s for s in self.nbgrader_errors if s not in infra]
        graded = len({o.student for o in self.outcomes} - infra - set(errors))
        parts = [f"{graded} graded"]
        for label, statuses in (
            ("timed out", ("timeout", "unresponsive")),
            ("over the memory limit", ("oom",)),
            ("kernel died", ("died", "sandbox")),
            ("tampering detected", ("tampering",)),
            ("not runnable", ("refused",)),
        ):
            n = self.count(*statuses)
            if n:
                parts.append(f"{n} {label}")
        if self.not_gradable:
            parts.append(f"{len(self.not_gradable)} not gradable (refused submission)")
        if errors:
            parts.append(f"{len(errors)} not graded (nbgrader error)")
        parts.append(f"{self.count('infra')} failed (infrastructure)")
        return (
            f"{', '.join(parts)} in {self.total_seconds:.1f} s "
            f"({self.jobs} {self.sandbox} sandbox{'es' if self.jobs != 1 else ''} at once)"
        )


class Progress(_Progress):
    """The shared CLI progress line, with a grading outcome's wording per submission."""

    def finish(self, name: str, outcome: Outcome) -> None:
        text = STATUS_TEXT.get(outcome.status, outcome.status)
        detail = f": {outcome.detail}" if outcome.detail and outcome.status != "ok" else ""
        self.item(name, f"{text}{detail} ({outcome.wall_seconds:.1f} s)")


def outcome_from(record: dict, student: str, notebook: str, settings: dict) -> Outcome:
    """The outcome of one stored sandbox record, worded with the limits it ran under."""
    result = RunResult.from_json(record["result"])
    attempts = record.get("attempts", 1)
    if result.infra_error:
        return Outcome(
            student, notebook, "infra", result.infra_error, result.wall_seconds, 0.0, attempts
        )
    failure = result.failure(sx.Limits(**settings["limits"]))
    tamper = result.event("tamper")
    status = failure["reason"] if failure else ("tampering" if tamper else "ok")
    detail = ""
    if failure:
        detail = failure.get("detail") or {
            "timeout": f"time limit of {settings['limits']['wall_timeout']} s",
            "oom": f"memory limit of {sx.Limits(**settings['limits']).describe_memory()}",
        }.get(status, "")
    elif tamper:
        detail = "; ".join(tamper.get("what") or [])[:200]
    return Outcome(
        student,
        notebook,
        status,
        detail,
        result.wall_seconds,
        result.exec_seconds,
        attempts,
        result.prelude_seconds,
    )


def last_error(stderr: str) -> str:
    """The line of an nbgrader log that says best why it failed."""
    lines = [ln.strip() for ln in (stderr or "").splitlines() if ln.strip()]
    errors = [ln for ln in lines if "[ERROR]" in ln or "Error" in ln]
    return (errors or lines or ["no output"])[-1]


_FAILED_AT = re.compile(r"There was an error processing assignment: (\S+)")
_FAILED_FOR = re.compile(r"error processing assignment '[^']*' for student '([^']*)'")
_EXCEPTION = re.compile(r"^(\w+\.)*\w*(Error|Exception|Exit)\b.*:")


def nbgrader_errors(stderr: str) -> dict[str, str]:
    """Student -> the exception nbgrader logged for them (it grades the others and exits 1)."""
    reasons: dict[str, str] = {}
    current, last = None, ""
    for line in (stderr or "").splitlines():
        at = _FAILED_AT.search(line)
        if at:
            if current:
                reasons[current] = last
            current, last = Path(at.group(1)).parent.name, ""
        elif current and _EXCEPTION.match(line.strip()):
            last = line.strip()
        who = _FAILED_FOR.search(line)
        if who:
            if current:
                reasons[current] = last
                current = None
            reasons.setdefault(who.group(1), "")
    unknown = "nbgrader could not process it (see the nbgrader log)"
    return {student: reason or unknown for student, reason in reasons.items()}
