"""The admin CLI's answers to bad input: one clear line, exit 1, nothing changed."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

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
        "report",
        "extension",
        "status",
    ):
        assert command in out


# --- deadlines, late penalties, status, students list/remove (issue 13 items 5 and 6) ---
# Run in-process through cli.main (the same code path as the console script): the 30-odd
# cases below would otherwise spend minutes starting interpreters on a loaded host.


@pytest.fixture
def run_main(tmp_path, monkeypatch, capsys):
    """``coursehub ARGS`` via cli.main with a private data dir; a CompletedProcess."""
    from coursehub import cli

    monkeypatch.setenv("COURSEHUB_ENV_FILE", "/nonexistent")
    monkeypatch.setenv("COURSEHUB_DATA_DIR", str(tmp_path / "data"))
    # nbgrader's Gradebook runs `alembic` by name: this venv's bin must be on PATH.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")
    for key in ("COURSEHUB_PORT", "COURSEHUB_LATE_POLICY", "COURSEHUB_MODE"):
        monkeypatch.delenv(key, raising=False)

    def run(*args, env_extra=None):
        for key, value in (env_extra or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse: --help or a usage error
            code = exc.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["release", "--help"], ["--due", "Europe/Berlin", "COURSEHUB_LATE_POLICY"]),
        (["extension", "--help"], ["ASSIGNMENT STUDENT", "--hours", "--until"]),
        (["status", "--help"], ["running servers", "GPU and disk"]),
        (["students", "list", "--help"], ["usage: coursehub students list"]),
        (["students", "remove", "--help"], ["usage: coursehub students remove", "username"]),
        (["students", "--help"], ["list", "remove", "(files kept)"]),
    ],
)
def test_new_commands_explain_themselves(run_main, args, fragments):
    proc = run_main(*args)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())  # argparse wraps help text
    for fragment in fragments:
        assert fragment in text, (fragment, proc.stdout)


@pytest.mark.parametrize(
    ("due", "fragment"),
    [
        ("2027-02-01 23:59 Mars/Olympus", "unknown timezone 'Mars/Olympus'"),
        ("2027-02-01 23:59", "is not valid: use 'YYYY-MM-DD HH:MM TIMEZONE'"),
        ("next friday", "due date 'next friday' is not valid"),
        ("2027-02-30 23:59 UTC", "day is out of range for month"),
    ],
)
def test_bad_due_date_gives_one_line_error_before_anything_changes(
    run_main, tmp_path, due, fragment
):
    proc = run_main("release", "00_math_foundations", "--due", due)
    assert_one_line_error(proc, fragment)
    assert not (tmp_path / "data").exists(), "a refused release created the data directory"


@pytest.mark.parametrize("policy", ["per-week:5", "per-hour", "per-day:150", "zero-after:-1", "x"])
def test_bad_late_policy_gives_one_line_error_before_grading(run_main, policy):
    proc = run_main("autograde", "00_math_foundations", env_extra={"COURSEHUB_LATE_POLICY": policy})
    assert_one_line_error(proc, f"late policy {policy!r} is not valid", "per-hour:P")


def test_late_policy_penalties():
    from coursehub.late import parse_policy

    assert parse_policy("none").penalty(8, 10, 7200) == 0
    assert parse_policy("per-hour:10").penalty(8, 10, 0) == 0  # on time
    assert parse_policy("per-hour:10").penalty(8, 10, 1) == pytest.approx(1)  # a started hour
    assert parse_policy("per-hour:10").penalty(8, 10, 3600) == pytest.approx(1)
    assert parse_policy("per-hour:10").penalty(8, 10, 3601) == pytest.approx(2)
    assert parse_policy("per-hour:30").penalty(8, 10, 4 * 3600) == 8  # never below zero
    assert parse_policy("per-day:25").penalty(8, 10, 86400 + 1) == pytest.approx(5)
    assert parse_policy("zero-after:48").penalty(8, 10, 48 * 3600) == 0
    assert parse_policy("zero-after:48").penalty(8, 10, 48 * 3600 + 1) == 8
    assert parse_policy(" Per-Day:2.5 ").describe() == "2.5% of the max score per started day late"


def gradebook_with_assignment(tmp_path, duedate="2027-02-01 22:59:00 UTC"):
    from nbgrader.api import Gradebook

    course = tmp_path / "data" / "courses" / "pytorch101"
    course.mkdir(parents=True)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment("00_math_foundations", duedate=duedate)
        gb.update_or_create_student("alice")


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        ([], "give exactly one of --hours N or --until DATE"),
        (["--hours", "2", "--until", "2027-02-03 12:00 UTC"], "give exactly one of"),
        (["--hours", "two"], "--hours 'two': not a number"),
        (["--hours", "0"], "--hours 0: must be a positive number of hours"),
        (["--until", "2027-02-03 12:00 Nowhere/City"], "unknown timezone 'Nowhere/City'"),
        (["--until", "2027-01-01 12:00 UTC"], "is not after the due date (2027-02-01 22:59:00"),
    ],
)
def test_bad_extension_gives_one_line_error(run_main, tmp_path, flags, fragment):
    gradebook_with_assignment(tmp_path)
    proc = run_main("extension", "00_math_foundations", "alice", *flags)
    assert_one_line_error(proc, fragment)


def test_extension_for_unknown_student_or_assignment_or_without_due_date(run_main, tmp_path):
    proc = run_main("extension", "00_math_foundations", "alice", "--hours", "2")
    assert_one_line_error(proc, "unknown assignment '00_math_foundations': not built")
    gradebook_with_assignment(tmp_path, duedate=None)
    proc = run_main("extension", "00_math_foundations", "bob", "--hours", "2")
    assert_one_line_error(proc, "unknown student 'bob'")
    proc = run_main("extension", "01_tensors", "alice", "--hours", "2")
    assert_one_line_error(proc, "unknown assignment '01_tensors'")
    proc = run_main("extension", "00_math_foundations", "alice", "--hours", "2")
    assert_one_line_error(proc, "has no due date: release it with --due first")


@pytest.mark.parametrize(
    "args", [["status"], ["students", "list"], ["students", "remove", "alice"]]
)
def test_hub_commands_without_a_hub_say_so_in_one_line(run_main, tmp_path, args):
    assert_one_line_error(run_main(*args), "no hub at http://127.0.0.1:8000")
    hub_dir = tmp_path / "data" / "hub"
    hub_dir.mkdir(parents=True, exist_ok=True)
    (hub_dir / "cli-token").write_text("x" * 64)
    proc = run_main(*args, env_extra={"COURSEHUB_PORT": "9"})
    assert_one_line_error(proc, "no hub at http://127.0.0.1:9: hub not running")


def test_students_remove_refuses_an_invalid_name(run_main):
    assert_one_line_error(run_main("students", "remove", "../root"), "username '../root'")


def test_progress_is_plain_lines_when_not_a_terminal():
    from coursehub.progress import Progress

    out = io.StringIO()
    with Progress(out, expected=2) as progress:
        progress.start("00_math_foundations")
        progress.item("00_math_foundations", "built")
        progress.item("01_tensors", "built")
    assert out.getvalue() == (
        "coursehub: [1/2] 00_math_foundations: built\ncoursehub: [2/2] 01_tensors: built\n"
    )
