"""Prepare the data directory: hub state, courses, exchange, and the CLI's hub token."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from .accounts import ensure_system_user
from .course import Course
from .database import course_db_url, prepare_postgres
from .settings import Settings


def course(settings: Settings, course_id: str) -> Course:
    return Course(
        course_id=course_id,
        root=settings.course_dir(course_id),
        exchange_root=settings.exchange_root,
        grader_user=settings.grader_user(course_id),
        db_url=course_db_url(settings, course_id),
    )


def cli_token_path(settings: Settings) -> Path:
    return settings.hub_dir / "cli-token"


def read_or_create_token(path: Path) -> str:
    """A secret shared by the hub (as a service token) and the admin CLI; root-only."""
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def prepare(settings: Settings) -> None:
    """Create directories and grader accounts with the permissions the security model needs."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.chmod(0o755)
    settings.hub_dir.mkdir(exist_ok=True)
    settings.hub_dir.chmod(0o700)  # hub database, cookie secret, CLI token
    for public in (settings.course_root, settings.home_root):
        public.mkdir(exist_ok=True)
        public.chmod(0o755)  # traversable; each course dir and home inside is private
    settings.exchange_root.mkdir(exist_ok=True)
    # nbgrader's exchange root must be world-writable; per-course folders inside get
    # nbgrader's own modes (inbound is write-only for students).
    settings.exchange_root.chmod(0o1777)
    read_or_create_token(cli_token_path(settings))
    prepare_postgres(settings)  # waits for the db service; a no-op with SQLite
    for course_id in settings.courses:
        c = course(settings, course_id)
        ensure_system_user(c.grader_user, c.root)
        c.write_config()
        shutil.chown(c.root / "nbgrader_config.py", c.grader_user, c.grader_user)
        # The grader's before any student's: the exchange root is world-writable.
        exchange = c.exchange_root / course_id
        exchange.mkdir(mode=0o755, exist_ok=True)
        if not exchange.is_symlink():
            shutil.chown(exchange, c.grader_user, c.grader_user)
        c.check_exchange()
