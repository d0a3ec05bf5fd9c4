"""Class rosters: a CSV of students, validated whole before anything changes."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CoursehubError

USERNAME = re.compile(r"^[a-z][a-z0-9_-]{1,28}$")
COLUMNS = ("username", "first_name", "last_name", "email")


@dataclass(frozen=True)
class Student:
    username: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""


def check_username(name: str, where: str = "") -> str:
    if not USERNAME.match(name):
        raise CoursehubError(
            f"{where}username {name!r} is not valid: use 2-29 lower-case letters, digits, - or _,"
            " starting with a letter"
        )
    return name


def read_roster(path: Path) -> list[Student]:
    """All rows, or a CoursehubError naming the first bad line (nothing is applied before)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CoursehubError(f"cannot read roster {path}: {exc}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [h.strip().lower() for h in rows[0]][:1] != ["username"]:
        raise CoursehubError(
            f"{path}:1: header must start with 'username' (columns: {', '.join(COLUMNS)})"
        )
    header = [h.strip().lower() for h in rows[0]]
    unknown = set(header) - set(COLUMNS)
    if unknown:
        raise CoursehubError(
            f"{path}:1: unknown column(s) {sorted(unknown)}; allowed: {', '.join(COLUMNS)}"
        )
    students, seen = [], set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise CoursehubError(f"{path}:{number}: expected {len(header)} fields, got {len(row)}")
        fields = {k: v.strip() for k, v in zip(header, row, strict=True)}
        name = check_username(fields["username"], f"{path}:{number}: ")
        if name in seen:
            raise CoursehubError(f"{path}:{number}: username {name!r} appears twice")
        email = fields.get("email", "")
        if email and "@" not in email:
            raise CoursehubError(f"{path}:{number}: email {email!r} has no @")
        seen.add(name)
        students.append(Student(**fields))
    if not students:
        raise CoursehubError(f"{path}: no students in roster")
    return students
