"""Helpers for the grading-engine tests: which sandboxes exist, hashes, leftovers."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

STUDENT_IMAGE = os.environ.get("COURSEHUB_TEST_STUDENT_IMAGE", "coursehub/student:test")


def docker_engine_problem() -> str | None:
    """None when the Docker engine answers, else why not."""
    if shutil.which("docker") is None:
        return "no docker command"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        return "the Docker engine is not reachable"
    return None


def require_docker() -> None:
    """Skip only when no engine is reachable and COURSEHUB_REQUIRE_DOCKER is unset."""
    why = docker_engine_problem()
    if why is not None:
        if os.environ.get("COURSEHUB_REQUIRE_DOCKER"):
            pytest.fail(f"COURSEHUB_REQUIRE_DOCKER is set but {why}")
        pytest.skip(why)
    image = subprocess.run(["docker", "image", "inspect", STUDENT_IMAGE], capture_output=True)
    if image.returncode != 0:
        pytest.fail(
            f"the student image {STUDENT_IMAGE} is not built: docker build -t {STUDENT_IMAGE} "
            "-f docker/student/Dockerfile . (or set COURSEHUB_TEST_STUDENT_IMAGE)"
        )


def require_bwrap() -> None:
    from coursehub.grading.backends import BwrapBackend, Limits, SandboxUnavailable

    try:
        BwrapBackend(Limits()).check()
    except SandboxUnavailable as exc:
        pytest.fail(f"bubblewrap is needed for the grading tests: {exc}")


def tree_hashes(root: Path, skip: tuple[str, ...]) -> dict[str, str]:
    """sha256 of every file under root (links not followed), except paths in ``skip``."""
    out = {}
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink() and not rel.startswith(skip):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


GRADE_TABLES = {"submitted_assignment", "submitted_notebook", "grade", "comment"}


def gradebook_fingerprint(path: Path) -> dict[str, str]:
    """A hash per gradebook table, except the ones autograding is meant to write."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {}
        for table in sorted(set(tables) - GRADE_TABLES):
            rows = sorted(repr(r) for r in con.execute(f'SELECT * FROM "{table}"'))
            out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def leftover_sandboxes(owner: str) -> list[str]:
    """Processes or containers left behind by sandboxes started with this owner label
    (backends.OWNER_ENV; other people's grading on the same machine is not ours)."""
    found = []
    marker = f"COURSEHUB_SANDBOX_OWNER={owner}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append(f"{proc.name}: {(proc / 'cmdline').read_bytes()[:120]!r}")
        except OSError:
            continue
    if shutil.which("docker"):
        ls = subprocess.run(
            ["docker", "ps", "-a", "-q", "--filter", f"label=coursehub.owner={owner}"],
            capture_output=True,
            text=True,
        )
        found += [f"container {c}" for c in ls.stdout.split()]
    return found
