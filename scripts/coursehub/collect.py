"""Collect guard: a submission must be owned by the uid of the student it claims to be from.

nbgrader only logs a warning when ``alice+01_tensors+...`` is owned by someone else, and
collects it anyway; here such a submission is moved aside and never reaches the gradebook.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from .accounts import student_uid
from .settings import Settings


def hub_user_ids(settings: Settings) -> dict[str, int]:
    """Hub user name -> hub user id, read from the hub's own database (read-only)."""
    db = settings.hub_dir / "jupyterhub.sqlite"
    if not db.is_file():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT name, id FROM users"))


def forged_submissions(settings: Settings, course_id: str, assignment_id: str) -> dict[Path, str]:
    """Inbound submission folder -> why it is not the claimed student's own."""
    inbound = settings.exchange_root / course_id / "inbound"
    ids = hub_user_ids(settings)
    forged = {}
    for entry in sorted(inbound.glob(f"*+{assignment_id}+*")):
        student = entry.name.split("+", 1)[0]
        owner = entry.stat().st_uid
        if student not in ids:
            forged[entry] = f"{entry.name}: no hub user named {student!r}"
        elif owner != student_uid(settings.uid_base, ids[student]):
            forged[entry] = f"{entry.name}: claims to be from {student} but is owned by uid {owner}"
    return forged


def quarantine(settings: Settings, course_id: str, entries: dict[Path, str]) -> Path:
    """Move forged submissions out of inbound, into a folder only the grader can read."""
    target = settings.exchange_root / course_id / "quarantine"
    target.mkdir(mode=0o700, exist_ok=True)
    for entry in entries:
        shutil.move(str(entry), target / entry.name)
    return target
