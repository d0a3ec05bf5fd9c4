"""The admin CLI's answers to bad input: one clear line, exit 1, nothing changed."""

from __future__ import annotations

import subprocess
import sys

import pytest
from coursehub.errors import CoursehubError
from coursehub.roster import read_roster
from coursehub.settings import load_settings, read_dotenv


def coursehub(*args, env_extra=None, tmp_path=None):
    env = {"PATH": "/usr/bin:/bin", "COURSEHUB_ENV_FILE": "/nonexistent"}
    if tmp_path is not None:
        env["COURSEHUB_DATA_DIR"] = str(tmp_path / "data")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "coursehub", *args], capture_output=True, text=True, env=env
    )


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coursehub: error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def test_unknown_assignment_id_gives_one_line_error(tmp_path):
    proc = coursehub("release", "99_nope", tmp_path=tmp_path)
    assert_one_line_error(proc, "unknown assignment '99_nope'", "01_tensors")
    assert not (tmp_path / "data").exists(), "a refused command created the data directory"


def test_malformed_assignment_id_gives_one_line_error(tmp_path):
    assert_one_line_error(
        coursehub("collect", "../../etc", tmp_path=tmp_path), "invalid assignment id"
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name,email\nalice,a@x.org\n", ":1: header must start with 'username'"),
        (
            "username,email\nalice,a@x.org\nBob Smith,b@x.org\n",
            ":3: username 'Bob Smith' is not valid",
        ),
        ("username,email\nalice,a@x.org,extra\n", ":2: expected 2 fields, got 3"),
        ("username\nalice\nalice\n", ":3: username 'alice' appears twice"),
        ("username,email\nalice,not-an-address\n", ":2: email 'not-an-address' has no @"),
        ("username,shoe_size\nalice,42\n", ":1: unknown column(s) ['shoe_size']"),
        ("username\n", "no students in roster"),
    ],
)
def test_malformed_roster_gives_one_line_error_naming_the_line(tmp_path, text, fragment):
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    assert_one_line_error(coursehub("students", "import", str(roster), tmp_path=tmp_path), fragment)


def test_roster_with_bom_and_blank_lines_is_read():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.csv"
        path.write_text("\ufeffusername,first_name\nalice,Alice\n\nbob,Bob\n", encoding="utf-8")
        assert [s.username for s in read_roster(path)] == ["alice", "bob"]


def test_enrolling_when_hub_not_running_says_so(tmp_path):
    hub_dir = tmp_path / "data" / "hub"
    hub_dir.mkdir(parents=True)
    (hub_dir / "cli-token").write_text("x" * 64)
    proc = coursehub(
        "students", "add", "alice", tmp_path=tmp_path, env_extra={"COURSEHUB_PORT": "9"}
    )
    assert_one_line_error(proc, "hub not running")


def test_bad_settings_are_refused_with_the_variable_name(tmp_path):
    with pytest.raises(CoursehubError, match="COURSEHUB_MODE='cloud'"):
        load_settings({"COURSEHUB_MODE": "cloud"}, dotenv=tmp_path / "none")
    with pytest.raises(CoursehubError, match="course id 'Py Torch'"):
        load_settings({"COURSEHUB_COURSES": "Py Torch"}, dotenv=tmp_path / "none")
    dotenv = tmp_path / ".env"
    dotenv.write_text("COURSEHUB_PORT=8000\nthis is not a setting\n")
    with pytest.raises(CoursehubError, match=r"\.env:2: expected KEY=VALUE"):
        read_dotenv(dotenv)


def test_dotenv_values_apply_and_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nCOURSEHUB_PORT='9000'\nCOURSEHUB_COURSES=a_1, b_2\n")
    settings = load_settings({"COURSEHUB_PORT": "9100"}, dotenv=dotenv)
    assert settings.port == 9100 and settings.courses == ("a_1", "b_2")


def test_help_lists_every_subcommand():
    out = coursehub("--help").stdout
    for command in (
        "local",
        "build",
        "students",
        "release",
        "collect",
        "autograde",
        "feedback",
        "export",
    ):
        assert command in out
