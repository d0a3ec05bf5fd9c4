"""A checkout other accounts cannot traverse is refused at once, in one line, naming the fix."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from coursehub.location import blocking_folder

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def checkouts():
    """A copy of the working tree's scripts in a 0700 folder and in a traversable one.

    A copy, not ``git clone``: a clone would test the last commit, not this code.
    """
    made = []

    def make(mode: int) -> Path:
        base = Path(tempfile.mkdtemp(prefix="coursehub-location-"))
        base.chmod(mode)
        made.append(base)
        checkout = base / "checkout"
        shutil.copytree(
            REPO / "scripts", checkout / "scripts", ignore=shutil.ignore_patterns("__pycache__")
        )
        return checkout

    yield make
    for base in made:
        shutil.rmtree(base)


def bootstrap(checkout: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """scripts/bootstrap with nothing it could install with, should it get past the check.

    PATH holds only what the check uses and the Python is /bin/false: past the check it
    fails at once (no pip) instead of creating a venv or calling apt.
    """
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    for tool in ("stat", "dirname"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to(shutil.which(tool))
    env = {"PATH": str(tools), "COURSEHUB_PYTHON": "/bin/false", "HOME": str(tmp_path)}
    return subprocess.run(
        ["/bin/bash", str(checkout / "scripts" / "bootstrap")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_bootstrap_refuses_a_checkout_in_a_private_folder(checkouts, tmp_path):
    checkout = checkouts(0o700)
    result = bootstrap(checkout, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line == (
        f"bootstrap: error: {checkout.parent} is not traversable by other accounts, so "
        f"students' servers and the grading sandbox cannot reach {checkout}/.venv: "
        f"run `chmod o+x {checkout.parent}` or clone under /srv or /opt"
    )


def test_bootstrap_gets_past_the_check_in_a_traversable_folder(checkouts, tmp_path):
    result = bootstrap(checkouts(0o755), tmp_path)
    assert "not traversable" not in result.stderr
    # It went on to install uv, which this PATH cannot: proof the check let it through.
    assert result.returncode == 127 and "pip: command not found" in result.stderr, result.stderr


def test_blocking_folder_names_the_folder_nearest_the_root(checkouts):
    private = checkouts(0o700)
    (private / "inner").mkdir(mode=0o700)
    assert blocking_folder(private / "inner") == private.parent
    assert blocking_folder(checkouts(0o755)) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="coursehub local refuses non-root first")
def test_coursehub_local_refuses_a_checkout_in_a_private_folder(checkouts):
    checkout = checkouts(0o700)
    env = {**os.environ, "PYTHONPATH": str(checkout / "scripts"), "COURSEHUB_ENV_FILE": "/dev/null"}
    env.pop("COURSEHUB_REPO", None)  # the copy must find itself
    env["COURSEHUB_DATA_DIR"] = str(checkout.parent / "data")
    result = subprocess.run(
        [sys.executable, "-m", "coursehub", "local"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line == (
        f"coursehub: error: {checkout.parent} is not traversable by other accounts, so "
        f"students' servers and the grading sandbox cannot reach {checkout}: "
        f"run `chmod o+x {checkout.parent}` or clone under /srv or /opt"
    )
    assert not (checkout.parent / "data").exists(), "it prepared the data directory first"
