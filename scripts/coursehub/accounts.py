"""System accounts: each student and each course's grader gets its own stable uid."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from .errors import CoursehubError


def student_uid(uid_base: int, hub_user_id: int) -> int:
    """The uid a student's processes run as, in local and docker mode alike."""
    return uid_base + hub_user_id


def ensure_system_user(name: str, home: Path, uid: int | None = None) -> pwd.struct_passwd:
    """Create ``name`` with a private home unless it exists; return its passwd entry."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if os.geteuid() != 0:
            raise CoursehubError(f"cannot create system user {name!r}: run as root") from None
        cmd = ["useradd", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group"]
        if uid is not None:
            cmd += ["--uid", str(uid)]
        _run([*cmd, name], f"useradd {name}")
        entry = pwd.getpwnam(name)
    if Path(entry.pw_dir) != Path(home):
        # The data directory moved (or was recreated): follow it, or the old home gets the keys.
        _run(["usermod", "--home", str(home), name], f"usermod {name}")
        entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    home.mkdir(parents=True, exist_ok=True)
    # A home others can list would leak work in progress between students.
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    return entry


def chown_tree(path: Path, user: str) -> None:
    """Give ``path`` and everything under it to ``user`` (files written by root for them)."""
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CoursehubError(f"{what} failed: {proc.stderr.strip()}")
