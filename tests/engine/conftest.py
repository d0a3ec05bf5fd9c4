"""Fixtures for the grading-engine tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# nbgrader shells out to `alembic` from the environment's bin folder.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

from enginekit import require_bwrap, require_docker  # noqa: E402


@pytest.fixture(params=["bwrap", pytest.param("docker", marks=pytest.mark.docker)])
def sandbox(request):
    """Each backend in turn: bwrap always, docker when an engine is up."""
    if request.param == "docker":
        require_docker()
    else:
        require_bwrap()
    return request.param
