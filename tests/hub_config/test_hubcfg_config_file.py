"""The real jupyterhub_config.py, loaded as JupyterHub loads it: the admin's files run last."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

HUB_CONFIG = Path(__file__).resolve().parents[2] / "hub_config"


@pytest.fixture
def hub_config(tmp_path, monkeypatch):
    """A copy of hub_config without the checkout's own admin files; local mode, tmp data dir."""
    copy = tmp_path / "src" / "hub_config"
    shutil.copytree(HUB_CONFIG, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for admin_file in (copy / "jupyterhub_config.d").glob("*.py"):
        admin_file.unlink()
    for key in [k for k in os.environ if k.startswith("COURSEHUB_")]:
        monkeypatch.delenv(key)
    (tmp_path / "empty.env").write_text("")
    env = {
        "COURSEHUB_ENV_FILE": str(tmp_path / "empty.env"),
        "COURSEHUB_DATA_DIR": str(tmp_path / "data"),
        "COURSEHUB_COURSES": "",  # no grader accounts: nothing outside tmp_path changes
        "COURSEHUB_PROXY_CMD": "/bin/true",
        "COURSEHUB_START_TIMEOUT": "600",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the config file prepends its root
    return copy


def load(folder: Path):
    return PyFileConfigLoader("jupyterhub_config.py", path=str(folder)).load_config()


def test_admin_files_run_last_in_sorted_order_with_settings_in_scope(hub_config):
    extra = hub_config / "jupyterhub_config.d"
    extra.joinpath("50-admin.py").write_text(
        "c.Spawner.start_timeout = 2 * settings.start_timeout\nc.JupyterHub.log_level = 'WARN'\n"
    )
    extra.joinpath("10-first.py").write_text("c.JupyterHub.log_level = 'ERROR'\n")
    extra.joinpath("notes.txt").write_text("c.Spawner.start_timeout = 1\n")  # not *.py
    config = load(hub_config)
    assert config.Spawner.start_timeout == 1200
    assert config.JupyterHub.log_level == "WARN"
    # coursehub's own values are still there.
    assert config.JupyterHub.spawner_class.endswith("LocalCourseSpawner")


def test_without_admin_files_coursehub_values_stand(hub_config):
    config = load(hub_config)
    assert config.Spawner.start_timeout == 600 and config.JupyterHub.log_level == "INFO"


def test_a_raising_admin_file_stops_the_hub_with_one_line_naming_it(hub_config):
    bad = hub_config / "jupyterhub_config.d" / "20-broken.py"
    bad.write_text("c.Spawner.start_timeout = undefined_name\n")
    with pytest.raises(SystemExit) as stopped:
        load(hub_config)
    message = str(stopped.value.code)
    assert message == f"coursehub: {bad}: NameError: name 'undefined_name' is not defined"


def test_admin_files_are_ignored_by_git_and_the_folder_is_mounted_in_docker():
    assert (HUB_CONFIG / "jupyterhub_config.d" / ".gitignore").read_text().splitlines()[
        -1
    ] == "*.py"
    compose = (HUB_CONFIG.parent / "docker-compose.yml").read_text()
    mount = "./hub_config/jupyterhub_config.d:/srv/coursehub/src/hub_config/jupyterhub_config.d:ro"
    assert mount in compose
    dockerfile = (HUB_CONFIG.parent / "docker" / "hub" / "Dockerfile").read_text()
    assert "COPY hub_config /srv/coursehub/src/hub_config" in dockerfile
