"""`coursehub status` and `coursehub students list/remove` against a real hub."""

from __future__ import annotations

import pytest
from hubkit import Browser, wait_for

pytestmark = pytest.mark.slow


def row(output: str, name: str) -> list[str]:
    """The whitespace-separated cells of ``name``'s row in a table the CLI printed."""
    rows = [line for line in output.splitlines() if line.split()[:1] == [name]]
    assert len(rows) == 1, output
    return rows[0].split("  ")  # columns are separated by at least two spaces


def cells(output: str, name: str) -> list[str]:
    return [c.strip() for c in row(output, name) if c.strip()]


@pytest.fixture(scope="module")
def enrolled(hub):
    """carol signs up from the roster and never starts a server; dave never signs up, runs one."""
    hub.cli("students", "add", "carol", "--first-name=Carol")
    hub.cli("students", "add", "dave")
    Browser(hub).signup("carol", "carol-secret-4242")
    started = hub.api("POST", "/users/dave/server")
    assert started.status_code in (201, 202), started.text
    wait_for(
        lambda: hub.api("GET", "/users/dave").json()["servers"].get("", {}).get("ready"),
        "dave's server",
        timeout=180,
    )
    home = hub.data_dir / "home" / "dave"
    (home / "work.bin").write_bytes(b"x" * 3 * 1024 * 1024)
    return hub


def test_status_shows_servers_activity_gpu_and_disk(enrolled):
    out = enrolled.cli("status").stdout
    assert "up (JupyterHub 6." in out, out
    assert "2 student account(s), 1 server(s) running" in out, out
    name, server, activity, gpu, disk = cells(out, "dave")
    assert (server, gpu) == ("running", "-"), out
    assert activity.endswith(" UTC") and activity.startswith("20"), out
    assert disk.endswith(" MB") and float(disk.split()[0]) >= 3.0, out  # his 3 MB file
    assert cells(out, "carol")[1] == "stopped" and cells(out, "carol")[4] == "n/a", out


def test_students_list_shows_hub_account_approval_and_gradebook(enrolled):
    out = enrolled.cli("students", "list").stdout
    assert cells(out, "carol") == ["carol", "yes", "approved (roster)", "yes", "yes"], out
    assert cells(out, "dave") == ["dave", "yes", "not signed up", "yes", "yes"], out


def test_students_remove_refuses_unknown_names(enrolled):
    proc = enrolled.cli("students", "remove", "zed", check=False)
    assert proc.returncode == 1, proc
    assert proc.stderr.strip() == (
        "coursehub: error: unknown student 'zed': not enrolled in pytorch101"
    ), proc.stderr


def test_students_remove_takes_a_student_out_everywhere_but_keeps_files(enrolled):
    out = enrolled.cli("students", "remove", "dave").stdout
    for fragment in (
        "dave: removed from the hub group nbgrader-pytorch101",
        "dave: removed from the gradebook",
        "dave: hub account deleted",
        "dave: their files were not deleted",
    ):
        assert fragment in out, out
    assert enrolled.api("GET", "/users/dave").status_code == 404
    assert "dave" not in enrolled.api("GET", "/groups/nbgrader-pytorch101").json()["users"]
    listed = enrolled.cli("students", "list").stdout
    assert "dave" not in listed and "carol" in listed, listed  # gone from the gradebook too
    assert (enrolled.data_dir / "home" / "dave" / "work.bin").stat().st_size == 3 * 1024 * 1024
    assert "dave" not in enrolled.cli("status").stdout
