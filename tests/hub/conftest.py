"""A real hub (JupyterHub + configurable-http-proxy + nbgrader) per test module."""

from __future__ import annotations

import os

import pytest
from hubkit import LocalHub


@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0:
        pytest.skip("local mode runs students as their own system accounts: needs root")
    local = LocalHub()
    try:
        yield local.start()
    finally:
        print(f"--- hub log tail ({local.log_path}) ---\n{local.log_tail()}")
        local.stop()
