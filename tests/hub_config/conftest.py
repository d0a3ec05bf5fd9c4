"""hub_config's concerns on a plain traitlets Config (TLJH's apply_mock_config style): no hub."""

from __future__ import annotations

import pytest
from coursehub.settings import load_settings
from traitlets.config import Config


@pytest.fixture
def settings(tmp_path):
    """Factory: Settings from these COURSEHUB_* values alone (an empty .env, a tmp data dir)."""
    dotenv = tmp_path / "empty.env"
    dotenv.write_text("")

    def make(**env):
        base = {"COURSEHUB_DATA_DIR": str(tmp_path / "data"), "COURSEHUB_COURSES": ""}
        return load_settings({**base, **env}, dotenv=dotenv)

    return make


@pytest.fixture
def config():
    """A Config as jupyterhub_config.py hands it to the concerns: the shared lists started."""
    c = Config()
    c.JupyterHub.services = []
    c.JupyterHub.load_roles = []
    return c
