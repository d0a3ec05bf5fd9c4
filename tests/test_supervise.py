"""What the supervisor hands the formgraders it starts."""

from __future__ import annotations

from coursehub.settings import load_settings
from coursehub.supervise import Formgrader, formgrader_env


def test_formgrader_grades_with_the_deployments_settings_but_never_sees_the_admin_password(
    tmp_path,
):
    """In docker mode its engine must pick the docker sandbox, as `coursehub autograde` does."""
    settings = load_settings(
        {
            "COURSEHUB_MODE": "docker",
            "COURSEHUB_DATA_DIR": str(tmp_path),
            "COURSEHUB_GPUS": "none",
            "COURSEHUB_ADMIN_PASSWORD": "instructor-pass-9",
        },
        dotenv=tmp_path / "no.env",
    )
    fg = Formgrader("pytorch101", "http://127.0.0.1:8010", "t0ken", "grader-pytorch101", tmp_path)
    env = formgrader_env(settings, fg)
    assert env["COURSEHUB_MODE"] == "docker" and env["COURSEHUB_GPUS"] == "none"
    assert "COURSEHUB_ADMIN_PASSWORD" not in env
    assert env["JUPYTERHUB_SERVICE_NAME"] == "pytorch101" and env["HOME"] == str(tmp_path)
