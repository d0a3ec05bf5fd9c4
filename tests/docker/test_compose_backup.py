"""Backup a graded class from the docker deployment, destroy it, restore into a fresh one.

The documented commands, run for real: `compose exec -T hub coursehub backup - > FILE`,
then (after ComposeHub.destroy removed containers, volumes and network) `compose run --rm -T
hub coursehub restore - < FILE` on the new, empty deployment of the same name, `up -d`.
"""

from __future__ import annotations

import tarfile
import time

import nbformat
import pytest
from composekit import ComposeHub, deployed, enrol_and_sign_up
from hubkit import ASSIGNMENT, COURSE, Browser, fetch_and_submit, spawn

pytestmark = [pytest.mark.docker, pytest.mark.slow]
PASSWORDS = {"alice": "alice-secret-42", "bob": "bob-secret-4242"}
HOME_FILE = "/home/jovyan/kept-by-backup.txt"


@pytest.fixture(scope="module")
def stack():
    with deployed(ComposeHub()) as hub:
        yield hub


def timed(what: str, started: float) -> None:
    print(f"{what}: {time.monotonic() - started:.1f} s")


@pytest.fixture(scope="module")
def graded(stack):
    """A graded class: roster, release, alice submits the reference, bob the untouched one."""
    browsers = enrol_and_sign_up(stack, PASSWORDS)
    for name, browser in browsers.items():
        spawn(stack, browser, name)
    stack.cli("release", ASSIGNMENT)
    source = f"/srv/coursehub/courses/{COURSE}/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    reference = nbformat.reads(stack.hub_exec("cat", source).stdout, as_version=4)
    fetch_and_submit(browsers["alice"], "alice", answer=reference)
    fetch_and_submit(browsers["bob"], "bob", answer=None)
    stack.cli("collect", ASSIGNMENT)
    started = time.monotonic()
    stack.cli("autograde", ASSIGNMENT)
    timed("autograde", started)
    wrote = stack.exec_as(
        "alice",
        "sh",
        "-c",
        f"echo 'my own words' > {HOME_FILE} && ln -s /etc/shadow ~/shadow && mkfifo ~/pipe",
    )
    assert wrote.returncode == 0, wrote.stderr
    return {
        "grades": stack.export_grades(),
        "uid": stack.uid_of("alice"),
        "volumes": stack.volumes(),
    }


@pytest.fixture(scope="module")
def restored(stack, graded, tmp_path_factory):
    """Backup to a host file, destroy everything, restore into a fresh deployment."""
    archive = tmp_path_factory.mktemp("backup") / "class.tar"
    started = time.monotonic()
    made = stack.backup(archive)
    timed(f"backup ({archive.stat().st_size} bytes)", started)
    log = made.stderr
    assert made.returncode == 0, log
    # While the hub runs, restore refuses in one line and says how to do it instead.
    refused = stack.cli("restore", "-", check=False)
    assert refused.returncode == 1 and "docker compose stop hub" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    stack.destroy()
    assert stack.volumes() == []
    started = time.monotonic()
    back = stack.restore(archive)
    timed("restore into the fresh deployment", started)
    assert back.returncode == 0, back.stdout + back.stderr
    assert "start the hub now: docker compose up -d" in back.stderr
    stack.up(build=False)
    return {"archive": archive, "backup_log": log, "restore_log": back.stderr}


def test_backup_holds_every_part_and_a_manifest(restored, graded):
    with tarfile.open(restored["archive"]) as tar:
        names = tar.getnames()
        manifest = tar.extractfile("manifest.json").read().decode()
    assert names[0] == "coursehub-backup" and names[-1] == "manifest.json"
    for part in ("hub/jupyterhub.sqlite", f"courses/{COURSE}/gradebook.db", "homes/alice/"):
        assert any(n.startswith(part) for n in names), part
    assert '"alice"' in manifest and '"mode": "docker"' in manifest
    assert "[5/" in restored["backup_log"]  # progress, one line per step


def test_same_users_log_in_with_their_passwords(stack, restored):
    for name, password in PASSWORDS.items():
        assert Browser(stack).login(name, password), f"{name} cannot log in after restore"
    assert not Browser(stack).login("alice", "wrong-password-1")


def test_grades_export_identically(stack, restored, graded):
    assert stack.export_grades() == graded["grades"]


def test_exchange_has_the_released_assignment(stack, restored):
    outbound = f"/srv/coursehub/exchange/{COURSE}/outbound/{ASSIGNMENT}"
    listed = stack.hub_exec("ls", outbound, check=False)
    assert f"{ASSIGNMENT}.ipynb" in listed.stdout, listed.stderr


def test_student_home_is_back_with_its_owner(stack, restored, graded):
    assert set(graded["volumes"]) <= set(stack.volumes())
    browser = Browser(stack)
    assert browser.login("alice", PASSWORDS["alice"])
    spawn(stack, browser, "alice")
    assert stack.uid_of("alice") == graded["uid"]
    kept = stack.exec_as("alice", "sh", "-c", f"cat {HOME_FILE}; stat -c %u {HOME_FILE}")
    assert kept.stdout.split() == ["my", "own", "words", str(graded["uid"])], kept.stderr
    link = stack.exec_as("alice", "readlink", "/home/jovyan/shadow")
    assert link.stdout.strip() == "/etc/shadow"
    assert stack.exec_as("alice", "test", "-p", "/home/jovyan/pipe").returncode == 0
    notebook = f"/home/jovyan/{COURSE}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    assert stack.exec_as("alice", "test", "-f", notebook).returncode == 0
