"""Collect: what may enter the course from the exchange's inbound folder, and what may not.

A student writes the inbound folder directly, so two guards run before anything reaches
``submitted/``:

* ownership: a submission must be owned by the uid of the student it claims to be from
  (nbgrader only logs a warning and collects it anyway); a forged one, or an entry that
  is not a real folder (a link), is moved aside whole;
* admission (``coursehub.grading.admission``): nbgrader's copy is replaced by one that
  admits only regular files and folders, never follows a link, and moves what it refuses
  to quarantine with a reason per file; the rest of that submission is still collected.

Reasons are recorded in ``<course>/quarantine/<student>/<assignment>/reasons.txt``
(what the student's feedback quotes) and printed by ``coursehub collect``.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

from coursehub.grading import admission

from .accounts import student_uid
from .database import hub_rows
from .settings import Settings

REFUSED = "REFUSED"  # marks the log lines `coursehub collect` prints


def hub_user_ids(settings: Settings) -> dict[str, int]:
    """Hub user name -> hub user id, read from the hub's own database (read-only)."""
    return dict(hub_rows(settings, "SELECT name, id FROM users", required=True) or [])


def forged_submissions(settings: Settings, course_id: str, assignment_id: str) -> dict[Path, str]:
    """Inbound entry -> why it is not the claimed student's own submission folder."""
    inbound = settings.exchange_root / course_id / "inbound"
    ids = hub_user_ids(settings)
    forged = {}
    for entry in sorted(inbound.glob(f"*+{assignment_id}+*")):
        student = entry.name.split("+", 1)[0]
        st = entry.lstat()  # the entry itself: a link to someone's folder is not one
        name = admission.printable(entry.name)
        if not stat.S_ISDIR(st.st_mode):
            forged[entry] = f"{name}: not a folder (a link or a file)"
        elif student not in ids:
            forged[entry] = f"{name}: no hub user named {student!r}"
        elif st.st_uid != student_uid(settings.uid_base, ids[student]):
            forged[entry] = f"{name}: claims to be from {student} but is owned by uid {st.st_uid}"
    return forged


def quarantine(settings: Settings, course_id: str, entries: dict[Path, str]) -> Path:
    """Move forged submissions out of inbound, into a folder only the grader can read."""
    target = settings.exchange_root / course_id / "quarantine"
    target.mkdir(mode=0o700, exist_ok=True)
    for entry in entries:
        shutil.move(str(entry), target / entry.name)
    return target


class SafeExchangeCollect(ExchangeCollect):
    """nbgrader's collect with its copy replaced by admission (see the module docstring)."""

    def do_copy(self, src, dest, log=None):
        limits = admission.Limits()
        report = admission.admit_copy(Path(src), Path(dest), limits, tuple(self.coursedir.ignore))
        student = Path(src).name.split("+", 1)[0]
        record = admission.reasons_path(self.coursedir.root, student, self.coursedir.assignment_id)
        record.unlink(missing_ok=True)  # a newer submission: the old reasons are void
        if not report.refused:
            return
        where = Path(self.course_path) / "quarantine" / Path(src).name
        admission.quarantine_files(Path(src), report.refused, where)
        admission.write_reasons(record, report.refused)
        for refusal in report.refused:
            self.log.warning("%s %s: %s (moved to %s)", REFUSED, student, refusal.line(), where)


def refuse_submitted(course_root: Path, assignment_id: str, student: str | None) -> list[str]:
    """Admission again on ``submitted/``, for files that reached it some other way.

    Whatever would be refused is moved to ``<course>/quarantine/<student>/<assignment>``
    before nbgrader copies (and follows) anything. Returns one line per refused file.
    """
    lines = []
    for folder in sorted(Path(course_root).glob(f"submitted/{student or '*'}/{assignment_id}")):
        if folder.is_symlink() or not folder.is_dir():
            continue
        name = folder.parent.name
        record = admission.reasons_path(course_root, name, assignment_id)
        refused = admission.refuse_in_place(folder, record.parent)
        if refused:
            admission.write_reasons(record, refused)
            lines += [f"{name}: {r.line()} (moved to {record.parent})" for r in refused]
    return lines
