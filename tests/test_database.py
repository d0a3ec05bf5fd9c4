"""The database settings: refused when wrong, SQLite in local mode, URLs quoted, copies whole.

The real Postgres service is exercised end to end in tests/docker/test_postgres.py.
"""

from __future__ import annotations

import os
import stat
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from coursehub import database
from coursehub.course import Course
from coursehub.errors import CoursehubError
from coursehub.grading.parallel import copy_gradebook
from coursehub.settings import load_settings

DOCKER = {"COURSEHUB_MODE": "docker", "COURSEHUB_NAME": "chx", "COURSEHUB_DATA_DIR": "/srv/x"}


def settings(**env):
    return load_settings({**DOCKER, **env}, dotenv=Path("/nonexistent"))


@pytest.mark.parametrize(
    "env, message",
    [
        ({"COURSEHUB_DATABASE": "mysql"}, "COURSEHUB_DATABASE='mysql': expected one of"),
        ({"COURSEHUB_DATABASE": "postgres"}, "needs COURSEHUB_DB_PASSWORD"),
    ],
)
def test_bad_database_settings_are_refused_in_one_line(env, message):
    with pytest.raises(CoursehubError, match=message):
        settings(**env)


def test_default_and_local_mode_keep_sqlite():
    assert database.hub_db_url(settings()) == "sqlite:////srv/x/hub/jupyterhub.sqlite"
    local = load_settings(
        {"COURSEHUB_MODE": "local", "COURSEHUB_DATABASE": "postgres"}, dotenv=Path("/nonexistent")
    )
    assert local.database == "sqlite" and database.course_db_url(local, "pytorch101") is None


def test_postgres_urls_quote_the_password_and_name_the_service():
    s = settings(COURSEHUB_DATABASE="postgres", COURSEHUB_DB_PASSWORD="a b/c:d@e#f")
    assert "a b/c" not in repr(s)
    assert database.hub_db_url(s) == (
        "postgresql+psycopg2://coursehub:a%20b%2Fc%3Ad%40e%23f@chx-db:5432/jupyterhub"
    )
    assert database.course_db_url(s, "ml_2").endswith("@chx-db:5432/gradebook_ml_2")


def test_course_config_points_nbgrader_at_the_database_privately(tmp_path):
    plain = Course("c1", tmp_path / "plain", tmp_path / "exchange")
    plain.write_config()
    assert "db_url" not in (plain.root / "nbgrader_config.py").read_text()
    url = "postgresql+psycopg2://coursehub:pw@db:5432/gradebook_c1"
    course = Course("c1", tmp_path / "pg", tmp_path / "exchange", db_url=url)
    course.write_config()
    config = course.root / "nbgrader_config.py"
    assert f"c.CourseDirectory.db_url = {url!r}" in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert course.has_gradebook() and course.gradebook_url == url and "pw" not in repr(course)


def test_dry_pass_copy_keeps_every_row(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    # nbgrader runs `alembic` by name when it makes a gradebook.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    source = f"sqlite:///{tmp_path / 'source.db'}"
    with Gradebook(source, "c1") as gb:
        gb.add_assignment("a1", duedate=datetime(2027, 1, 1))
        gb.add_notebook("a1", "a1")
        gb.add_grade_cell("t1", "a1", "a1", max_score=3, cell_type="code")
        gb.add_student("alice", email="a@x.org")
        submission = gb.add_submission("a1", "alice", timestamp=datetime(2026, 12, 1))
        submission.extension = timedelta(hours=5)
        gb.find_grade("t1", "a1", "a1", "alice").auto_score = 2.5
        gb.db.commit()
    copy_gradebook(source, tmp_path / "copy.db")
    with Gradebook(f"sqlite:///{tmp_path / 'copy.db'}", "c1") as gb:
        copied = gb.find_submission("a1", "alice")
        assert (copied.score, copied.max_score, copied.extension) == (2.5, 3, timedelta(hours=5))
        assert gb.find_assignment("a1").duedate == datetime(2027, 1, 1)
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    copy_gradebook(empty, tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists(), "nothing built yet: no copy to make"
